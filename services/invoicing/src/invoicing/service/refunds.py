"""Settling refunds due (rules in `domain/refunds.py`): finance staff of the refund's country list them, and
settle one once, as refunded (day, method, reference) or set off against another open invoice of the customer
(a payment allocated to it, through the same path as any payment: `invoice.paid` when it settles it).

A refund due the caller may not settle is answered 404, as if there were none: finance is the only audience.
Settling one already settled is a 409 and changes nothing, so a retried request cannot settle twice.
"""

from __future__ import annotations

import uuid
from datetime import date

from invoicing.adapters import invoices as invoice_repo
from invoicing.adapters import refunds as repo
from invoicing.adapters.refunds import RefundFilters
from invoicing.adapters.tables import SCHEMA
from invoicing.domain import invoice as rules
from invoicing.domain import refunds as refund_rules
from invoicing.domain.invoice import CustomerKind, Invoice, InvoiceRuleError
from invoicing.domain.refunds import RefundDue, RefundMethod, RefundRuleError, RefundStatus
from invoicing.service.access import check_finance
from invoicing.service.issuing import now, settle
from invoicing.settings import InvoicingSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Problem
from servicekit.pagination import PageParams


def _may_settle(principal: Principal, settings: InvoicingSettings, country: str) -> bool:
    try:
        check_finance(principal, settings, country)
    except Problem:
        return False
    return True


async def _settleable(
    uow: UnitOfWork, principal: Principal, settings: InvoicingSettings, refund_id: uuid.UUID, *, for_update: bool
) -> RefundDue:
    refund = await repo.load(uow.session, refund_id, for_update=for_update)
    if refund is None or not _may_settle(principal, settings, refund.country):
        raise NotFound(f"No refund due {refund_id}.")
    return refund


async def search(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    status: RefundStatus | None,
    customer_kind: CustomerKind | None,
    customer_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[list[RefundDue], str | None]:
    """The refunds due of the caller's country (every country for an admin), filtered, cursor-paged."""
    country = None if principal.is_admin else principal.staff_country
    if not principal.is_admin:
        check_finance(principal, settings, country or "")
    filters = RefundFilters(country=country, status=status, customer_kind=customer_kind, customer_id=customer_id)
    return await repo.search(uow.session, filters, page)


async def get(uow: UnitOfWork, *, principal: Principal, settings: InvoicingSettings, refund_id: uuid.UUID) -> RefundDue:
    return await _settleable(uow, principal, settings, refund_id, for_update=False)


def _refused(refund: RefundDue, exc: ValueError) -> Conflict:
    return Conflict(str(exc), current_status=refund.status.value)


async def mark_refunded(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    refund_id: uuid.UUID,
    refunded_on: date,
    method: RefundMethod,
    reference: str,
) -> RefundDue:
    """The money went back to the customer: the refund due is settled as refunded."""
    refund = await _settleable(uow, principal, settings, refund_id, for_update=True)
    try:
        settled = refund_rules.refunded(
            refund, on=refunded_on, method=method, reference=reference, at=now(), by=principal.subject
        )
    except RefundRuleError as exc:
        raise _refused(refund, exc) from exc
    await repo.save_settlement(uow.session, settled)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="refund.refunded",
        entity_type="refund_due",
        entity_id=str(refund.id),
        details={
            "invoice_id": str(refund.invoice_id),
            "amount": refund.amount,
            "currency": refund.currency,
            "refunded_on": refunded_on.isoformat(),
            "method": method.value,
            "reference": reference,
        },
    )
    await uow.commit()
    return settled


async def set_off(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    refund_id: uuid.UUID,
    invoice_id: uuid.UUID,
) -> tuple[RefundDue, Invoice, int]:
    """The refund due pays another open invoice of the customer: a payment of the refund's amount, allocated to
    that invoice up to what it owes, the rest left unallocated on the payment. The settled refund, the invoice
    and the amount allocated."""
    refund = await _settleable(uow, principal, settings, refund_id, for_update=True)
    invoice = await invoice_repo.load(uow.session, invoice_id, for_update=True)
    if invoice is None or not _may_settle(principal, settings, invoice.country):
        raise NotFound(f"No invoice {invoice_id}.")
    payment_id, at = uuid.uuid4(), now()
    try:
        amount = refund_rules.set_off_amount(refund, invoice)
        paid = rules.pay(invoice, amount)
        settled = refund_rules.set_off(
            refund, invoice_id=invoice.id, payment_id=payment_id, at=at, by=principal.subject
        )
    except (RefundRuleError, InvoiceRuleError) as exc:
        raise _refused(refund, exc) from exc
    await invoice_repo.add_payment(
        uow.session,
        payment_id=payment_id,
        values={
            "country": invoice.country,
            "currency": invoice.currency,
            "amount": refund.amount,
            "unallocated": refund.amount - amount,
            "customer_kind": refund.customer_kind.value,
            "customer_id": refund.customer_id,
            "received_on": at.date(),
            "reference": f"Set-off of refund due {refund.id}",
            "recorded_at": at,
            "recorded_by": principal.subject,
        },
        allocations=[(invoice.id, amount)],
    )
    await invoice_repo.save(uow.session, paid)
    await settle(uow, paid)
    await repo.save_settlement(uow.session, settled)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="refund.set_off",
        entity_type="refund_due",
        entity_id=str(refund.id),
        details={
            "invoice_id": str(refund.invoice_id),
            "set_off_invoice_id": str(invoice.id),
            "payment_id": str(payment_id),
            "amount": refund.amount,
            "allocated": amount,
            "unallocated": refund.amount - amount,
            "currency": refund.currency,
        },
    )
    await uow.commit()
    return settled, paid, amount
