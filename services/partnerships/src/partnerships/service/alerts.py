"""Zero-tolerance alerts: every buyer linked to the factory (or consented to alerts) and the protocol's parties
are told of a case, by signed webhook and by one `alert.raised` per buyer."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from betterwork_contracts.events.partnerships import AlertRaised
from partnerships.adapters import alerts as stored_alerts
from partnerships.adapters import delivery_queue
from partnerships.adapters.consents import ConsentRepository
from partnerships.adapters.links import LinkRepository
from partnerships.domain.alerts import ALERT_EVENT_TYPE, Alert
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound


async def raise_alert(
    uow: UnitOfWork,
    *,
    kind: str,
    case_id: uuid.UUID,
    factory_id: uuid.UUID,
    country: str,
    category: str,
    status: str,
    parties: list[str] | None = None,
) -> Alert:
    """Alert the case's audience; `parties` None: the parties the case's first alert named."""
    now = datetime.now(UTC)
    if parties is None:
        parties = await stored_alerts.parties_of_case(uow.session, case_id)
    linked = await LinkRepository(uow.session).linked_buyers(factory_id, now.date())
    consented = await ConsentRepository(uow.session).alert_buyers(factory_id, now)
    buyers = sorted(linked | consented, key=str)
    alert = Alert(uuid.uuid4(), kind, case_id, factory_id, country, category, status, buyers, parties, 0, now)
    endpoints = await delivery_queue.enqueue(
        uow.session,
        event_type=ALERT_EVENT_TYPE,
        data=alert.webhook_data(),
        buyer_ids=buyers,
        parties=parties,
        country=country,
    )
    alert = replace(alert, endpoints=endpoints)
    await stored_alerts.add(uow.session, alert)
    for buyer_id in buyers:  # one event per buyer: none learns who else sources from the factory
        uow.emit(
            AlertRaised.model_validate(
                {
                    "alert_id": alert.id,
                    "kind": kind,
                    "case_id": case_id,
                    "factory_id": factory_id,
                    "country": country,
                    "category": category,
                    "status": status,
                    "buyer_ids": [buyer_id],
                    "raised_at": now,
                }
            ),
            country=country,
        )
    return alert


async def list_alerts(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID | None) -> list[Alert]:
    """The latest alerts: staff their country's, a buyer those it was alerted of, admins all."""
    if principal.is_admin:
        return await stored_alerts.latest(uow.session, factory_id=factory_id)
    country, buyer = principal.staff_country, principal.organisation(Role.BUYER)
    if country:
        return await stored_alerts.latest(uow.session, factory_id=factory_id, country=country)
    if buyer:
        found = await stored_alerts.latest(uow.session, factory_id=factory_id, buyer_id=buyer)
        return [alert.as_seen_by_buyer(buyer) for alert in found]
    raise NotFound("No alerts.")
