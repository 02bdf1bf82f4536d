"""SQL of a factory merge: advisory's records of the retired factory move to the survivor (issue 12, item 1).

Issued progress reports stay as issued (they are immutable); everything else follows the survivor. Plans and
report access are keyed by cycle, and assessments numbers the cycles of both factories again by date: they move
when its `cycles.renumbered` arrives, the rest when `factory.merged` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from advisory.adapters.tables import (
    ADVISORY_VISIT,
    COMMITTEE_MEETING,
    COMMITTEE_MEMBER,
    ITEM,
    PARTICIPANT,
    PLAN,
    REPORT_ACCESS,
    SCHEMA,
    TRAINING_SESSION,
    ZT_CASE,
)
from messaging.read_model import record_latest
from servicekit.audit import audit_table

_PARKED = 1_000_000  # a plan's cycle while the plans of a merge are renumbered


@dataclass(frozen=True)
class MergeResult:
    plans_moved: int
    items_moved: int
    items_left: int  # items of a question the survivor's plan of the same cycle already follows
    other_records_moved: int


async def move_records(session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID) -> int:
    """Committee, meetings, visits, training sessions and participants, cases: the survivor's now."""
    other = 0
    for table in (COMMITTEE_MEMBER, COMMITTEE_MEETING, ADVISORY_VISIT, TRAINING_SESSION, PARTICIPANT, ZT_CASE):
        result = await session.execute(
            update(table).where(table.c.factory_id == retired).values(factory_id=survivor).returning(table.c.factory_id)
        )
        other += len(result.all())
    return other


async def renumber_plans(
    session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID, moves: Mapping[tuple[uuid.UUID, int], int]
) -> MergeResult:
    """Plans of both factories under the survivor and the cycle numbers assessments gave them (`moves`; a cycle
    not named keeps its number). Two plans meeting on one cycle (only plans opened by hand, with no assessment)
    are joined: the items the kept plan does not follow yet move into it, the rest stay where they were."""
    rows = (
        await session.execute(
            select(PLAN.c.id, PLAN.c.factory_id, PLAN.c.cycle)
            .where(PLAN.c.factory_id.in_([retired, survivor]))
            .order_by(PLAN.c.factory_id != survivor, PLAN.c.cycle)
            .with_for_update()
        )
    ).all()
    if not rows:
        return MergeResult(0, 0, 0, 0)
    # out of the way first (the cycle is unique per factory): parked under numbers no plan reaches
    for offset, owner in ((_PARKED, retired), (2 * _PARKED, survivor)):
        await session.execute(
            update(PLAN)
            .where(PLAN.c.id.in_([r.id for r in rows if r.factory_id == owner]))
            .values(factory_id=retired, cycle=PLAN.c.cycle + offset)
        )
    plans_moved = items_moved = items_left = 0
    kept: dict[int, uuid.UUID] = {}
    for plan_id, factory_id, cycle in rows:
        target_cycle = moves.get((factory_id, cycle), cycle)
        target = kept.get(target_cycle)
        if target is None:
            kept[target_cycle] = plan_id
            await session.execute(
                update(PLAN).where(PLAN.c.id == plan_id).values(factory_id=survivor, cycle=target_cycle)
            )
            moved = await session.execute(
                update(ITEM).where(ITEM.c.plan_id == plan_id).values(factory_id=survivor).returning(ITEM.c.id)
            )
            plans_moved += int(factory_id == retired)
            items_moved += len(moved.all()) if factory_id == retired else 0
            continue
        duplicate = select(ITEM.c.question_code).where(ITEM.c.plan_id == target, ITEM.c.question_code.is_not(None))
        moved = await session.execute(
            update(ITEM)
            .where(
                ITEM.c.plan_id == plan_id,
                (ITEM.c.question_code.is_(None)) | (ITEM.c.question_code.not_in(duplicate.scalar_subquery())),
            )
            .values(plan_id=target, factory_id=survivor)
            .returning(ITEM.c.id)
        )
        items_moved += len(moved.all())
        if factory_id == retired:  # what is left of it stays where it was (a survivor's stays parked there)
            await session.execute(update(PLAN).where(PLAN.c.id == plan_id).values(cycle=cycle))
        items_left += len((await session.execute(select(ITEM.c.id).where(ITEM.c.plan_id == plan_id))).all())
    return MergeResult(plans_moved, items_moved, items_left, 0)


async def renumber_access(
    session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID, moves: Mapping[tuple[uuid.UUID, int], int]
) -> None:
    """Report-access decisions of both factories re-keyed by the new cycles; where two meet, the later holds."""
    taken = await session.execute(
        delete(REPORT_ACCESS).where(REPORT_ACCESS.c.factory_id.in_([retired, survivor])).returning(*REPORT_ACCESS.c)
    )
    for row in sorted(taken, key=lambda r: r.decided_at):
        await record_latest(
            session,
            REPORT_ACCESS,
            key={
                "buyer_id": row.buyer_id,
                "factory_id": survivor,
                "cycle": moves.get((row.factory_id, row.cycle), row.cycle),
            },
            values={"granted": row.granted},
            at_column="decided_at",
            at=row.decided_at,
        )


async def renumbering_recorded(session: AsyncSession, retired: uuid.UUID) -> bool:
    """Whether this merge's cycles were re-keyed already (its audit row is the record of it)."""
    audit = audit_table(SCHEMA)
    found = await session.scalar(
        select(literal(1)).where(
            audit.c.action == "factory.cycles_renumbered",
            audit.c.entity_type == "factory",
            audit.c.entity_id == str(retired),
        )
    )
    return found is not None
