"""SQL of applying the country pack at start: one process at a time seeds the pack's price list; the payment
terms in force are stored per country for the event handlers, which have no settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.tables import PAYMENT_TERMS

ANY_COUNTRY = "*"


async def lock_price_list_seed(session: AsyncSession) -> None:
    """Held until the transaction ends, so replicas starting together seed the price list once."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("invoicing:country-pack-price-list"))))


async def store_payment_terms(session: AsyncSession, country: str, days: int, at: datetime) -> None:
    """The terms this instance applies to `country` (`*`: an instance serving every country); the last start wins."""
    statement = pg_insert(PAYMENT_TERMS).values(country=country, days=days, set_at=at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PAYMENT_TERMS.c.country], set_={"days": statement.excluded.days, "set_at": at}
        )
    )


async def payment_terms(session: AsyncSession, country: str) -> int | None:
    """Days from issue to due date for `country`'s invoices (its own entry, else the instance-wide one)."""
    rows = await session.execute(
        select(PAYMENT_TERMS.c.country, PAYMENT_TERMS.c.days).where(PAYMENT_TERMS.c.country.in_([country, ANY_COUNTRY]))
    )
    found = {row.country: row.days for row in rows}
    days: int | None = found.get(country, found.get(ANY_COUNTRY))
    return days
