"""Invoices and credit notes over HTTP: draft, issue, credit, write off, record payments, read, documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from invoicing.adapters import pdf, ubl_xml
from invoicing.api.schemas import (
    CreditNoteCreate,
    CreditNoteResult,
    InvoiceCreate,
    InvoiceDetail,
    InvoiceOut,
    PaymentCreate,
    PaymentOut,
    WriteOffIn,
)
from invoicing.domain.invoice import CustomerKind, DocumentType, Purpose, Status
from invoicing.domain.money import MoneyError, parse_amount
from invoicing.service import invoices, payments
from invoicing.settings import InvoicingSettings
from servicekit.edge import ReaderPrincipal, StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES, NotFound, Unprocessable
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["invoices"], responses=PROBLEM_RESPONSES)


@router.post("/v1/invoices", status_code=201, summary="Draft an invoice priced from the price list")
async def create_invoice(
    body: InvoiceCreate, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> InvoiceOut:
    """Finance staff. A draft has no number: dropping it leaves no gap. Each line keeps its price and tier."""
    invoice = await invoices.create_draft(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        country=body.country,
        customer_kind=body.customer_kind,
        customer_id=body.customer_id,
        lines=body.line_requests(),
        billing=body.billing.domain() if body.billing else None,
        currency=body.currency.upper() if body.currency else None,
        cycle=body.cycle,
        priced_on=body.priced_on,
        terms_days=body.terms_days,
    )
    return InvoiceOut.of(invoice)


@router.post("/v1/invoices/{invoice_id}/issue", summary="Issue a draft: number, document, hash")
async def issue_invoice(
    invoice_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> InvoiceOut:
    """Finance staff. The next number of the issuer's series for the year; the invoice is immutable from now."""
    issued = await invoices.issue(
        uow, principal=staff, settings=settings_of(request, InvoicingSettings), invoice_id=invoice_id
    )
    return InvoiceOut.of(issued)


@router.post("/v1/invoices/{invoice_id}/credit-notes", status_code=201, summary="Credit an issued invoice")
async def create_credit_note(
    invoice_id: uuid.UUID, body: CreditNoteCreate, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> CreditNoteResult:
    """Finance staff. A credit note (type 381, own number series) referencing the invoice; crediting an unpaid
    invoice whole voids it."""
    amount = None
    if body.amount is not None:
        found = await invoices.get(uow, principal=staff, invoice_id=invoice_id)
        try:
            amount = parse_amount(body.amount, found.invoice.currency)
        except MoneyError as exc:
            raise Unprocessable(str(exc)) from exc
    credited, note = await invoices.credit(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        invoice_id=invoice_id,
        amount=amount,
        reason=body.reason,
    )
    return CreditNoteResult(invoice=InvoiceOut.of(credited), credit_note=InvoiceOut.of(note))


@router.post("/v1/invoices/{invoice_id}/write-off", summary="Write off what is still due")
async def write_off_invoice(
    invoice_id: uuid.UUID, body: WriteOffIn, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> InvoiceOut:
    written = await invoices.write_off(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        invoice_id=invoice_id,
        reason=body.reason,
    )
    return InvoiceOut.of(written)


@router.post("/v1/payments", status_code=201, summary="Record a payment received")
async def record_payment(
    body: PaymentCreate, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> PaymentOut:
    """Finance staff. Allocated to the invoice named, else to the customer's open invoices in the payment's
    currency, earliest due first; what is left stays unallocated on the payment."""
    recorded = await payments.record_payment(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        request=payments.PaymentRequest(
            amount=body.amount,
            currency=body.currency,
            received_on=body.received_on,
            reference=body.reference,
            invoice_id=body.invoice_id,
            customer_kind=body.customer_kind,
            customer_id=body.customer_id,
        ),
    )
    return PaymentOut(
        id=recorded.id,
        amount_minor=recorded.amount,
        currency=recorded.currency,
        unallocated_minor=recorded.unallocated,
        allocations=[{"invoice_id": str(i), "amount_minor": a} for i, a in recorded.allocations],
        invoices=[InvoiceOut.of(i) for i in recorded.invoices],
    )


@router.get("/v1/invoices", summary="Invoices the caller may see")
async def list_invoices(
    uow: UnitOfWorkDep,
    principal: ReaderPrincipal,
    page: PageQuery,
    status: Status | None = None,
    doc_type: DocumentType | None = None,
    purpose: Purpose | None = None,
    customer_kind: CustomerKind | None = None,
    customer_id: uuid.UUID | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    overdue: bool | None = None,
    assessment_id: uuid.UUID | None = None,
) -> Page[InvoiceOut]:
    """Staff see their country's, a buyer or factory its own. Sort by `created_at` (default `-created_at`),
    `due_date` or `number`; cursor pages. `assessment_id` finds the charge of an assessment and its credit notes."""
    filters = invoices.InvoiceFilters(
        status, doc_type, purpose, customer_kind, customer_id, country, overdue, assessment_id
    )
    found, cursor = await invoices.search(uow, principal=principal, filters=filters, page=page)
    return Page[InvoiceOut](items=[InvoiceOut.of(i) for i in found], next_cursor=cursor)


@router.get("/v1/invoices/{invoice_id}", summary="One invoice, its payments, credit notes and overdue steps")
async def get_invoice(invoice_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> InvoiceDetail:
    return InvoiceDetail.of_view(await invoices.get(uow, principal=principal, invoice_id=invoice_id))


@router.get("/v1/invoices/{invoice_id}/document", summary="The structured document (EN 16931, UBL 2.1 names)")
async def get_invoice_document(
    invoice_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> dict[str, object]:
    """As issued; its SHA-256 over canonical JSON is the invoice's `document_hash`."""
    _, found = await invoices.document(uow, principal=principal, invoice_id=invoice_id)
    return found


@router.get(
    "/v1/invoices/{invoice_id}/document.xml",
    summary="The document as UBL 2.1 XML",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
async def get_invoice_xml(invoice_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> Response:
    _, found = await invoices.document(uow, principal=principal, invoice_id=invoice_id)
    return Response(ubl_xml.render(found), media_type="application/xml")


@router.get(
    "/v1/invoices/{invoice_id}/document.pdf",
    summary="The document as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_invoice_pdf(invoice_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> Response:
    invoice, found = await invoices.document(uow, principal=principal, invoice_id=invoice_id)
    if invoice.number is None:
        raise NotFound(f"Invoice {invoice_id} is a draft.")
    headers = {"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'}
    return Response(pdf.render(found), media_type="application/pdf", headers=headers)
