"""Events the invoicing service publishes: invoices, credit notes, buyer credits and the entitlements they buy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import IntegrationEvent, Topic

ENTITLEMENT_TOPIC = Topic(
    name="invoicing.entitlement",
    key="factory id",
    publisher="invoicing",
    summary="Reporting cycles a buyer paid for or spent a credit on.",
)


class EntitlementPurchased(IntegrationEvent):
    """A buyer unlocked a factory's reporting cycle (one assessment report and its two progress reports)."""

    type: ClassVar[str] = "org.betterwork.invoicing.entitlement.purchased.v1"
    topic: ClassVar[Topic] = ENTITLEMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("partnerships",)

    entitlement_id: UUID
    buyer_id: UUID
    factory_id: UUID
    cycle: int = Field(ge=1)
    source: Literal["credit", "payment"]
    purchased_at: datetime


INVOICE_TOPIC = Topic(
    name="invoicing.invoice",
    key="invoice id",
    publisher="invoicing",
    summary="Invoices issued, paid, overdue, written off, and the credit notes that correct them.",
)
CREDITS_TOPIC = Topic(
    name="invoicing.credits",
    key="buyer id",
    publisher="invoicing",
    summary="Buyers' prepaid report credits that became spendable.",
)

CustomerKind = Literal["factory", "buyer"]
CurrencyCode = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code; amounts are integers in its minor unit.")
]
InvoiceStatus = Literal["issued", "partially_paid", "paid", "void", "written_off"]


class InvoiceFacts(IntegrationEvent):
    """What every event about one invoice carries: which invoice, whose, in which currency."""

    topic: ClassVar[Topic] = INVOICE_TOPIC
    aggregate_id_field: ClassVar[str] = "invoice_id"

    invoice_id: UUID
    number: str = Field(min_length=1, max_length=64, description="Gapless per issuer, document type and year.")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    customer_kind: CustomerKind
    factory_id: UUID | None = Field(default=None, description="Set when a factory is billed.")
    buyer_id: UUID | None = Field(default=None, description="Set when a buyer is billed.")
    currency: CurrencyCode


class InvoiceIssued(InvoiceFacts):
    """An invoice got its number and became immutable; it is due on `due_date`."""

    type: ClassVar[str] = "org.betterwork.invoicing.invoice.issued.v1"

    issuer: str = Field(description="Code of the legal entity that issued it.")
    purpose: Literal["services", "credits"]
    cycle: int | None = Field(default=None, ge=1, description="The factory cycle a service package is billed for.")
    total_minor: int = Field(ge=0)
    issue_date: date
    due_date: date
    issued_at: datetime


class InvoicePaid(InvoiceFacts):
    """Payments settled the invoice. `open_suspending_invoices` counts the billed factory's other invoices still
    unpaid after a `suspend_factory` step: when it is 0, a factory suspended for unpaid fees may be reactivated."""

    type: ClassVar[str] = "org.betterwork.invoicing.invoice.paid.v1"
    consumers: ClassVar[tuple[str, ...]] = ("registry",)

    total_minor: int = Field(ge=0)
    amount_paid_minor: int = Field(ge=0)
    amount_credited_minor: int = Field(ge=0)
    open_suspending_invoices: int = Field(ge=0)
    paid_at: datetime


OverdueAction = Literal["reminder", "hold_reports", "suspend_factory"]


class InvoiceOverdue(InvoiceFacts):
    """An unpaid invoice reached a step of its country's overdue policy (counted from the due date).

    `suspend_factory`: the registry suspends the billed factory (reason `unpaid_fees`) unless it already is;
    it reactivates it on `invoice.paid`, `invoice.written_off` or `credit_note.issued` for that factory with
    `open_suspending_invoices` 0. `hold_reports`: report release for the customer is held. Nothing already
    paid for (an entitlement, a spent credit) is taken back.
    """

    type: ClassVar[str] = "org.betterwork.invoicing.invoice.overdue.v1"
    consumers: ClassVar[tuple[str, ...]] = ("registry",)

    action: OverdueAction
    amount_due_minor: int = Field(ge=1)
    due_date: date
    days_past_due: int = Field(ge=1)
    detected_at: datetime


class InvoiceWrittenOff(InvoiceFacts):
    """The unpaid rest of the invoice will not be collected; it is no longer overdue."""

    type: ClassVar[str] = "org.betterwork.invoicing.invoice.written_off.v1"
    consumers: ClassVar[tuple[str, ...]] = ("registry",)

    amount_written_off_minor: int = Field(ge=1)
    open_suspending_invoices: int = Field(ge=0)
    written_off_at: datetime


class CreditNoteIssued(IntegrationEvent):
    """A credit note (own number series, type 381) credited the invoice `invoice_id`; `invoice_status` is the
    invoice's status afterwards (`void` when it cancelled an unpaid invoice whole)."""

    type: ClassVar[str] = "org.betterwork.invoicing.credit_note.issued.v1"
    topic: ClassVar[Topic] = INVOICE_TOPIC
    aggregate_id_field: ClassVar[str] = "invoice_id"
    consumers: ClassVar[tuple[str, ...]] = ("registry",)

    credit_note_id: UUID
    number: str
    invoice_id: UUID
    invoice_number: str
    invoice_status: InvoiceStatus
    country: str = Field(pattern=r"^[A-Z]{2}$")
    customer_kind: CustomerKind
    factory_id: UUID | None = None
    buyer_id: UUID | None = None
    currency: CurrencyCode
    amount_minor: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=500)
    open_suspending_invoices: int = Field(ge=0)
    issued_at: datetime


class CreditsPurchased(IntegrationEvent):
    """The invoice for a lot of report credits was paid: the credits are spendable from now on."""

    type: ClassVar[str] = "org.betterwork.invoicing.credits.purchased.v1"
    topic: ClassVar[Topic] = CREDITS_TOPIC
    aggregate_id_field: ClassVar[str] = "buyer_id"

    buyer_id: UUID
    lot_id: UUID
    invoice_id: UUID
    quantity: int = Field(ge=1)
    unit_price_minor: int = Field(ge=0)
    currency: CurrencyCode
    tier: str | None = Field(default=None, description="The volume tier charged, e.g. `10-20`.")
    expires_on: date | None = None
    spendable_at: datetime
