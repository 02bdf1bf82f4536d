"""SQL of price list versions: a version is stored whole (its items as JSON) and never changed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.tables import PRICE_LIST
from invoicing.domain.pricing import PriceItem, PriceListVersion, Service, Tier


def _item_values(item: PriceItem) -> dict[str, Any]:
    return {
        "description": item.description,
        "unit_price": item.unit_price,
        "tiers": [[t.min_quantity, t.max_quantity, t.unit_price] for t in item.tiers],
    }


def version_of(row: Mapping[Any, Any]) -> PriceListVersion:
    items = {
        Service(service): PriceItem(
            service=Service(service),
            description=data["description"],
            unit_price=data["unit_price"],
            tiers=tuple(Tier(lo, hi, price) for lo, hi, price in data["tiers"]),
        )
        for service, data in row["items"].items()
    }
    return PriceListVersion(
        id=row["id"],
        country=row["country"],
        currency=row["currency"],
        effective_from=row["effective_from"],
        items=items,
        group_discount_bps=row["group_discount_bps"],
        group_min_factories=row["group_min_factories"],
        reduced_tariffs=dict(row["reduced_tariffs"]),
    )


async def add(session: AsyncSession, version: PriceListVersion, *, by: str) -> None:
    await session.execute(
        insert(PRICE_LIST).values(
            id=version.id,
            country=version.country,
            currency=version.currency,
            effective_from=version.effective_from,
            items={s.value: _item_values(i) for s, i in version.items.items()},
            group_discount_bps=version.group_discount_bps,
            group_min_factories=version.group_min_factories,
            reduced_tariffs=dict(version.reduced_tariffs),
            created_at=datetime.now(UTC),
            created_by=by,
        )
    )


async def exists(session: AsyncSession, country: str, currency: str, effective_from: date) -> bool:
    found = await session.execute(
        select(PRICE_LIST.c.id).where(
            PRICE_LIST.c.country == country,
            PRICE_LIST.c.currency == currency,
            PRICE_LIST.c.effective_from == effective_from,
        )
    )
    return found.first() is not None


async def versions(session: AsyncSession, country: str, currency: str | None = None) -> list[PriceListVersion]:
    stmt = select(PRICE_LIST).where(PRICE_LIST.c.country == country)
    if currency:
        stmt = stmt.where(PRICE_LIST.c.currency == currency)
    rows = await session.execute(stmt.order_by(PRICE_LIST.c.effective_from.desc(), PRICE_LIST.c.currency))
    return [version_of(r) for r in rows.mappings()]


async def in_force(
    session: AsyncSession, country: str, on: date, currency: str | None = None
) -> PriceListVersion | None:
    """The latest version effective on `on` (of `currency`, when given)."""
    stmt = select(PRICE_LIST).where(PRICE_LIST.c.country == country, PRICE_LIST.c.effective_from <= on)
    if currency:
        stmt = stmt.where(PRICE_LIST.c.currency == currency)
    row = (await session.execute(stmt.order_by(PRICE_LIST.c.effective_from.desc()).limit(1))).mappings().first()
    return version_of(row) if row is not None else None


async def by_id(session: AsyncSession, version_id: uuid.UUID) -> PriceListVersion | None:
    row = (await session.execute(select(PRICE_LIST).where(PRICE_LIST.c.id == version_id))).mappings().first()
    return version_of(row) if row is not None else None
