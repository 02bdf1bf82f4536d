"""SQL of a factory merge: advisory's records of the retired factory move to the survivor (issue 12, item 1).

Issued progress reports stay as issued (they are immutable); everything else follows the survivor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from advisory.adapters.tables import (
    ADVISORY_VISIT,
    COMMITTEE_MEETING,
    COMMITTEE_MEMBER,
    ITEM,
    PARTICIPANT,
    PLAN,
    REPORT_ACCESS,
    TRAINING_SESSION,
    ZT_CASE,
)


@dataclass(frozen=True)
class MergeResult:
    plans_moved: int
    items_moved: int
    items_left: int  # items of a question the survivor's plan of the same cycle already follows
    other_records_moved: int


async def move_to_survivor(session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID) -> MergeResult:
    plans_moved = items_moved = items_left = 0
    retired_plans = (await session.execute(select(PLAN.c.id, PLAN.c.cycle).where(PLAN.c.factory_id == retired))).all()
    for plan_id, cycle in retired_plans:
        target = await session.scalar(select(PLAN.c.id).where(PLAN.c.factory_id == survivor, PLAN.c.cycle == cycle))
        if target is None:  # the survivor has no plan of this cycle: the whole plan moves
            await session.execute(update(PLAN).where(PLAN.c.id == plan_id).values(factory_id=survivor))
            moved = await session.execute(
                update(ITEM).where(ITEM.c.plan_id == plan_id).values(factory_id=survivor).returning(ITEM.c.id)
            )
            plans_moved += 1
            items_moved += len(moved.all())
            continue
        # Both have a plan of this cycle: the items the survivor's plan does not follow yet join it.
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
        left = await session.execute(select(ITEM.c.id).where(ITEM.c.plan_id == plan_id))
        items_left += len(left.all())
    other = 0
    for table in (COMMITTEE_MEMBER, COMMITTEE_MEETING, ADVISORY_VISIT, TRAINING_SESSION, PARTICIPANT, ZT_CASE):
        result = await session.execute(
            update(table).where(table.c.factory_id == retired).values(factory_id=survivor).returning(table.c.factory_id)
        )
        other += len(result.all())
    # Report access decided for the retired id counts for the survivor, unless the survivor has its own decision
    # for that buyer and cycle.
    own = REPORT_ACCESS.alias("own")
    await session.execute(
        delete(REPORT_ACCESS).where(
            REPORT_ACCESS.c.factory_id == retired,
            exists().where(
                own.c.factory_id == survivor,
                own.c.buyer_id == REPORT_ACCESS.c.buyer_id,
                own.c.cycle == REPORT_ACCESS.c.cycle,
            ),
        )
    )
    await session.execute(
        update(REPORT_ACCESS).where(REPORT_ACCESS.c.factory_id == retired).values(factory_id=survivor)
    )
    return MergeResult(plans_moved, items_moved, items_left, other)
