"""Price lists over HTTP: staff of a country add versions; anyone of the country reads them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from invoicing.api.schemas import CurrencyCode, PriceListCreate, PriceListOut
from invoicing.service import price_lists
from invoicing.service.invoices import today
from invoicing.settings import InvoicingSettings
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES, Unprocessable

router = APIRouter(prefix="/v1/price-lists", tags=["price lists"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, summary="Add a price list version")
async def create_price_list(
    body: PriceListCreate, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> PriceListOut:
    """Takes effect on `effective_from`; an existing version is never changed (add a newer one)."""
    try:
        items = body.domain_items()
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    version = await price_lists.add_version(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        country=body.country,
        currency=body.currency,
        effective_from=body.effective_from,
        items=items,
        group_discount_bps=body.group_discount_bps,
        group_min_factories=body.group_min_factories,
        reduced_tariffs=body.reduced_tariffs,
    )
    return PriceListOut.of(version)


@router.get("/{country}", summary="Every price list version of a country, newest first")
async def list_price_lists(
    country: str, uow: UnitOfWorkDep, principal: AnyPrincipal, currency: CurrencyCode | None = None
) -> list[PriceListOut]:
    return [
        PriceListOut.of(v)
        for v in await price_lists.versions(uow, principal=principal, country=country, currency=currency)
    ]


@router.get("/{country}/in-force", summary="The version in force on a date")
async def price_list_in_force(
    country: str,
    uow: UnitOfWorkDep,
    principal: AnyPrincipal,
    on: Annotated[date | None, Query(description="Default: today.")] = None,
    currency: CurrencyCode | None = None,
) -> PriceListOut:
    version = await price_lists.in_force(uow, principal=principal, country=country, on=on or today(), currency=currency)
    return PriceListOut.of(version)
