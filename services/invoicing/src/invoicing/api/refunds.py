"""Refunds due over HTTP: finance staff list them and settle each once, refunded or set off."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from invoicing.api.schemas import InvoiceOut, RefundDueOut, RefundedIn, SetOffIn, SetOffResult
from invoicing.domain.invoice import CustomerKind
from invoicing.domain.refunds import RefundStatus
from invoicing.service import refunds
from invoicing.settings import InvoicingSettings
from servicekit.edge import StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["refunds due"], responses=PROBLEM_RESPONSES)


@router.get("/v1/refunds-due", summary="Refunds due to customers, open or settled")
async def list_refunds_due(
    request: Request,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    page: PageQuery,
    status: RefundStatus | None = None,
    customer_kind: CustomerKind | None = None,
    customer_id: uuid.UUID | None = None,
) -> Page[RefundDueOut]:
    """Finance staff: their country's (admins: every country's), oldest first (`sort=-created_at`: newest);
    cursor pages. Filters `status` (`open`, `refunded`, `set_off`), `customer_kind`, `customer_id`."""
    found, cursor = await refunds.search(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        status=status,
        customer_kind=customer_kind,
        customer_id=customer_id,
        page=page,
    )
    return Page[RefundDueOut](items=[RefundDueOut.of(r) for r in found], next_cursor=cursor)


@router.get("/v1/refunds-due/{refund_id}", summary="One refund due")
async def get_refund_due(
    refund_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> RefundDueOut:
    """Finance staff of its country; anyone else is told it does not exist (404)."""
    found = await refunds.get(
        uow, principal=staff, settings=settings_of(request, InvoicingSettings), refund_id=refund_id
    )
    return RefundDueOut.of(found)


@router.post("/v1/refunds-due/{refund_id}/refund", summary="Record that a refund due was paid back")
async def refund_refund_due(
    refund_id: uuid.UUID, body: RefundedIn, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> RefundDueOut:
    """Finance staff. Settles it as `refunded` with the day, method and reference; once (a second settlement,
    either way, is a 409 and changes nothing)."""
    settled = await refunds.mark_refunded(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        refund_id=refund_id,
        refunded_on=body.refunded_on,
        method=body.method,
        reference=body.reference,
    )
    return RefundDueOut.of(settled)


@router.post("/v1/refunds-due/{refund_id}/set-off", summary="Set a refund due off against another invoice")
async def set_off_refund_due(
    refund_id: uuid.UUID, body: SetOffIn, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> SetOffResult:
    """Finance staff. The amount pays another open invoice of the same customer in the same currency, as a
    payment allocated to it up to what it owes (`invoice.paid` if that settles it); the rest stays unallocated
    on the payment. Settles it as `set_off`, once (409 for a second settlement, another customer's invoice, a
    closed invoice or another currency; 404 for an invoice the caller may not see)."""
    settled, invoice, allocated = await refunds.set_off(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        refund_id=refund_id,
        invoice_id=body.invoice_id,
    )
    return SetOffResult(
        refund_due=RefundDueOut.of(settled),
        invoice=InvoiceOut.of(invoice),
        allocated_minor=allocated,
        unallocated_minor=settled.amount - allocated,
    )
