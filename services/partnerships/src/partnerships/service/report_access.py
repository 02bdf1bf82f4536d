"""Entitlements and the access decision they add up to with consent.

Every change that can open or close a buyer's view of a factory ends in `recompute_access`, which compares the
decision with the one last published and publishes `report_access.granted` or `report_access.revoked` (scope
`assessment_reports`) and `progress_report_access.granted` or `.revoked` (scope `progress_reports`) for each cycle
whose decision changed, in the same transaction, with a webhook of the same name to the buyer concerned.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from betterwork_contracts.base import IntegrationEvent
from betterwork_contracts.events.partnerships import (
    ProgressReportAccessGranted,
    ProgressReportAccessRevoked,
    ReportAccessGranted,
    ReportAccessRevoked,
)
from partnerships.adapters import delivery_queue
from partnerships.adapters import report_access as access_reads
from partnerships.adapters.buyers import BuyerRepository
from partnerships.adapters.consents import ConsentRepository
from partnerships.adapters.report_access import AccessRepository
from partnerships.domain.relationships import AccessDecision, Entitlement, Scope, changed_decisions
from partnerships.service.factories import check_not_merged, factory
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import Database, UnitOfWork
from servicekit.errors import Conflict, NotFound


async def recompute_access(uow: UnitOfWork, *, buyer_id: uuid.UUID, factory_id: uuid.UUID, now: datetime) -> None:
    """Decide every cycle the buyer is entitled to (or was granted) and publish what changed."""
    access = AccessRepository(uow.session)
    consents = await ConsentRepository(uow.session).states_between(buyer_id, factory_id)
    entitled = await access.entitled_cycles(buyer_id, factory_id)
    for scope, (opened, closed) in _EVENTS.items():
        published = await access.published(buyer_id, factory_id, scope)
        for cycle, decision in changed_decisions(consents, entitled, published, now, scope):
            await access.publish(buyer_id, factory_id, cycle, decision, now, scope)
            event_type = opened if decision else closed
            event = event_type(factory_id=factory_id, buyer_id=buyer_id, cycle=cycle, decided_at=now)
            uow.emit(event)
            # the buyer concerned, and nobody else, is told by webhook too (`report_access.granted`, ...)
            await delivery_queue.enqueue(
                uow.session,
                event_type=webhook_type(event_type),
                data=event.model_dump(mode="json"),
                buyer_ids=[buyer_id],
            )


def webhook_type(event_type: type[IntegrationEvent]) -> str:
    """The webhook event type of one of our events: `report_access.granted` for
    `org.betterwork.partnerships.report_access.granted.v1`."""
    name: str = event_type.type
    return name.removeprefix("org.betterwork.partnerships.").rsplit(".v", 1)[0]


# Each kind of report is decided on its own: a consent to assessment reports never opens progress reports.
_EVENTS: dict[Scope, tuple[type[ReportAccessGranted | ProgressReportAccessGranted],
                           type[ReportAccessRevoked | ProgressReportAccessRevoked]]] = {
    Scope.ASSESSMENT_REPORTS: (ReportAccessGranted, ReportAccessRevoked),
    Scope.PROGRESS_REPORTS: (ProgressReportAccessGranted, ProgressReportAccessRevoked),
}  # fmt: skip


async def add_entitlement(
    uow: UnitOfWork,
    *,
    subject: str,
    buyer_id: uuid.UUID,
    factory_id: uuid.UUID,
    cycle: int,
    source: str,
    external_id: uuid.UUID | None = None,
) -> Entitlement | None:
    """A reporting cycle unlocked for a buyer (staff grant, credit or payment); None if it was already."""
    now = datetime.now(UTC)
    entitlement = Entitlement(uuid.uuid4(), buyer_id, factory_id, cycle, source, external_id, now, subject)
    if not await AccessRepository(uow.session).add_entitlement(entitlement):
        return None
    await recompute_access(uow, buyer_id=buyer_id, factory_id=factory_id, now=now)
    return entitlement


async def grant_entitlement(
    uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int
) -> Entitlement:
    """Staff of the factory's country unlock a cycle for a buyer."""
    check_staff(principal)
    found = await factory(uow, factory_id)
    if found is None or not (principal.is_admin or principal.staff_country == found.country):
        raise NotFound(f"No factory {factory_id}.")
    check_not_merged(found)
    if not await BuyerRepository(uow.session).exists(buyer_id):
        raise NotFound(f"No buyer {buyer_id}.")
    entitlement = await add_entitlement(
        uow, subject=principal.subject, buyer_id=buyer_id, factory_id=factory_id, cycle=cycle, source="staff"
    )
    if entitlement is None:
        raise Conflict(f"Buyer {buyer_id} is already entitled to cycle {cycle} of factory {factory_id}.")
    await AccessRepository(uow.session).record(
        principal, action="entitlement.granted", entity_type="entitlement", entity_id=entitlement.id,
        details={"cycle": cycle},
    )  # fmt: skip
    await uow.commit()
    return entitlement


async def access(
    database: Database, *, principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID
) -> list[AccessDecision]:
    """The published decision per cycle, for the buyer itself, the factory itself, or staff of its country.

    A hot read: the factory's country and the decisions come from one read-only statement, no transaction."""
    country, decisions = await access_reads.decisions_with_country(database, buyer_id, factory_id)
    allowed = (
        principal.is_admin
        or principal.organisation(Role.BUYER) == buyer_id
        or principal.organisation(Role.FACTORY) == factory_id
        or (country is not None and principal.staff_country == country)
    )
    if not allowed:
        raise NotFound("No such buyer and factory.")
    return decisions
