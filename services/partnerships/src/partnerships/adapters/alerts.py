"""SQL of alerts: store one, find a case's first parties, a page of the alerts someone may see."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.adapters.tables import ALERT
from partnerships.domain.alerts import Alert
from servicekit.pagination import PageParams, paginate, resolve_sort


async def add(session: AsyncSession, alert: Alert) -> None:
    await session.execute(ALERT.insert().values(**asdict(alert)))


async def parties_of_case(session: AsyncSession, case_id: uuid.UUID) -> list[str]:
    """The protocol parties the case's first alert named (an update goes to the same parties)."""
    parties = (await session.execute(select(ALERT.c.parties).where(ALERT.c.case_id == case_id).limit(1))).scalar()
    return list(parties or ())


async def page(
    session: AsyncSession,
    page: PageParams,
    *,
    factory_id: uuid.UUID | None = None,
    country: str | None = None,
    buyer_id: uuid.UUID | None = None,
    kind: str | None = None,
) -> tuple[list[Alert], str | None]:
    """One page of alerts, newest first by default, narrowed to a factory, a country, a buyer alerted and a kind
    (each if given)."""
    order = resolve_sort(page.sort, {"raised_at": (ALERT.c.raised_at, ALERT.c.id)}, "-raised_at")
    stmt = select(ALERT)
    if factory_id:
        stmt = stmt.where(ALERT.c.factory_id == factory_id)
    if country:
        stmt = stmt.where(ALERT.c.country == country)
    if buyer_id:
        stmt = stmt.where(literal(buyer_id) == any_(ALERT.c.buyer_ids))
    if kind:
        stmt = stmt.where(ALERT.c.kind == kind)
    rows, cursor = await paginate(session, stmt, order, page)
    return [Alert(**r._mapping) for r in rows], cursor
