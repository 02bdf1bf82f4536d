"""Refunds due: what a customer paid on an invoice that was then credited in full (a cancelled assessment), owed
back to it until finance staff settle it, once, one of two ways:

- `refunded`: the money went back (the day, the method and the bank's or cashier's reference are kept);
- `set_off`: it pays another open invoice of the same customer in the same currency, as a payment allocated to
  that invoice, never more than the invoice still owes; what is left over stays on that payment, unallocated
  (money of the customer the programme holds, as with any payment beyond what it pays).

An open refund due is settled once: settling it again is refused, whichever way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from invoicing.domain.invoice import OPEN, CustomerKind, DocumentType, Invoice


class RefundRuleError(ValueError):
    """A settlement the refund due or the invoice named cannot take."""


class RefundStatus(StrEnum):
    OPEN = "open"
    REFUNDED = "refunded"
    SET_OFF = "set_off"


class RefundMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CHEQUE = "cheque"
    CASH = "cash"
    MOBILE_MONEY = "mobile_money"


@dataclass(frozen=True)
class RefundDue:
    id: uuid.UUID
    invoice_id: uuid.UUID
    credit_note_id: uuid.UUID
    customer_kind: CustomerKind
    customer_id: uuid.UUID
    country: str
    currency: str
    amount: int
    reason: str
    status: RefundStatus
    created_at: datetime
    created_by: str
    version: int = 1
    settled_at: datetime | None = None
    settled_by: str | None = None
    refunded_on: date | None = None
    method: RefundMethod | None = None
    reference: str | None = None
    set_off_invoice_id: uuid.UUID | None = None
    payment_id: uuid.UUID | None = None


def _check_open(refund: RefundDue) -> None:
    if refund.status is not RefundStatus.OPEN:
        raise RefundRuleError(f"this refund due was settled already ({refund.status})")


def refunded(refund: RefundDue, *, on: date, method: RefundMethod, reference: str, at: datetime, by: str) -> RefundDue:
    """The refund due, paid back to the customer."""
    _check_open(refund)
    return replace(
        refund,
        status=RefundStatus.REFUNDED,
        refunded_on=on,
        method=method,
        reference=reference,
        settled_at=at,
        settled_by=by,
        version=refund.version + 1,
    )


def set_off_amount(refund: RefundDue, invoice: Invoice) -> int:
    """What of the refund due pays `invoice` (at most what it owes); refused for an invoice it cannot pay."""
    _check_open(refund)
    if invoice.doc_type is not DocumentType.INVOICE or invoice.id == refund.invoice_id:
        raise RefundRuleError("a refund due is set off against another invoice of the customer")
    if (invoice.customer.kind, invoice.customer.id) != (refund.customer_kind, refund.customer_id):
        raise RefundRuleError("a refund due is set off only against an invoice of the same customer")
    if invoice.currency != refund.currency:
        raise RefundRuleError(f"the invoice is in {invoice.currency}, the refund due in {refund.currency}")
    if invoice.status not in OPEN or invoice.amount_due <= 0:
        raise RefundRuleError(f"a {invoice.status} invoice owes nothing to set off against")
    return min(refund.amount, invoice.amount_due)


def set_off(refund: RefundDue, *, invoice_id: uuid.UUID, payment_id: uuid.UUID, at: datetime, by: str) -> RefundDue:
    """The refund due, settled as the payment `payment_id` on the invoice `invoice_id`."""
    _check_open(refund)
    return replace(
        refund,
        status=RefundStatus.SET_OFF,
        set_off_invoice_id=invoice_id,
        payment_id=payment_id,
        settled_at=at,
        settled_by=by,
        version=refund.version + 1,
    )
