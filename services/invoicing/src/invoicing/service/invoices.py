"""Use cases on invoices: draft with lines priced from the list, issue, credit, write off, read and list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from betterwork_contracts.events.invoicing import InvoiceWrittenOff
from invoicing.adapters import invoices as repo
from invoicing.adapters import price_lists, references, refunds
from invoicing.adapters.tables import INVOICE, SCHEMA
from invoicing.domain import invoice as rules
from invoicing.domain.invoice import OPEN, CustomerKind, DocumentType, Invoice, InvoiceRuleError, Party, Purpose, Status
from invoicing.domain.issuers import issuer_for
from invoicing.domain.pricing import PricedLine, PricingError, Service, price
from invoicing.domain.refunds import RefundDue
from invoicing.service.access import check_finance, customer_of, require_visible
from invoicing.service.issuing import (
    credit_invoice,
    ids_of,
    issue_document,
    now,
    one_issue_at_a_time,
    open_suspensions,
)
from invoicing.settings import InvoicingSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.pagination import PageParams, SortOrder, paginate, resolve_sort


@dataclass(frozen=True)
class LineRequest:
    service: Service
    quantity: int
    description: str | None = None
    reduced_tariff: str | None = None


@dataclass(frozen=True)
class Billing:
    """Billing details given with a request, for a customer invoicing has not heard of yet."""

    name: str
    country: str
    address: str | None = None


def today() -> date:
    return datetime.now(UTC).date()


async def customer_party(
    uow: UnitOfWork, kind: CustomerKind, customer_id: uuid.UUID, billing: Billing | None
) -> tuple[Party, references.FactoryRef | None]:
    """The billed party (from the read models, else the billing details given) and the factory billed, whose
    manufacturing group the group discount counts."""
    if kind is CustomerKind.FACTORY:
        factory = await references.factory(uow.session, customer_id)
        if factory is not None:
            name, address = (billing.name, billing.address) if billing else (factory.name, factory.address)
            return Party(kind, factory.factory_id, name, factory.country, address), factory
    else:
        buyer = await references.buyer(uow.session, customer_id)
        if buyer is not None and billing is None:
            return Party(kind, buyer.buyer_id, buyer.name, buyer.country), None
    if billing is None:
        raise NotFound(f"No {kind.value} {customer_id} is known here yet; give its billing details.")
    return Party(kind, customer_id, billing.name, billing.country.upper(), billing.address), None


async def price_lines(
    uow: UnitOfWork,
    *,
    country: str,
    currency: str | None,
    on: date,
    requests: Sequence[LineRequest],
    group: references.FactoryRef | None,
) -> tuple[list[PricedLine], uuid.UUID, str]:
    """Each requested line priced from the version in force on `on`; (lines, version id, currency)."""
    version = await price_lists.in_force(uow.session, country, on, currency)
    if version is None:
        raise Conflict(f"No price list of {country}{' in ' + currency if currency else ''} is in force on {on}.")
    group_size = await references.group_size(uow.session, group)
    try:
        lines = [
            price(
                version,
                r.service,
                r.quantity,
                group_size=group_size,
                reduced_tariff=r.reduced_tariff,
                description=r.description,
            )
            for r in requests
        ]
    except PricingError as exc:
        raise Unprocessable(str(exc)) from exc
    return lines, version.id, version.currency


async def create_draft(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    country: str,
    customer_kind: CustomerKind,
    customer_id: uuid.UUID,
    lines: Sequence[LineRequest],
    billing: Billing | None = None,
    currency: str | None = None,
    cycle: int | None = None,
    priced_on: date | None = None,
    terms_days: int | None = None,
) -> Invoice:
    """A draft invoice for programme services: no number until it is issued."""
    country = country.upper()
    check_finance(principal, settings, country)
    party, group = await customer_party(uow, customer_kind, customer_id, billing)
    priced, version_id, currency_code = await price_lines(
        uow, country=country, currency=currency, on=priced_on or today(), requests=lines, group=group
    )
    invoice = replace(
        new_draft(Purpose.SERVICES, country, currency_code, party, priced, principal, settings, terms_days),
        cycle=cycle,
        price_list_id=version_id,
    )
    await repo.add(uow.session, invoice)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="invoice.drafted",
        entity_type="invoice",
        entity_id=str(invoice.id),
        details={"customer": f"{customer_kind.value}:{customer_id}", "total": invoice.total, "currency": currency_code},
    )
    await uow.commit()
    return invoice


def new_draft(
    purpose: Purpose,
    country: str,
    currency: str,
    party: Party,
    lines: Sequence[PricedLine],
    principal: Principal,
    settings: InvoicingSettings,
    terms_days: int | None,
) -> Invoice:
    try:
        return rules.draft(
            purpose=purpose,
            country=country,
            currency=currency,
            issuer=issuer_for(country).code,
            customer=party,
            lines=lines,
            created_at=now(),
            created_by=principal.subject,
            terms_days=settings.payment_terms_days if terms_days is None else terms_days,
        )
    except InvoiceRuleError as exc:
        raise Unprocessable(str(exc)) from exc


async def _load_for_change(
    uow: UnitOfWork, principal: Principal, settings: InvoicingSettings, invoice_id: uuid.UUID
) -> Invoice:
    invoice = await repo.load(uow.session, invoice_id, for_update=True)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}.")
    require_visible(principal, invoice, invoice_id)
    check_finance(principal, settings, invoice.country)
    return invoice


async def issue(
    uow: UnitOfWork, *, principal: Principal, settings: InvoicingSettings, invoice_id: uuid.UUID
) -> Invoice:
    async with one_issue_at_a_time():
        invoice = await _load_for_change(uow, principal, settings, invoice_id)
        issued = await issue_document(uow, invoice, principal=principal, today=today())
        await uow.commit()
    return issued


async def credit(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    invoice_id: uuid.UUID,
    amount: int | None,
    reason: str,
) -> tuple[Invoice, Invoice]:
    """A credit note against the invoice: the whole amount due unless `amount` says less."""
    async with one_issue_at_a_time():
        invoice = await _load_for_change(uow, principal, settings, invoice_id)
        if invoice.doc_type is not DocumentType.INVOICE:
            raise Conflict("A credit note is not credited; issue an invoice instead.")
        amount = invoice.amount_due if amount is None else amount
        credited, note = await credit_invoice(
            uow, invoice, amount=amount, reason=reason, principal=principal, today=today()
        )
        await uow.commit()
    return credited, note


async def write_off(
    uow: UnitOfWork, *, principal: Principal, settings: InvoicingSettings, invoice_id: uuid.UUID, reason: str
) -> Invoice:
    invoice = await _load_for_change(uow, principal, settings, invoice_id)
    try:
        written = rules.write_off(invoice)
    except InvoiceRuleError as exc:
        raise Conflict(str(exc), current_status=invoice.status.value) from exc
    await repo.save(uow.session, written)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="invoice.written_off",
        entity_type="invoice",
        entity_id=str(invoice.id),
        reason=reason,
        details={"amount": invoice.amount_due},
    )
    assert invoice.number is not None
    uow.emit(
        InvoiceWrittenOff(
            invoice_id=invoice.id,
            number=invoice.number,
            country=invoice.country,
            currency=invoice.currency,
            amount_written_off_minor=invoice.amount_due,
            open_suspending_invoices=await open_suspensions(uow, written),
            written_off_at=now(),
            **ids_of(invoice),  # type: ignore[arg-type]
        ),
        country=invoice.country,
    )
    await uow.commit()
    return written


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    payments: list[dict[str, Any]]
    credit_notes: list[Invoice]
    dunning: list[dict[str, Any]]
    refunds_due: list[RefundDue]


async def get(uow: UnitOfWork, *, principal: Principal, invoice_id: uuid.UUID) -> InvoiceView:
    invoice = require_visible(principal, await repo.load(uow.session, invoice_id), invoice_id)
    return InvoiceView(
        invoice,
        await repo.payments_of(uow.session, invoice.id),
        await repo.credit_notes_of(uow.session, invoice.id),
        await repo.dunning_of(uow.session, invoice.id),
        await refunds.of_invoice(uow.session, invoice.id),
    )


async def document(uow: UnitOfWork, *, principal: Principal, invoice_id: uuid.UUID) -> tuple[Invoice, dict[str, Any]]:
    """The structured document as issued (404 for a draft: it has none yet)."""
    invoice = require_visible(principal, await repo.load(uow.session, invoice_id), invoice_id)
    found = await repo.document_of(uow.session, invoice.id)
    if found is None:
        raise NotFound(f"Invoice {invoice_id} is a draft: it has no document until it is issued.")
    return invoice, found


@dataclass(frozen=True)
class InvoiceFilters:
    status: Status | None = None
    doc_type: DocumentType | None = None
    purpose: Purpose | None = None
    customer_kind: CustomerKind | None = None
    customer_id: uuid.UUID | None = None
    country: str | None = None
    overdue: bool | None = None
    assessment_id: uuid.UUID | None = None


_SORTS = {
    "created_at": (INVOICE.c.created_at, INVOICE.c.id),
    "due_date": (INVOICE.c.due_date, INVOICE.c.id),
    "number": (INVOICE.c.number, INVOICE.c.id),
}


async def search(
    uow: UnitOfWork, *, principal: Principal, filters: InvoiceFilters, page: PageParams
) -> tuple[list[Invoice], str | None]:
    """Invoices the caller may see, filtered, cursor-paged (newest first by default)."""
    order: SortOrder = resolve_sort(page.sort, _SORTS, "-created_at")
    conditions: list[Any] = []
    own = customer_of(principal)
    if principal.is_admin:
        pass
    elif principal.staff_country:
        conditions.append(INVOICE.c.country == principal.staff_country)
    elif own is not None:
        conditions += [INVOICE.c.customer_kind == own[0].value, INVOICE.c.customer_id == own[1]]
    else:
        return [], None
    if filters.status:
        conditions.append(INVOICE.c.status == filters.status.value)
    if filters.doc_type:
        conditions.append(INVOICE.c.doc_type == filters.doc_type.value)
    if filters.purpose:
        conditions.append(INVOICE.c.purpose == filters.purpose.value)
    if filters.customer_kind:
        conditions.append(INVOICE.c.customer_kind == filters.customer_kind.value)
    if filters.customer_id:
        conditions.append(INVOICE.c.customer_id == filters.customer_id)
    if filters.country:
        conditions.append(INVOICE.c.country == filters.country.upper())
    if filters.assessment_id:
        conditions.append(INVOICE.c.assessment_id == filters.assessment_id)
    if filters.overdue is not None:
        late = INVOICE.c.status.in_([s.value for s in OPEN]) & (INVOICE.c.due_date < today())
        conditions.append(late if filters.overdue else ~late)
    rows, cursor = await paginate(uow.session, select(INVOICE).where(*conditions), order, page)
    return [repo.invoice_of(row._mapping) for row in rows], cursor
