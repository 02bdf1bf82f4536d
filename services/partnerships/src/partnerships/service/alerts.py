"""Zero-tolerance alerts: the buyers linked to the factory (or consented to alerts) whose tier receives zero-tolerance
alerts (`data/subscriptions.yaml`) and the protocol's parties are told of a case, by signed webhook and by one
`alert.raised` per buyer; the parties also follow the case by `zero_tolerance.case_updated` and
`zero_tolerance.case_not_confirmed` webhooks."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from betterwork_contracts.events.partnerships import AlertRaised
from partnerships.adapters import alerts as stored_alerts
from partnerships.adapters import delivery_queue
from partnerships.adapters.buyers import BuyerRepository
from partnerships.adapters.consents import ConsentRepository
from partnerships.adapters.links import LinkRepository
from partnerships.adapters.subscription_rules import subscription_rules
from partnerships.domain.alerts import ALERT_EVENT_TYPE, Alert
from partnerships.domain.subscriptions import ZERO_TOLERANCE
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound
from servicekit.pagination import PageParams


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
    party_event: str | None = None,
    previous_status: str | None = None,
) -> Alert:
    """Alert the case's audience; `parties` None: the parties the case's first alert named. `party_event`: the
    case-update webhook type the parties are also sent (`zero_tolerance.case_updated` or `.case_not_confirmed`)."""
    now = datetime.now(UTC)
    if parties is None:
        parties = await stored_alerts.parties_of_case(uow.session, case_id)
    linked = await LinkRepository(uow.session).linked_buyers(factory_id, now.date())
    consented = await ConsentRepository(uow.session).alert_buyers(factory_id, now)
    receiving = subscription_rules().tiers_receiving(ZERO_TOLERANCE)
    buyers = sorted(await BuyerRepository(uow.session).of_tiers(linked | consented, receiving), key=str)
    alert = Alert(uuid.uuid4(), kind, case_id, factory_id, country, category, status, buyers, parties, 0, now)
    endpoints = await delivery_queue.enqueue(
        uow.session,
        event_type=ALERT_EVENT_TYPE,
        data=alert.webhook_data(),
        buyer_ids=buyers,
        parties=parties,
        country=country,
    )
    if party_event is not None:
        update: dict[str, Any] = {
            "case_id": str(case_id),
            "factory_id": str(factory_id),
            "country": country,
            "category": category,
            "status": status,
            "previous_status": previous_status,
            "updated_at": now.isoformat(),
        }
        await delivery_queue.enqueue(uow.session, event_type=party_event, data=update, parties=parties, country=country)
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


async def list_alerts(
    uow: UnitOfWork, *, principal: Principal, page: PageParams, factory_id: uuid.UUID | None, kind: str | None
) -> tuple[list[Alert], str | None]:
    """A page of alerts, newest first: staff their country's, a buyer those it was alerted of, admins all."""
    country: str | None = None
    buyer: uuid.UUID | None = None
    if principal.is_admin:
        pass  # every alert
    elif principal.staff_country:
        country = principal.staff_country
    elif (buyer := principal.organisation(Role.BUYER)) is None:
        raise NotFound("No alerts.")
    found, cursor = await stored_alerts.page(
        uow.session, page, factory_id=factory_id, kind=kind, country=country, buyer_id=buyer
    )
    return ([alert.as_seen_by_buyer(buyer) for alert in found] if buyer else found), cursor
