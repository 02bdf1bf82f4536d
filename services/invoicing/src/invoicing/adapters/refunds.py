"""SQL of refunds due: read them (one, an invoice's, a filtered page) and write a settlement back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.tables import REFUND_DUE
from invoicing.domain.invoice import CustomerKind
from invoicing.domain.refunds import RefundDue, RefundMethod, RefundStatus
from servicekit.pagination import PageParams, paginate, resolve_sort

_SORTS = {"created_at": (REFUND_DUE.c.created_at, REFUND_DUE.c.id)}


def refund_of(row: Mapping[Any, Any]) -> RefundDue:
    return RefundDue(
        id=row["id"],
        invoice_id=row["invoice_id"],
        credit_note_id=row["credit_note_id"],
        customer_kind=CustomerKind(row["customer_kind"]),
        customer_id=row["customer_id"],
        country=row["country"],
        currency=row["currency"],
        amount=row["amount"],
        reason=row["reason"],
        status=RefundStatus(row["status"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        version=row["version"],
        settled_at=row["settled_at"],
        settled_by=row["settled_by"],
        refunded_on=row["refunded_on"],
        method=RefundMethod(row["method"]) if row["method"] else None,
        reference=row["reference"],
        set_off_invoice_id=row["set_off_invoice_id"],
        payment_id=row["payment_id"],
    )


async def load(session: AsyncSession, refund_id: uuid.UUID, *, for_update: bool = False) -> RefundDue | None:
    stmt = select(REFUND_DUE).where(REFUND_DUE.c.id == refund_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return refund_of(row) if row is not None else None


async def of_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> list[RefundDue]:
    stmt = select(REFUND_DUE).where(REFUND_DUE.c.invoice_id == invoice_id).order_by(REFUND_DUE.c.created_at)
    return [refund_of(row) for row in (await session.execute(stmt)).mappings()]


@dataclass(frozen=True)
class RefundFilters:
    country: str | None = None  # None: every country (admins)
    status: RefundStatus | None = None
    customer_kind: CustomerKind | None = None
    customer_id: uuid.UUID | None = None


async def search(session: AsyncSession, filters: RefundFilters, page: PageParams) -> tuple[list[RefundDue], str | None]:
    """Refunds due, filtered, cursor-paged (oldest first by default: the longest owed come first)."""
    order = resolve_sort(page.sort, _SORTS, "created_at")
    conditions: list[Any] = []
    if filters.country:
        conditions.append(REFUND_DUE.c.country == filters.country)
    if filters.status:
        conditions.append(REFUND_DUE.c.status == filters.status.value)
    if filters.customer_kind:
        conditions.append(REFUND_DUE.c.customer_kind == filters.customer_kind.value)
    if filters.customer_id:
        conditions.append(REFUND_DUE.c.customer_id == filters.customer_id)
    rows, cursor = await paginate(session, select(REFUND_DUE).where(*conditions), order, page)
    return [refund_of(row._mapping) for row in rows], cursor


async def save_settlement(session: AsyncSession, refund: RefundDue) -> None:
    """Write the settlement of a refund due that was open (loaded for update by the caller)."""
    await session.execute(
        update(REFUND_DUE)
        .where(REFUND_DUE.c.id == refund.id, REFUND_DUE.c.status == RefundStatus.OPEN.value)
        .values(
            status=refund.status.value,
            settled_at=refund.settled_at,
            settled_by=refund.settled_by,
            refunded_on=refund.refunded_on,
            method=refund.method.value if refund.method else None,
            reference=refund.reference,
            set_off_invoice_id=refund.set_off_invoice_id,
            payment_id=refund.payment_id,
            version=refund.version,
        )
    )
