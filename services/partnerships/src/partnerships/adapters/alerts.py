"""SQL of zero-tolerance alerts: store one, find a case's first parties, the latest alerts someone may see."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.adapters.tables import ALERT
from partnerships.domain.alerts import Alert


async def add(session: AsyncSession, alert: Alert) -> None:
    await session.execute(ALERT.insert().values(**asdict(alert)))


async def parties_of_case(session: AsyncSession, case_id: uuid.UUID) -> list[str]:
    """The protocol parties the case's first alert named (an update goes to the same parties)."""
    parties = (await session.execute(select(ALERT.c.parties).where(ALERT.c.case_id == case_id).limit(1))).scalar()
    return list(parties or ())


async def latest(
    session: AsyncSession,
    *,
    factory_id: uuid.UUID | None = None,
    country: str | None = None,
    buyer_id: uuid.UUID | None = None,
    limit: int = 200,
) -> list[Alert]:
    """The latest alerts, newest first, narrowed to a factory, a country and a buyer alerted (each if given)."""
    stmt = select(ALERT).order_by(ALERT.c.raised_at.desc()).limit(limit)
    if factory_id:
        stmt = stmt.where(ALERT.c.factory_id == factory_id)
    if country:
        stmt = stmt.where(ALERT.c.country == country)
    if buyer_id:
        stmt = stmt.where(literal(buyer_id) == any_(ALERT.c.buyer_ids))
    rows = await session.execute(stmt)
    return [Alert(**r) for r in rows.mappings()]
