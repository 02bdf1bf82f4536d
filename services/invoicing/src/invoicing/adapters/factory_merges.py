"""SQL of a factory merge: everything invoicing keys by factory moves from the retired id to the survivor."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.references import FactoryRef
from invoicing.adapters.tables import CREDIT_ENTRY, INVOICE, PAYMENT, REFUND_DUE, SCHEMA
from invoicing.domain.invoice import CustomerKind, Status
from servicekit.audit import audit_table


@dataclass(frozen=True)
class Moved:
    invoices: list[uuid.UUID]
    drafts: int
    payments: int
    refunds: int
    credit_spends: int


async def _count(session: AsyncSession, statement: Update) -> int:
    result = await session.execute(statement)
    count: int = cast(CursorResult[Any], result).rowcount
    return count


async def repoint(
    session: AsyncSession, retired_id: uuid.UUID, survivor: FactoryRef | None, survivor_id: uuid.UUID
) -> Moved:
    """Invoices, payments, refunds due and buyers' credit spends of the retired factory now name the survivor.

    Issued documents keep the name and address they were issued with (they are immutable); drafts take the
    survivor's, as they will be issued to it.
    """
    factory = CustomerKind.FACTORY.value
    moved = await session.execute(
        update(INVOICE)
        .where(INVOICE.c.customer_kind == factory, INVOICE.c.customer_id == retired_id)
        .values(customer_id=survivor_id, merged_from=retired_id, updated_at=datetime.now(UTC))
        .returning(INVOICE.c.id)
    )
    invoices = list(moved.scalars())
    drafts = 0
    if survivor is not None and invoices:
        drafts = await _count(
            session,
            update(INVOICE)
            .where(INVOICE.c.id.in_(invoices), INVOICE.c.status == Status.DRAFT.value)
            .values(customer_name=survivor.name, customer_country=survivor.country, customer_address=survivor.address),
        )
    payments = await _count(
        session,
        update(PAYMENT)
        .where(PAYMENT.c.customer_kind == factory, PAYMENT.c.customer_id == retired_id)
        .values(customer_id=survivor_id),
    )
    refunds = await _count(
        session,
        update(REFUND_DUE)
        .where(REFUND_DUE.c.customer_kind == factory, REFUND_DUE.c.customer_id == retired_id)
        .values(customer_id=survivor_id),
    )
    spends = await _count(
        session,
        update(CREDIT_ENTRY)
        .where(CREDIT_ENTRY.c.factory_id == retired_id)
        .values(factory_id=survivor_id, merged_from=retired_id),
    )
    return Moved(invoices, drafts, payments, refunds, spends)


@dataclass(frozen=True)
class Rekeyed:
    invoices: list[uuid.UUID]
    credit_entries: int


async def rekey_cycles(
    session: AsyncSession, retired_id: uuid.UUID, survivor_id: uuid.UUID, moves: Mapping[tuple[uuid.UUID, int], int]
) -> Rekeyed:
    """Invoices and credit entries of both records keyed by cycle take the cycle's new number.

    `moves` maps (the factory a cycle was counted for before the merge, its old number) to its new number. A row
    counted for the retired factory still carries its id (the merge is not applied yet) or names the survivor
    with `merged_from` (it is); every other row of the survivor was counted for the survivor. All rows are read
    before any is changed, so two cycles trading numbers do not meet halfway.
    """
    both = [retired_id, survivor_id]

    def origin(factory_id: uuid.UUID, merged_from: uuid.UUID | None) -> uuid.UUID:
        return retired_id if retired_id in (factory_id, merged_from) else survivor_id

    invoices = await session.execute(
        select(INVOICE.c.id, INVOICE.c.customer_id, INVOICE.c.merged_from, INVOICE.c.cycle).where(
            INVOICE.c.customer_kind == CustomerKind.FACTORY.value,
            INVOICE.c.customer_id.in_(both),
            INVOICE.c.cycle.is_not(None),
        )
    )
    invoice_moves = [
        (row.id, new)
        for row in invoices
        if (new := moves.get((origin(row.customer_id, row.merged_from), row.cycle))) not in (None, row.cycle)
    ]
    entries = await session.execute(
        select(CREDIT_ENTRY.c.id, CREDIT_ENTRY.c.factory_id, CREDIT_ENTRY.c.merged_from, CREDIT_ENTRY.c.cycle).where(
            CREDIT_ENTRY.c.factory_id.in_(both), CREDIT_ENTRY.c.cycle.is_not(None)
        )
    )
    entry_moves = [
        (row.id, new)
        for row in entries
        if (new := moves.get((origin(row.factory_id, row.merged_from), row.cycle))) not in (None, row.cycle)
    ]
    at = datetime.now(UTC)
    for invoice_id, cycle in invoice_moves:
        await session.execute(
            update(INVOICE)
            .where(INVOICE.c.id == invoice_id)
            .values(cycle=cycle, version=INVOICE.c.version + 1, updated_at=at)
        )
    for entry_id, cycle in entry_moves:
        await session.execute(update(CREDIT_ENTRY).where(CREDIT_ENTRY.c.id == entry_id).values(cycle=cycle))
    return Rekeyed([i for i, _ in invoice_moves], len(entry_moves))


async def renumbering_recorded(session: AsyncSession, retired_id: uuid.UUID) -> bool:
    """Whether this merge's cycles were re-keyed already (its audit row is the record of it)."""
    audit = audit_table(SCHEMA)
    found = await session.scalar(
        select(literal(1)).where(
            audit.c.action == "factory.cycles_renumbered",
            audit.c.entity_type == "factory",
            audit.c.entity_id == str(retired_id),
        )
    )
    return found is not None
