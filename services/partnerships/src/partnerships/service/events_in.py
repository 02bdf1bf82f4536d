"""What partnerships does with other services' events: keep its factory read model, count entitlements the
invoicing service sold, and alert partners of zero-tolerance cases (webhooks and `alert.raised`).

Each handler is thin: it translates the event into the call an HTTP request would make, or into one change of
the read model. The read model follows messaging's one rule for versioned events: a change of a factory never
registered here, or one that skips a version, is retried and then dead-lettered, never silently dropped.
"""

from __future__ import annotations

from betterwork_contracts.events.assessments import ZeroToleranceCaseOpened, ZeroToleranceCaseUpdated
from betterwork_contracts.events.invoicing import EntitlementPurchased
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from partnerships.adapters import factory_refs
from partnerships.service.alerts import raise_alert
from partnerships.service.report_access import add_entitlement
from servicekit.database import UnitOfWork


async def factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    values = {"name": event.name, "country": event.country, "status": "registered"}
    await factory_refs.register(uow.session, event.factory_id, event.version, values)


async def factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    values = {"name": event.changes.name} if event.changes.name else {}
    await factory_refs.apply(uow.session, event.factory_id, event.version, values)


async def factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    await factory_refs.apply(uow.session, event.factory_id, event.version, {"status": event.status})


async def factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    await factory_refs.apply(uow.session, event.factory_id, event.version, {"merged_into": event.survivor_id})


async def entitlement_purchased(uow: UnitOfWork, event: EntitlementPurchased, envelope: Envelope) -> None:
    """A credit spent or a payment made unlocks the cycle (a repeat of the same purchase changes nothing)."""
    await add_entitlement(
        uow,
        subject=f"invoicing:{event.source}",
        buyer_id=event.buyer_id,
        factory_id=event.factory_id,
        cycle=event.cycle,
        source=event.source,
        external_id=event.entitlement_id,
    )


async def case_opened(uow: UnitOfWork, event: ZeroToleranceCaseOpened, envelope: Envelope) -> None:
    await raise_alert(
        uow,
        kind="zero_tolerance.case_opened",
        case_id=event.case_id,
        factory_id=event.factory_id,
        country=event.country,
        category=event.category,
        status="opened",
        parties=list(event.notify),
    )


async def case_updated(uow: UnitOfWork, event: ZeroToleranceCaseUpdated, envelope: Envelope) -> None:
    await raise_alert(
        uow,
        kind="zero_tolerance.case_updated",
        case_id=event.case_id,
        factory_id=event.factory_id,
        country=event.country,
        category=event.category,
        status=event.status,
    )
