"""SQL of cost recovery: revenue recognised per currency, programme costs and exchange-rate snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import case, extract, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.tables import CREDIT_ENTRY, CREDIT_LOT, EXCHANGE_RATE, FACTORY_REF, INVOICE, PROGRAMME_COST
from invoicing.domain.credits import EntryKind
from invoicing.domain.invoice import DocumentType, Purpose, Status


async def credits_revenue(session: AsyncSession, country: str, year: int) -> dict[str, int]:
    """Credits spent on factories of `country` in `year`, at their lots' unit price (reversals subtract)."""
    value = -CREDIT_ENTRY.c.quantity * CREDIT_LOT.c.unit_price
    rows = await session.execute(
        select(CREDIT_LOT.c.currency, func.sum(value))
        .join(CREDIT_LOT, CREDIT_LOT.c.id == CREDIT_ENTRY.c.lot_id)
        .join(FACTORY_REF, FACTORY_REF.c.factory_id == CREDIT_ENTRY.c.factory_id)
        .where(
            CREDIT_ENTRY.c.kind.in_([EntryKind.SPEND.value, EntryKind.REVERSAL.value]),
            FACTORY_REF.c.country == country,
            extract("year", CREDIT_ENTRY.c.at) == year,
        )
        .group_by(CREDIT_LOT.c.currency)
    )
    return {code: int(total) for code, total in rows}


async def services_revenue(session: AsyncSession, country: str, year: int) -> dict[str, int]:
    """Services invoices issued in `year` less credit notes issued on them in `year`."""
    signed = case((INVOICE.c.doc_type == DocumentType.INVOICE.value, INVOICE.c.total), else_=-INVOICE.c.total)
    rows = await session.execute(
        select(INVOICE.c.currency, func.sum(signed))
        .where(
            INVOICE.c.country == country,
            INVOICE.c.purpose == Purpose.SERVICES.value,
            INVOICE.c.status != Status.DRAFT.value,
            extract("year", INVOICE.c.issue_date) == year,
        )
        .group_by(INVOICE.c.currency)
    )
    return {code: int(total) for code, total in rows}


async def cost(session: AsyncSession, country: str, year: int) -> dict[str, int]:
    rows = await session.execute(
        select(PROGRAMME_COST.c.currency, PROGRAMME_COST.c.amount).where(
            PROGRAMME_COST.c.country == country, PROGRAMME_COST.c.year == year
        )
    )
    return {code: int(amount) for code, amount in rows}


async def years_with_cost(session: AsyncSession, country: str) -> list[int]:
    rows = await session.execute(
        select(PROGRAMME_COST.c.year).where(PROGRAMME_COST.c.country == country).order_by(PROGRAMME_COST.c.year)
    )
    return list(rows.scalars())


async def set_cost(
    session: AsyncSession, *, country: str, year: int, currency: str, amount: int, note: str | None, by: str
) -> None:
    stmt = pg_insert(PROGRAMME_COST).values(
        country=country,
        year=year,
        currency=currency,
        amount=amount,
        note=note,
        entered_at=datetime.now(UTC),
        entered_by=by,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["country", "year"],
            set_={k: stmt.excluded[k] for k in ("currency", "amount", "note", "entered_at", "entered_by")},
        )
    )


async def rates(session: AsyncSession, year: int, to_currency: str) -> dict[str, Decimal]:
    rows = await session.execute(
        select(EXCHANGE_RATE.c.currency, EXCHANGE_RATE.c.rate).where(
            EXCHANGE_RATE.c.year == year, EXCHANGE_RATE.c.to_currency == to_currency
        )
    )
    return {code: Decimal(rate) for code, rate in rows}


async def set_rate(
    session: AsyncSession, *, year: int, currency: str, to_currency: str, rate: Decimal, as_of: date, by: str
) -> None:
    stmt = pg_insert(EXCHANGE_RATE).values(
        year=year,
        currency=currency,
        to_currency=to_currency,
        rate=rate,
        as_of=as_of,
        entered_at=datetime.now(UTC),
        entered_by=by,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["year", "currency", "to_currency"],
            set_={k: stmt.excluded[k] for k in ("rate", "as_of", "entered_at", "entered_by")},
        )
    )
