"""Recording a payment: allocate it to the customer's open invoices (or the one named), earliest due first.

What cannot be allocated stays on the payment as unallocated (a prepayment finance staff can see), never
silently added to an invoice. Each invoice a payment settles sets off what paying it means (`settle`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from invoicing.adapters import invoices as repo
from invoicing.adapters.tables import SCHEMA
from invoicing.domain import invoice as rules
from invoicing.domain.invoice import CustomerKind, Invoice, InvoiceRuleError
from invoicing.domain.money import MoneyError, parse_amount
from invoicing.service.access import check_finance
from invoicing.service.issuing import now, settle
from invoicing.settings import InvoicingSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable


@dataclass(frozen=True)
class PaymentRequest:
    amount: str  # in the currency's major unit: "1400.00"
    currency: str
    received_on: date
    reference: str | None = None
    invoice_id: uuid.UUID | None = None
    customer_kind: CustomerKind | None = None
    customer_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RecordedPayment:
    id: uuid.UUID
    amount: int
    currency: str
    unallocated: int
    allocations: list[tuple[uuid.UUID, int]]
    invoices: list[Invoice]


async def _invoices_to_pay(uow: UnitOfWork, request: PaymentRequest) -> list[Invoice]:
    if request.invoice_id is not None:
        ids = [request.invoice_id]
    elif request.customer_kind is not None and request.customer_id is not None:
        ids = await repo.open_invoice_ids(uow.session, request.customer_kind, request.customer_id, request.currency)
    else:
        raise Unprocessable("Name the invoice paid (`invoice_id`) or the customer who paid.")
    invoices = await repo.load_many(uow.session, ids, for_update=True)
    if request.invoice_id is not None and not invoices:
        raise NotFound(f"No invoice {request.invoice_id}.")
    return invoices


async def record_payment(
    uow: UnitOfWork, *, principal: Principal, settings: InvoicingSettings, request: PaymentRequest
) -> RecordedPayment:
    currency = request.currency.upper()
    try:
        amount = parse_amount(request.amount, currency)
    except MoneyError as exc:
        raise Unprocessable(str(exc)) from exc
    if amount <= 0:
        raise Unprocessable("A payment is a positive amount.")
    request = PaymentRequest(**{**request.__dict__, "currency": currency})
    invoices = await _invoices_to_pay(uow, request)
    if request.invoice_id is not None and not principal.is_staff_of(invoices[0].country):
        raise NotFound(f"No invoice {request.invoice_id}.")  # another country's invoice: as if there were none
    countries = {i.country for i in invoices} or {settings.country or principal.country or ""}
    for country in countries:
        check_finance(principal, settings, country)
    if any(i.currency != currency for i in invoices):
        raise Conflict(f"The invoice is not in {currency}; record the payment in the invoice's currency.")
    customers = {(i.customer.kind, i.customer.id) for i in invoices}
    if request.invoice_id is not None and invoices[0].status not in rules.OPEN:
        raise Conflict(f"A {invoices[0].status} invoice takes no payment.", current_status=invoices[0].status.value)
    try:
        allocations, left = rules.allocate_payment(amount, invoices)
        by_id = {i.id: i for i in invoices}
        paid = [rules.pay(by_id[invoice_id], part) for invoice_id, part in allocations]
    except InvoiceRuleError as exc:
        raise Conflict(str(exc)) from exc
    kind, customer_id = (
        next(iter(customers)) if customers else (request.customer_kind, request.customer_id)  # type: ignore[assignment]
    )
    if kind is None or customer_id is None:
        raise Unprocessable("Name the customer who paid.")
    payment_id = uuid.uuid4()
    await repo.add_payment(
        uow.session,
        payment_id=payment_id,
        values={
            "country": next(iter(countries)),
            "currency": currency,
            "amount": amount,
            "unallocated": left,
            "customer_kind": kind.value,
            "customer_id": customer_id,
            "received_on": request.received_on,
            "reference": request.reference,
            "recorded_at": now(),
            "recorded_by": principal.subject,
        },
        allocations=allocations,
    )
    for invoice in paid:
        await repo.save(uow.session, invoice)
        await settle(uow, invoice)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="payment.recorded",
        entity_type="payment",
        entity_id=str(payment_id),
        details={
            "amount": amount,
            "currency": currency,
            "unallocated": left,
            "allocations": [{"invoice_id": str(i), "amount": a} for i, a in allocations],
        },
    )
    await uow.commit()
    return RecordedPayment(payment_id, amount, currency, left, allocations, paid)
