"""Industry alerts over HTTP: staff issue them to their country's partners; staff and the buyers told read them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from partnerships.api.industry_alert_models import IndustryAlertIn, IndustryAlertOut
from partnerships.domain.industry_alerts import IndustryAlert
from partnerships.service import industry_alerts
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["alerts"], responses=PROBLEM_RESPONSES)


def _out(alert: IndustryAlert) -> IndustryAlertOut:
    return IndustryAlertOut.model_validate(alert, from_attributes=True)


@router.post("/v1/industry-alerts", status_code=201, summary="Issue an industry alert to the country's partners")
async def issue_industry_alert(
    body: IndustryAlertIn, response: Response, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> IndustryAlertOut:
    """Partners (per the subscription rules) linked to a factory of the country, of the province or among the
    named factories are alerted: an `alert.raised` webhook to their endpoints and a row in `GET /v1/alerts`."""
    issued = await industry_alerts.issue_industry_alert(
        uow,
        principal=staff,
        kind=body.kind,
        title=body.title,
        body=body.body,
        country=body.country,
        factory_ids=body.factory_ids,
        province=body.province,
    )
    response.headers["Location"] = f"/v1/industry-alerts/{issued.id}"
    return _out(issued)


@router.get("/v1/industry-alerts", summary="Industry alerts (staff: their country's; a buyer: those sent to it)")
async def list_industry_alerts(
    uow: UnitOfWorkDep, principal: AnyPrincipal, page: PageQuery, kind: str | None = None
) -> Page[IndustryAlertOut]:
    found, cursor = await industry_alerts.list_industry_alerts(uow, principal=principal, page=page, kind=kind)
    return Page[IndustryAlertOut](items=[_out(a) for a in found], next_cursor=cursor)


@router.get("/v1/industry-alerts/{alert_id}", summary="One industry alert")
async def get_industry_alert(alert_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> IndustryAlertOut:
    return _out(await industry_alerts.get_industry_alert(uow, principal=principal, alert_id=alert_id))
