"""Industry alerts: staff of a country issue one (strike, building safety, wage decision, ...), and the buyers
whose tier receives industry alerts (partners, per `data/subscriptions.yaml`) linked to a factory it concerns are
told: an alert row each can read in `GET /v1/alerts` and a signed `alert.raised` webhook to their endpoints; and
`industry_alert.issued` on `partnerships.alert` says so to other services, with how many buyers were told, never which.

Staff of the country and admins read every alert of the country; a buyer only those sent to it; anyone else 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from betterwork_contracts.events.partnerships import IndustryAlertIssued
from partnerships.adapters import alerts as stored_alerts
from partnerships.adapters import delivery_queue
from partnerships.adapters.industry_alerts import IndustryAlertRepository
from partnerships.adapters.subscription_rules import subscription_rules
from partnerships.domain.alerts import ALERT_EVENT_TYPE
from partnerships.domain.industry_alerts import IndustryAlert, IndustryAlertError, check_audience, groups_by_factories
from partnerships.domain.subscriptions import INDUSTRY, SubscriptionRulesError
from partnerships.service.factories import check_not_merged, factory
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Forbidden, NotFound, Unprocessable
from servicekit.pagination import PageParams


def _refused(detail: str, field: str) -> Unprocessable:
    return Unprocessable(detail, errors=[{"pointer": f"#/body/{field}", "detail": detail}])


async def _check_factories(uow: UnitOfWork, factory_ids: Sequence[uuid.UUID], country: str) -> None:
    """Every named factory is a live factory of the alert's country (a merged one answers 409 with its survivor)."""
    for factory_id in factory_ids:
        found = await factory(uow, factory_id)
        if found is None or found.country != country:
            raise _refused(f"{factory_id} is not a factory of {country}.", "factory_ids")
        check_not_merged(found)


async def issue_industry_alert(
    uow: UnitOfWork,
    *,
    principal: Principal,
    kind: str,
    title: str,
    body: str,
    country: str,
    factory_ids: Sequence[uuid.UUID] = (),
    province: str | None = None,
) -> IndustryAlert:
    """Staff of `country` (or an admin) alert its partners; nothing is stored or sent unless every check passes."""
    check_staff(principal)
    if not (principal.is_admin or principal.staff_country == country):
        raise Forbidden(f"Only staff of {country} issue its industry alerts.")
    rules = subscription_rules()
    try:
        rules.check_industry_kind(kind)
        check_audience(factory_ids, province)
    except SubscriptionRulesError as exc:
        raise _refused(str(exc), "kind") from exc
    except IndustryAlertError as exc:
        raise _refused(str(exc), exc.field) from exc
    named = list(dict.fromkeys(factory_ids))
    await _check_factories(uow, named, country)
    now = datetime.now(UTC)
    alerts = IndustryAlertRepository(uow.session)
    audience = await alerts.audience(
        country=country, tiers=rules.tiers_receiving(INDUSTRY), factory_ids=named, province=province, today=now.date()
    )
    issued = IndustryAlert(
        id=uuid.uuid4(), kind=kind, title=title, body=body, country=country, factory_ids=named, province=province,
        buyer_ids=sorted(audience, key=str), endpoints=0, rules_version=rules.version, issued_by=principal.subject,
        issued_at=now,
    )  # fmt: skip
    alert_id = uuid.uuid4()
    endpoints = 0
    for concerned, buyers in groups_by_factories(audience, named).items():
        endpoints += await delivery_queue.enqueue(
            uow.session,
            event_type=ALERT_EVENT_TYPE,
            data=issued.webhook_data(alert_id, concerned),
            buyer_ids=buyers,
        )
    issued = replace(issued, endpoints=endpoints)
    await alerts.add(issued)
    await stored_alerts.add(uow.session, issued.alert(alert_id))
    await alerts.record(
        principal,
        action="industry_alert.issued",
        entity_type="industry_alert",
        entity_id=issued.id,
        details={"kind": kind, "title": title, "factory_ids": [str(f) for f in named], "province": province,
                 "buyers": len(issued.buyer_ids), "endpoints": endpoints, "rules_version": rules.version},
        country=country,
    )  # fmt: skip
    uow.emit(_issued_event(issued), country=country)
    await uow.commit()
    return issued


def _issued_event(issued: IndustryAlert) -> IndustryAlertIssued:
    """What other services learn: the alert as staff wrote it and the size of its audience, not the buyers in it."""
    return IndustryAlertIssued(
        alert_id=issued.id, country=issued.country, kind=issued.kind, title=issued.title, body=issued.body,
        factory_ids=list(issued.factory_ids), province=issued.province,
        recipient_buyer_count=len(issued.buyer_ids), issued_at=issued.issued_at,
    )  # fmt: skip


def _reader(principal: Principal) -> tuple[str | None, uuid.UUID | None]:
    """(country, buyer) the caller's reading is narrowed to; (None, None) for an admin; 404 for anyone else."""
    if principal.is_admin:
        return None, None
    if principal.staff_country:
        return principal.staff_country, None
    buyer = principal.organisation(Role.BUYER)
    if buyer is not None:
        return None, buyer
    raise NotFound("No industry alerts.")


async def _as_seen(alerts: IndustryAlertRepository, found: IndustryAlert, buyer: uuid.UUID | None) -> IndustryAlert:
    if buyer is None:
        return found
    return found.as_seen_by_buyer(buyer, await alerts.sources_from(buyer, found.factory_ids))


async def list_industry_alerts(
    uow: UnitOfWork, *, principal: Principal, page: PageParams, kind: str | None = None
) -> tuple[list[IndustryAlert], str | None]:
    country, buyer = _reader(principal)
    alerts = IndustryAlertRepository(uow.session)
    found, cursor = await alerts.page(page, country=country, buyer_id=buyer, kind=kind)
    return [await _as_seen(alerts, a, buyer) for a in found], cursor


async def get_industry_alert(uow: UnitOfWork, *, principal: Principal, alert_id: uuid.UUID) -> IndustryAlert:
    country, buyer = _reader(principal)
    alerts = IndustryAlertRepository(uow.session)
    found = await alerts.load(alert_id, country=country, buyer_id=buyer)
    if found is None:
        raise NotFound(f"No industry alert {alert_id}.")
    return await _as_seen(alerts, found, buyer)
