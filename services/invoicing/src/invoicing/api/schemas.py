"""Request and response bodies of the invoicing API. Inputs give amounts as decimal strings in the currency's
major unit (`"1400.00"`, checked against its exponent); outputs give integers in minor units (`*_minor`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from invoicing.domain.credits import Lot
from invoicing.domain.invoice import CustomerKind, DocumentType, Invoice, Purpose, Status
from invoicing.domain.money import MoneyError, parse_amount
from invoicing.domain.pricing import PricedLine, PriceItem, PriceListVersion, Service, Tier
from invoicing.domain.refunds import RefundDue, RefundMethod, RefundStatus
from invoicing.service.invoices import Billing, InvoiceView, LineRequest, today
from servicekit.edge import StrictInput

Country = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2.")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217.")]
Amount = Annotated[str, Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$", description="In the major unit: `1400.00`.")]


# ---- price lists ----------------------------------------------------------------------------------------------


class TierIn(StrictInput):
    min_quantity: int = Field(ge=1)
    max_quantity: int | None = Field(default=None, ge=1, description="None: and above.")
    unit_price: Amount


class PriceItemIn(StrictInput):
    service: Service
    description: str = Field(min_length=1, max_length=200)
    unit_price: Amount | None = None
    tiers: list[TierIn] = Field(default=[], max_length=20)


class PriceListCreate(StrictInput):
    country: Country
    currency: CurrencyCode
    effective_from: date
    items: list[PriceItemIn] = Field(min_length=1, max_length=20)
    group_discount_bps: int = Field(default=0, ge=0, le=10_000, description="500 = 5% off for a group.")
    group_min_factories: int = Field(default=5, ge=2, le=1000)
    reduced_tariffs: dict[str, int] = Field(default={}, description="Name -> basis points off.")

    def domain_items(self) -> list[PriceItem]:
        code = self.currency.upper()
        try:
            return [
                PriceItem(
                    service=i.service,
                    description=i.description,
                    unit_price=parse_amount(i.unit_price, code) if i.unit_price is not None else None,
                    tiers=tuple(
                        Tier(t.min_quantity, t.max_quantity, parse_amount(t.unit_price, code)) for t in i.tiers
                    ),
                )
                for i in self.items
            ]
        except MoneyError as exc:
            raise ValueError(str(exc)) from exc


class TierOut(BaseModel):
    label: str
    min_quantity: int
    max_quantity: int | None
    unit_price_minor: int


class PriceItemOut(BaseModel):
    service: Service
    description: str
    unit_price_minor: int | None
    tiers: list[TierOut]


class PriceListOut(BaseModel):
    id: uuid.UUID
    country: str
    currency: str
    effective_from: date
    items: list[PriceItemOut]
    group_discount_bps: int
    group_min_factories: int
    reduced_tariffs: dict[str, int]

    @classmethod
    def of(cls, v: PriceListVersion) -> PriceListOut:
        return cls(
            id=v.id,
            country=v.country,
            currency=v.currency,
            effective_from=v.effective_from,
            items=[
                PriceItemOut(
                    service=i.service,
                    description=i.description,
                    unit_price_minor=i.unit_price,
                    tiers=[
                        TierOut(
                            label=t.label,
                            min_quantity=t.min_quantity,
                            max_quantity=t.max_quantity,
                            unit_price_minor=t.unit_price,
                        )
                        for t in i.tiers
                    ],
                )
                for i in v.items.values()
            ],
            group_discount_bps=v.group_discount_bps,
            group_min_factories=v.group_min_factories,
            reduced_tariffs=dict(v.reduced_tariffs),
        )


# ---- invoices -------------------------------------------------------------------------------------------------


class BillingIn(StrictInput):
    name: str = Field(min_length=1, max_length=300)
    address: str | None = Field(default=None, max_length=500)
    country: Country

    def domain(self) -> Billing:
        return Billing(self.name, self.country.upper(), self.address)


class LineIn(StrictInput):
    service: Service
    quantity: int = Field(ge=1, le=100_000)
    description: str | None = Field(default=None, max_length=200)
    reduced_tariff: str | None = Field(default=None, max_length=64)


class InvoiceCreate(StrictInput):
    country: Country
    customer_kind: CustomerKind
    customer_id: uuid.UUID
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    currency: CurrencyCode | None = Field(default=None, description="The price list's currency when several exist.")
    billing: BillingIn | None = Field(default=None, description="For a customer invoicing has not heard of yet.")
    cycle: int | None = Field(default=None, ge=1)
    priced_on: date | None = Field(default=None, description="Price list date (default: today).")
    terms_days: int | None = Field(default=None, ge=0, le=365)

    def line_requests(self) -> list[LineRequest]:
        return [LineRequest(i.service, i.quantity, i.description, i.reduced_tariff) for i in self.lines]


class CreditNoteCreate(StrictInput):
    reason: str = Field(min_length=1, max_length=500)
    amount: Amount | None = Field(default=None, description="Default: everything still due (voids an unpaid invoice).")


class WriteOffIn(StrictInput):
    reason: str = Field(min_length=1, max_length=500)


class DiscountOut(BaseModel):
    reason: str
    basis_points: int
    amount_minor: int


class LineOut(BaseModel):
    service: Service
    description: str
    quantity: int
    unit_price_minor: int
    tier: str | None
    gross_minor: int
    discounts: list[DiscountOut]
    net_minor: int
    assessment_id: uuid.UUID | None = Field(default=None, description="The assessment a per-assessment line charges.")

    @classmethod
    def of(cls, line: PricedLine) -> LineOut:
        return cls(
            service=line.service,
            description=line.description,
            quantity=line.quantity,
            unit_price_minor=line.unit_price,
            tier=line.tier,
            gross_minor=line.gross,
            discounts=[
                DiscountOut(reason=d.reason, basis_points=d.basis_points, amount_minor=d.amount) for d in line.discounts
            ],
            net_minor=line.net,
            assessment_id=line.assessment_id,
        )


class PartyOut(BaseModel):
    kind: CustomerKind
    id: uuid.UUID
    name: str
    country: str
    address: str | None


class InvoiceOut(BaseModel):
    id: uuid.UUID
    doc_type: DocumentType
    type_code: str
    status: Status
    purpose: Purpose
    number: str | None
    country: str
    currency: str
    issuer: str
    customer: PartyOut
    lines: list[LineOut]
    total_minor: int
    amount_paid_minor: int
    amount_credited_minor: int
    amount_due_minor: int
    refund_due_minor: int = Field(description="Paid beyond what is left to pay after credit notes: owed back.")
    terms_days: int
    issue_date: date | None
    due_date: date | None
    overdue: bool
    days_past_due: int
    preceding_invoice_id: uuid.UUID | None
    preceding_number: str | None
    reason: str | None
    cycle: int | None
    assessment_id: uuid.UUID | None = Field(description="The assessment this invoice charges (per-assessment).")
    document_hash: str | None
    version: int
    created_at: datetime

    @classmethod
    def of(cls, i: Invoice) -> InvoiceOut:
        on = today()
        c = i.customer
        return cls(
            id=i.id,
            doc_type=i.doc_type,
            type_code=i.doc_type.type_code,
            status=i.status,
            purpose=i.purpose,
            number=i.number,
            country=i.country,
            currency=i.currency,
            issuer=i.issuer,
            customer=PartyOut(kind=c.kind, id=c.id, name=c.name, country=c.country, address=c.address),
            lines=[LineOut.of(line) for line in i.lines],
            total_minor=i.total,
            amount_paid_minor=i.amount_paid,
            amount_credited_minor=i.amount_credited,
            amount_due_minor=i.amount_due,
            refund_due_minor=i.refund_due,
            terms_days=i.terms_days,
            issue_date=i.issue_date,
            due_date=i.due_date,
            overdue=i.is_overdue(on),
            days_past_due=i.days_past_due(on),
            preceding_invoice_id=i.preceding_invoice_id,
            preceding_number=i.preceding_number,
            reason=i.reason,
            cycle=i.cycle,
            assessment_id=i.assessment_id,
            document_hash=i.document_hash,
            version=i.version,
            created_at=i.created_at,
        )


class AllocationOut(BaseModel):
    payment_id: uuid.UUID
    amount_minor: int
    received_on: date
    reference: str | None


class DunningStepOut(BaseModel):
    step: int
    action: str
    days_past_due: int
    taken_at: datetime


class RefundDueOut(BaseModel):
    """What the customer paid on an invoice that was then credited: owed back until finance staff settle it,
    refunded (day, method, reference) or set off against another invoice of the customer (the payment made)."""

    id: uuid.UUID
    invoice_id: uuid.UUID
    credit_note_id: uuid.UUID
    customer_kind: CustomerKind
    customer_id: uuid.UUID
    country: str
    amount_minor: int
    currency: str
    reason: str
    status: RefundStatus
    created_at: datetime
    settled_at: datetime | None
    settled_by: str | None
    refunded_on: date | None
    method: RefundMethod | None
    reference: str | None
    set_off_invoice_id: uuid.UUID | None
    payment_id: uuid.UUID | None
    version: int

    @classmethod
    def of(cls, r: RefundDue) -> RefundDueOut:
        return cls(
            id=r.id,
            invoice_id=r.invoice_id,
            credit_note_id=r.credit_note_id,
            customer_kind=r.customer_kind,
            customer_id=r.customer_id,
            country=r.country,
            amount_minor=r.amount,
            currency=r.currency,
            reason=r.reason,
            status=r.status,
            created_at=r.created_at,
            settled_at=r.settled_at,
            settled_by=r.settled_by,
            refunded_on=r.refunded_on,
            method=r.method,
            reference=r.reference,
            set_off_invoice_id=r.set_off_invoice_id,
            payment_id=r.payment_id,
            version=r.version,
        )


class RefundedIn(StrictInput):
    refunded_on: date = Field(description="The day the money went back to the customer.")
    method: RefundMethod
    reference: str = Field(min_length=1, max_length=200, description="The bank's or cashier's reference.")


class SetOffIn(StrictInput):
    invoice_id: uuid.UUID = Field(description="An open invoice of the same customer, in the same currency.")


class SetOffResult(BaseModel):
    refund_due: RefundDueOut
    invoice: InvoiceOut
    allocated_minor: int = Field(description="What the set-off paid on the invoice (at most what it owed).")
    unallocated_minor: int = Field(description="The rest, left unallocated on the payment.")


class InvoiceDetail(InvoiceOut):
    payments: list[AllocationOut]
    credit_notes: list[InvoiceOut]
    overdue_steps: list[DunningStepOut]
    refunds_due: list[RefundDueOut]

    @classmethod
    def of_view(cls, view: InvoiceView) -> InvoiceDetail:
        return cls(
            **InvoiceOut.of(view.invoice).model_dump(),
            payments=[
                AllocationOut(
                    payment_id=p["id"], amount_minor=p["amount"], received_on=p["received_on"], reference=p["reference"]
                )
                for p in view.payments
            ],
            credit_notes=[InvoiceOut.of(n) for n in view.credit_notes],
            overdue_steps=[
                DunningStepOut(**{k: d[k] for k in ("step", "action", "days_past_due", "taken_at")})
                for d in view.dunning
            ],
            refunds_due=[RefundDueOut.of(r) for r in view.refunds_due],
        )


class CreditNoteResult(BaseModel):
    invoice: InvoiceOut
    credit_note: InvoiceOut


class PaymentCreate(StrictInput):
    amount: Amount
    currency: CurrencyCode
    received_on: date
    reference: str | None = Field(default=None, max_length=200)
    invoice_id: uuid.UUID | None = Field(default=None, description="The invoice paid; else the customer's open ones.")
    customer_kind: CustomerKind | None = None
    customer_id: uuid.UUID | None = None


class PaymentOut(BaseModel):
    id: uuid.UUID
    amount_minor: int
    currency: str
    unallocated_minor: int
    allocations: list[dict[str, Any]]
    invoices: list[InvoiceOut]


# ---- wallet ---------------------------------------------------------------------------------------------------


class PurchaseCreate(StrictInput):
    quantity: int = Field(ge=1, le=10_000, description="Credits; the tier of this quantity prices every one.")
    country: Country = Field(description="The programme whose price list applies.")
    buyer_id: uuid.UUID | None = Field(default=None, description="Staff only: the buyer bought for.")
    billing: BillingIn | None = None


class LotOut(BaseModel):
    id: uuid.UUID
    invoice_id: uuid.UUID
    quantity: int
    remaining: int
    unit_price_minor: int
    currency: str
    tier: str | None
    expires_on: date | None
    spendable: bool

    @classmethod
    def of(cls, lot: Lot) -> LotOut:
        return cls(
            id=lot.id,
            invoice_id=lot.invoice_id,
            quantity=lot.quantity,
            remaining=lot.remaining,
            unit_price_minor=lot.unit_price,
            currency=lot.currency,
            tier=lot.tier,
            expires_on=lot.expires_on,
            spendable=lot.spendable,
        )


class PurchaseOut(BaseModel):
    invoice: InvoiceOut
    lot: LotOut


class SpendCreate(StrictInput):
    factory_id: uuid.UUID
    cycle: int = Field(ge=1, le=1000)
    buyer_id: uuid.UUID | None = Field(default=None, description="Staff only: whose credit is spent.")


class SpendOut(BaseModel):
    entry_id: int
    entitlement_id: uuid.UUID
    lot_id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int


class ReversalIn(StrictInput):
    reason: str = Field(min_length=1, max_length=500)


class EntryOut(BaseModel):
    id: int
    lot_id: uuid.UUID
    kind: str
    quantity: int
    factory_id: uuid.UUID | None
    cycle: int | None
    entitlement_id: uuid.UUID | None
    reverses: int | None
    at: datetime


class WalletOut(BaseModel):
    buyer_id: uuid.UUID
    balance: int = Field(description="Credits spendable today.")
    pending: int = Field(description="Credits waiting for their invoice to be paid.")
    lots: list[LotOut]
    entries: list[EntryOut]


# ---- cost recovery --------------------------------------------------------------------------------------------


class CostIn(StrictInput):
    currency: CurrencyCode
    amount: Amount
    note: str | None = Field(default=None, max_length=500)


class RateIn(StrictInput):
    currency: CurrencyCode
    rate: str = Field(pattern=r"^[0-9]{1,14}(\.[0-9]{1,10})?$", description="Reporting-currency units per unit.")
    as_of: date


class RecoveryOut(BaseModel):
    country: str
    year: int
    currency: str
    credits_revenue_minor: int
    services_revenue_minor: int
    revenue_minor: int
    cost_minor: int | None
    recovery_rate: str | None = Field(description="Revenue over cost, e.g. `0.3090` for 30.9%.")
    rates: dict[str, str]
