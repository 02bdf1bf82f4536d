"""SQL of the buyer credit ledger: the wallet row every spend locks, lots and their append-only entries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.tables import CREDIT_ENTRY, CREDIT_LOT, CREDIT_WALLET, INVOICE
from invoicing.domain.credits import Entry, EntryKind, Lot


def lot_of(row: Mapping[Any, Any]) -> Lot:
    return Lot(
        id=row["id"],
        buyer_id=row["buyer_id"],
        invoice_id=row["invoice_id"],
        quantity=row["quantity"],
        remaining=row["remaining"],
        unit_price=row["unit_price"],
        currency=row["currency"],
        tier=row["tier"],
        expires_on=row["expires_on"],
        spendable=row["spendable"],
        created_at=row["created_at"],
    )


def entry_of(row: Mapping[Any, Any]) -> Entry:
    return Entry(
        lot_id=row["lot_id"],
        kind=EntryKind(row["kind"]),
        quantity=row["quantity"],
        factory_id=row["factory_id"],
        cycle=row["cycle"],
        entitlement_id=row["entitlement_id"],
        reverses=row["reverses"],
    )


async def open_wallet(session: AsyncSession, buyer_id: uuid.UUID) -> None:
    await session.execute(
        pg_insert(CREDIT_WALLET).values(buyer_id=buyer_id, created_at=datetime.now(UTC)).on_conflict_do_nothing()
    )


async def lock_wallet(session: AsyncSession, buyer_id: uuid.UUID) -> bool:
    """Lock the buyer's wallet row for this transaction: the second of two concurrent spends waits here and
    then sees the first one's entries. False when the buyer has no wallet (never bought credits)."""
    found = await session.execute(
        select(CREDIT_WALLET.c.buyer_id).where(CREDIT_WALLET.c.buyer_id == buyer_id).with_for_update()
    )
    return found.first() is not None


def _of_country(country: str) -> Any:
    """Lots bought from `country`'s programme (the country of the invoice that sold them)."""
    return CREDIT_LOT.c.invoice_id.in_(select(INVOICE.c.id).where(INVOICE.c.country == country))


async def lots(session: AsyncSession, buyer_id: uuid.UUID, *, country: str | None = None) -> list[Lot]:
    """The buyer's lots; only those of `country`'s programme when given."""
    stmt = select(CREDIT_LOT).where(CREDIT_LOT.c.buyer_id == buyer_id)
    if country is not None:
        stmt = stmt.where(_of_country(country))
    rows = await session.execute(stmt.order_by(CREDIT_LOT.c.created_at, CREDIT_LOT.c.id))
    return [lot_of(r) for r in rows.mappings()]


async def lots_of_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> list[Lot]:
    rows = await session.execute(select(CREDIT_LOT).where(CREDIT_LOT.c.invoice_id == invoice_id).with_for_update())
    return [lot_of(r) for r in rows.mappings()]


async def add_lot(session: AsyncSession, lot: Lot, *, by: str) -> None:
    await session.execute(
        insert(CREDIT_LOT).values(
            id=lot.id,
            buyer_id=lot.buyer_id,
            invoice_id=lot.invoice_id,
            quantity=lot.quantity,
            remaining=lot.remaining,
            unit_price=lot.unit_price,
            currency=lot.currency,
            tier=lot.tier,
            expires_on=lot.expires_on,
            spendable=lot.spendable,
            created_at=lot.created_at,
        )
    )
    await add_entry(session, lot.buyer_id, Entry(lot.id, EntryKind.PURCHASE, lot.quantity), by=by, remaining=None)


async def add_entry(session: AsyncSession, buyer_id: uuid.UUID, entry: Entry, *, by: str, remaining: int | None) -> int:
    """Append an entry (and bring its lot's remaining count to `remaining`, when given); its id."""
    entry_id: int = (
        await session.execute(
            insert(CREDIT_ENTRY)
            .values(
                buyer_id=buyer_id,
                lot_id=entry.lot_id,
                kind=entry.kind.value,
                quantity=entry.quantity,
                factory_id=entry.factory_id,
                cycle=entry.cycle,
                entitlement_id=entry.entitlement_id,
                reverses=entry.reverses,
                at=datetime.now(UTC),
                by_subject=by,
            )
            .returning(CREDIT_ENTRY.c.id)
        )
    ).scalar_one()
    if remaining is not None:
        await session.execute(update(CREDIT_LOT).where(CREDIT_LOT.c.id == entry.lot_id).values(remaining=remaining))
    return entry_id


async def make_spendable(session: AsyncSession, invoice_id: uuid.UUID, at: datetime) -> list[Lot]:
    rows = await session.execute(
        update(CREDIT_LOT)
        .where(CREDIT_LOT.c.invoice_id == invoice_id, CREDIT_LOT.c.spendable.is_(False))
        .values(spendable=True, spendable_at=at)
        .returning(*CREDIT_LOT.c)
    )
    return [lot_of(r) for r in rows.mappings()]


async def net_spends(session: AsyncSession, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int) -> int:
    """Spends on (factory, cycle) less their reversals: 1 when the cycle is already paid for."""
    total = (
        await session.execute(
            select(func.coalesce(func.sum(-CREDIT_ENTRY.c.quantity), 0)).where(
                CREDIT_ENTRY.c.buyer_id == buyer_id,
                CREDIT_ENTRY.c.factory_id == factory_id,
                CREDIT_ENTRY.c.cycle == cycle,
                CREDIT_ENTRY.c.kind.in_([EntryKind.SPEND.value, EntryKind.REVERSAL.value]),
            )
        )
    ).scalar_one()
    return int(total)


async def entry(session: AsyncSession, buyer_id: uuid.UUID, entry_id: int) -> tuple[Entry, bool] | None:
    """The entry and whether a reversal of it exists."""
    row = (
        (
            await session.execute(
                select(CREDIT_ENTRY).where(CREDIT_ENTRY.c.id == entry_id, CREDIT_ENTRY.c.buyer_id == buyer_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    reversed_ = (await session.execute(select(CREDIT_ENTRY.c.id).where(CREDIT_ENTRY.c.reverses == entry_id))).first()
    return entry_of(row), reversed_ is not None


async def entries(
    session: AsyncSession, buyer_id: uuid.UUID, *, limit: int = 500, country: str | None = None
) -> list[dict[str, Any]]:
    """The buyer's ledger entries; only those on lots of `country`'s programme when given."""
    stmt = select(CREDIT_ENTRY).where(CREDIT_ENTRY.c.buyer_id == buyer_id)
    if country is not None:
        stmt = stmt.where(CREDIT_ENTRY.c.lot_id.in_(select(CREDIT_LOT.c.id).where(_of_country(country))))
    rows = await session.execute(stmt.order_by(CREDIT_ENTRY.c.id).limit(limit))
    return [dict(r) for r in rows.mappings()]


async def all_entries(session: AsyncSession, buyer_id: uuid.UUID) -> list[Entry]:
    rows = await session.execute(select(CREDIT_ENTRY).where(CREDIT_ENTRY.c.buyer_id == buyer_id))
    return [entry_of(r) for r in rows.mappings()]


async def entry_row(session: AsyncSession, entry_id: int) -> dict[str, Any]:
    row = (await session.execute(select(CREDIT_ENTRY).where(CREDIT_ENTRY.c.id == entry_id))).mappings().one()
    return dict(row)
