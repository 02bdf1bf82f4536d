"""SQL of a factory merge: everything invoicing keys by factory moves from the retired id to the survivor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, update
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.references import FactoryRef
from invoicing.adapters.tables import CREDIT_ENTRY, INVOICE, PAYMENT, REFUND_DUE
from invoicing.domain.invoice import CustomerKind, Status


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
        .values(customer_id=survivor_id, updated_at=datetime.now(UTC))
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
        session, update(CREDIT_ENTRY).where(CREDIT_ENTRY.c.factory_id == retired_id).values(factory_id=survivor_id)
    )
    return Moved(invoices, drafts, payments, refunds, spends)
