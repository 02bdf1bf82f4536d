"""SQL of committees (members, meetings) and advisory visits: returns domain records and plain rows for reading."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from advisory.adapters.tables import ADVISORY_VISIT, COMMITTEE_MEETING, COMMITTEE_MEMBER, ITEM
from advisory.domain.committee import Member, Selection, Sex, Side


def _member(row: Mapping[Any, Any]) -> Member:
    values = {k: row[k] for k in Member.__dataclass_fields__}
    values.update(side=Side(row["side"]), selection=Selection(row["selection"]), sex=Sex(row["sex"]))
    return Member(**values)


async def add_member(session: AsyncSession, member: Member, *, created_at: Any, created_by: str) -> None:
    row = asdict(member)
    row.update(side=member.side.value, selection=member.selection.value, sex=member.sex.value)
    await session.execute(COMMITTEE_MEMBER.insert().values(**row, created_at=created_at, created_by=created_by))


async def members(session: AsyncSession, factory_id: uuid.UUID) -> list[Member]:
    stmt = (
        select(COMMITTEE_MEMBER)
        .where(COMMITTEE_MEMBER.c.factory_id == factory_id)
        .order_by(COMMITTEE_MEMBER.c.side, COMMITTEE_MEMBER.c.term_start, COMMITTEE_MEMBER.c.id)
    )
    return [_member(r) for r in (await session.execute(stmt)).mappings()]


async def end_term(session: AsyncSession, member_id: uuid.UUID, factory_id: uuid.UUID, term_end: Any) -> bool:
    result = await session.execute(
        COMMITTEE_MEMBER.update()
        .where(COMMITTEE_MEMBER.c.id == member_id, COMMITTEE_MEMBER.c.factory_id == factory_id)
        .values(term_end=term_end)
        .returning(COMMITTEE_MEMBER.c.id)
    )
    return result.first() is not None


async def add_meeting(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(COMMITTEE_MEETING.insert().values(**row))


async def meetings(session: AsyncSession, factory_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
    stmt = (
        select(COMMITTEE_MEETING)
        .where(COMMITTEE_MEETING.c.factory_id == factory_id)
        .order_by(COMMITTEE_MEETING.c.meeting_date.desc(), COMMITTEE_MEETING.c.id)
        .limit(limit)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def add_visit(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(ADVISORY_VISIT.insert().values(**row))


async def visits(session: AsyncSession, factory_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
    stmt = (
        select(ADVISORY_VISIT)
        .where(ADVISORY_VISIT.c.factory_id == factory_id)
        .order_by(ADVISORY_VISIT.c.visit_date.desc(), ADVISORY_VISIT.c.id)
        .limit(limit)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def items_of_factory(session: AsyncSession, factory_id: uuid.UUID, item_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `item_ids` are items of the factory's plans."""
    if not item_ids:
        return set()
    rows = await session.execute(select(ITEM.c.id).where(ITEM.c.factory_id == factory_id, ITEM.c.id.in_(item_ids)))
    return {r[0] for r in rows}
