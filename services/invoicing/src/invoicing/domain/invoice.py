"""Invoices and credit notes: the state machine, totals, payments and their allocation.

draft (no number, editable) -> issued (numbered in the issuing transaction, document rendered and hashed,
immutable) -> partially_paid -> paid. Before any payment an invoice is voided only by a credit note for its
whole amount, a document of its own number series that references it; a partial credit note lowers what is
due. An unpaid remainder may be written off (its own state). A charge whose service is called off (a cancelled
assessment) is credited in full: void when nothing was paid, otherwise settled, with what was paid owed back
to the customer (`refund_due`). Overdue is not a state: it is derived from the
due date and what is still due, so it can never disagree with them (Stripe's and Kill Bill's lessons).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from invoicing.domain.pricing import PricedLine


class InvoiceRuleError(ValueError):
    """A change the invoice's state does not allow (the API answers 409)."""


class DocumentType(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def type_code(self) -> str:
        """UNTDID 1001 document type code (EN 16931 BT-3)."""
        return "380" if self is DocumentType.INVOICE else "381"


class Status(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    WRITTEN_OFF = "written_off"


OPEN = frozenset({Status.ISSUED, Status.PARTIALLY_PAID})


class Purpose(StrEnum):
    SERVICES = "services"  # programme services billed to a factory or a buyer
    CREDITS = "credits"  # a buyer's purchase of report credits


class CustomerKind(StrEnum):
    FACTORY = "factory"
    BUYER = "buyer"


@dataclass(frozen=True)
class Party:
    kind: CustomerKind
    id: uuid.UUID
    name: str
    country: str
    address: str | None = None


@dataclass(frozen=True)
class Invoice:
    id: uuid.UUID
    doc_type: DocumentType
    status: Status
    purpose: Purpose
    country: str
    currency: str
    issuer: str  # issuing entity code
    customer: Party
    lines: tuple[PricedLine, ...]
    created_at: datetime
    created_by: str
    terms_days: int = 30
    number: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    amount_paid: int = 0
    amount_credited: int = 0
    preceding_invoice_id: uuid.UUID | None = None  # on a credit note: the invoice it credits
    preceding_number: str | None = None
    reason: str | None = None
    cycle: int | None = None  # the factory cycle a service package is billed for
    price_list_id: uuid.UUID | None = None
    document_hash: str | None = None
    version: int = 1

    @property
    def total(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def amount_due(self) -> int:
        if self.doc_type is DocumentType.CREDIT_NOTE or self.status not in OPEN:
            return 0
        return self.total - self.amount_paid - self.amount_credited

    @property
    def assessment_id(self) -> uuid.UUID | None:
        """The assessment a per-assessment charge is for (its line links to it)."""
        return next((line.assessment_id for line in self.lines if line.assessment_id is not None), None)

    @property
    def refund_due(self) -> int:
        """What the customer paid beyond what is left to pay after credit notes: owed back to it."""
        if self.doc_type is DocumentType.CREDIT_NOTE:
            return 0
        return max(0, self.amount_paid + self.amount_credited - self.total)

    def is_overdue(self, on: date) -> bool:
        return self.status in OPEN and self.due_date is not None and self.due_date < on and self.amount_due > 0

    def days_past_due(self, on: date) -> int:
        return (on - self.due_date).days if self.is_overdue(on) and self.due_date else 0


def draft(
    *,
    purpose: Purpose,
    country: str,
    currency: str,
    issuer: str,
    customer: Party,
    lines: Sequence[PricedLine],
    created_at: datetime,
    created_by: str,
    terms_days: int = 30,
    cycle: int | None = None,
    price_list_id: uuid.UUID | None = None,
) -> Invoice:
    """A new draft: no number yet, so dropping it leaves no gap."""
    if not lines:
        raise InvoiceRuleError("an invoice has at least one line")
    if not 0 <= terms_days <= 365:
        raise InvoiceRuleError("payment terms are between 0 and 365 days")
    return Invoice(
        id=uuid.uuid4(),
        doc_type=DocumentType.INVOICE,
        status=Status.DRAFT,
        purpose=purpose,
        country=country,
        currency=currency,
        issuer=issuer,
        customer=customer,
        lines=tuple(lines),
        created_at=created_at,
        created_by=created_by,
        terms_days=terms_days,
        cycle=cycle,
        price_list_id=price_list_id,
    )


def check_issuable(invoice: Invoice) -> None:
    """Refuse before a number is drawn: only a draft with something to charge is issued."""
    if invoice.status is not Status.DRAFT:
        raise InvoiceRuleError(f"only a draft is issued; this one is {invoice.status}")
    if invoice.total <= 0:
        raise InvoiceRuleError("an invoice for nothing is not issued")


def issue(invoice: Invoice, *, number: str, issue_date: date, document_hash: str) -> Invoice:
    check_issuable(invoice)
    return replace(
        invoice,
        status=Status.ISSUED,
        number=number,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=invoice.terms_days),
        document_hash=document_hash,
        version=invoice.version + 1,
    )


def pay(invoice: Invoice, amount: int) -> Invoice:
    """Apply part or all of a payment; more than is due is refused (allocation decides what goes where)."""
    if invoice.status not in OPEN:
        raise InvoiceRuleError(f"a {invoice.status} invoice takes no payment")
    if not 0 < amount <= invoice.amount_due:
        raise InvoiceRuleError(f"a payment here is between 1 and {invoice.amount_due} minor units")
    paid = invoice.amount_paid + amount
    settled = paid + invoice.amount_credited == invoice.total
    return replace(
        invoice,
        amount_paid=paid,
        status=Status.PAID if settled else Status.PARTIALLY_PAID,
        version=invoice.version + 1,
    )


def credit(invoice: Invoice, amount: int) -> Invoice:
    """The credited invoice after a credit note of `amount`: void when it cancels an unpaid invoice whole."""
    if invoice.doc_type is not DocumentType.INVOICE or invoice.status not in OPEN:
        raise InvoiceRuleError(f"a credit note applies to an issued, unpaid invoice; this one is {invoice.status}")
    if not 0 < amount <= invoice.amount_due:
        raise InvoiceRuleError(f"a credit note here is between 1 and {invoice.amount_due} minor units")
    credited = invoice.amount_credited + amount
    if invoice.amount_paid == 0 and credited == invoice.total:
        status = Status.VOID
    elif invoice.amount_paid + credited == invoice.total:
        status = Status.PAID
    else:
        status = invoice.status
    return replace(invoice, amount_credited=credited, status=status, version=invoice.version + 1)


def credit_in_full(invoice: Invoice) -> tuple[Invoice, int]:
    """The invoice after a credit note for everything not yet credited, and that amount (the service was called
    off). Unpaid, it is void; paid in part or in full, it is settled and what was paid is owed back (`refund_due`)."""
    if invoice.doc_type is not DocumentType.INVOICE or invoice.status not in {*OPEN, Status.PAID}:
        raise InvoiceRuleError(f"only an issued or paid invoice is credited in full; this one is {invoice.status}")
    amount = invoice.total - invoice.amount_credited
    if amount <= 0:
        raise InvoiceRuleError("this invoice is credited in full already")
    status = Status.VOID if invoice.amount_paid == 0 else Status.PAID
    return replace(invoice, amount_credited=invoice.total, status=status, version=invoice.version + 1), amount


def credit_note_for(
    invoice: Invoice, *, amount: int, reason: str, lines: Sequence[PricedLine], created_at: datetime, created_by: str
) -> Invoice:
    """The credit note document (numbered when issued, in its own series) referencing `invoice`."""
    if sum(line.net for line in lines) != amount:
        raise InvoiceRuleError("the credit note's lines add up to its amount")
    return Invoice(
        id=uuid.uuid4(),
        doc_type=DocumentType.CREDIT_NOTE,
        status=Status.DRAFT,
        purpose=invoice.purpose,
        country=invoice.country,
        currency=invoice.currency,
        issuer=invoice.issuer,
        customer=invoice.customer,
        lines=tuple(lines),
        created_at=created_at,
        created_by=created_by,
        terms_days=0,
        preceding_invoice_id=invoice.id,
        preceding_number=invoice.number,
        reason=reason,
        cycle=invoice.cycle,
    )


def write_off(invoice: Invoice) -> Invoice:
    if invoice.status not in OPEN:
        raise InvoiceRuleError(f"only an issued, unpaid invoice is written off; this one is {invoice.status}")
    if invoice.amount_due <= 0:
        raise InvoiceRuleError("nothing is due on this invoice, so there is nothing to write off")
    return replace(invoice, status=Status.WRITTEN_OFF, version=invoice.version + 1)


def allocate_payment(amount: int, invoices: Sequence[Invoice]) -> tuple[list[tuple[uuid.UUID, int]], int]:
    """Spread a payment over open invoices, earliest due first: [(invoice id, amount)] and what is left over."""
    if amount <= 0:
        raise InvoiceRuleError("a payment is positive")
    allocations, left = [], amount
    for invoice in sorted(invoices, key=lambda i: (i.due_date or date.max, i.number or "", str(i.id))):
        if left == 0:
            break
        take = min(left, invoice.amount_due)
        if take > 0:
            allocations.append((invoice.id, take))
            left -= take
    return allocations, left
