"""Cost recovery over HTTP: staff enter programme cost and exchange-rate snapshots; JSON, CSV and a chart."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from invoicing.adapters import chart
from invoicing.api.schemas import CostIn, RateIn, RecoveryOut
from invoicing.domain.cost_recovery import Recovery
from invoicing.domain.money import format_amount
from invoicing.service import cost_recovery
from invoicing.settings import InvoicingSettings
from servicekit.edge import StaffPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/cost-recovery", tags=["cost recovery"], responses=PROBLEM_RESPONSES)
# A programme year: bounded so that nonsense is a 422, not an overflow in the database.
Year = Annotated[int, Path(ge=1990, le=2200, description="Calendar year of the programme.")]
Years = Annotated[
    list[Annotated[int, Field(ge=1990, le=2200)]] | None,
    Query(description="Years to report (default: every year with a cost)."),
]


@router.put("/{country}/{year}/cost", status_code=204, summary="Enter the programme's cost of a year")
async def set_programme_cost(
    country: str, year: Year, body: CostIn, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> None:
    await cost_recovery.set_cost(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        country=country,
        year=year,
        currency_code=body.currency,
        amount=body.amount,
        note=body.note,
    )


@router.put("/rates/{year}", status_code=204, summary="Snapshot an exchange rate to the reporting currency")
async def set_exchange_rate(
    year: Year, body: RateIn, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> None:
    await cost_recovery.set_rate(
        uow,
        principal=staff,
        settings=settings_of(request, InvoicingSettings),
        year=year,
        currency_code=body.currency,
        rate=body.rate,
        as_of=body.as_of,
    )


async def _rows(
    request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal, country: str, years: list[int] | None
) -> list[Recovery]:
    return await cost_recovery.report(
        uow, principal=staff, settings=settings_of(request, InvoicingSettings), country=country, years=years
    )


def _out(r: Recovery) -> RecoveryOut:
    return RecoveryOut(
        country=r.country,
        year=r.year,
        currency=r.currency,
        credits_revenue_minor=r.credits_revenue,
        services_revenue_minor=r.services_revenue,
        revenue_minor=r.revenue,
        cost_minor=r.cost,
        recovery_rate=str(r.recovery_rate) if r.recovery_rate is not None else None,
        rates=dict(r.rates),
    )


@router.get("/{country}", summary="Revenue recognised against programme cost, per year")
async def get_cost_recovery(
    country: str, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal, year: Years = None
) -> list[RecoveryOut]:
    return [_out(r) for r in await _rows(request, uow, staff, country, year)]


@router.get(
    "/{country}/report.csv",
    summary="The same as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_cost_recovery_csv(
    country: str, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal, year: Years = None
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["country", "year", "currency", "credits_revenue", "services_revenue", "revenue", "cost", "recovery_rate"]
    )
    for r in await _rows(request, uow, staff, country, year):
        writer.writerow(
            [
                r.country,
                r.year,
                r.currency,
                format_amount(r.credits_revenue, r.currency),
                format_amount(r.services_revenue, r.currency),
                format_amount(r.revenue, r.currency),
                format_amount(r.cost, r.currency) if r.cost is not None else "",
                r.recovery_rate if r.recovery_rate is not None else "",
            ]
        )
    return Response(out.getvalue(), media_type="text/csv")


@router.get(
    "/{country}/chart.svg",
    summary="The same as a chart (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def get_cost_recovery_chart(
    country: str, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal, year: Years = None
) -> Response:
    rows = await _rows(request, uow, staff, country, year)
    title = f"Cost recovery, {country.upper()} programme"
    return Response(chart.render(rows, title=title), media_type="image/svg+xml")
