"""SQL of applying the country pack at start: one process at a time seeds the pack's price list."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def lock_price_list_seed(session: AsyncSession) -> None:
    """Held until the transaction ends, so replicas starting together seed the price list once."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("invoicing:country-pack-price-list"))))
