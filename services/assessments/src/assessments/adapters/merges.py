"""SQL of a factory merge: the assessments of two factories as the renumbering needs them, and every row keyed
by the retired factory moved to the survivor (assessments, zero-tolerance cases, SLCP imports, report access)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.report_access import record
from assessments.adapters.tables import ASSESSMENT, REPORT_ACCESS, SLCP_IMPORT, ZT_CASE
from assessments.domain.lifecycle import Status
from assessments.domain.merge import CycleMember, Renumbering


async def members(session: AsyncSession, factory_ids: list[uuid.UUID]) -> list[CycleMember]:
    """Every assessment of the factories, cancelled ones included, locked for the merge."""
    rows = await session.execute(
        sa.select(
            ASSESSMENT.c.id, ASSESSMENT.c.factory_id, ASSESSMENT.c.cycle, ASSESSMENT.c.start_date,
            ASSESSMENT.c.created_at, ASSESSMENT.c.status,
        )
        .where(ASSESSMENT.c.factory_id.in_(factory_ids))
        .with_for_update()
    )  # fmt: skip
    return [
        CycleMember(r.id, r.factory_id, r.cycle, r.start_date, r.created_at, r.status == Status.CANCELLED.value)
        for r in rows
    ]


async def move_assessments(session: AsyncSession, survivor: uuid.UUID, renumbering: Renumbering) -> None:
    """Each assessment under the survivor with its new cycle (its id, findings and history stay)."""
    if not renumbering.assessments:
        return
    cycle = sa.case(
        *((ASSESSMENT.c.id == aid, new) for aid, new in renumbering.assessments.items()), else_=ASSESSMENT.c.cycle
    )
    await session.execute(
        sa.update(ASSESSMENT)
        .where(ASSESSMENT.c.id.in_(list(renumbering.assessments)))
        .values(factory_id=survivor, cycle=cycle)
    )


async def move_factory_rows(session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID) -> None:
    """Zero-tolerance cases and SLCP imports of the retired factory now belong to the survivor."""
    for table in (ZT_CASE, SLCP_IMPORT):
        await session.execute(sa.update(table).where(table.c.factory_id == retired).values(factory_id=survivor))


async def move_report_access(
    session: AsyncSession, retired: uuid.UUID, survivor: uuid.UUID, renumbering: Renumbering
) -> None:
    """Decisions of both factories re-keyed by the new cycles; where two meet, the later decision holds."""
    taken = await session.execute(
        sa.delete(REPORT_ACCESS).where(REPORT_ACCESS.c.factory_id.in_([retired, survivor])).returning(*REPORT_ACCESS.c)
    )
    decisions: list[Any] = sorted(taken, key=lambda r: r.decided_at)
    for row in decisions:
        cycle = renumbering.cycles.get((row.factory_id, row.cycle), row.cycle)
        await record(session, buyer_id=row.buyer_id, factory_id=survivor, cycle=cycle, granted=row.granted,
                     at=row.decided_at)  # fmt: skip
