"""What partnerships does with other services' events: keep its factory read model, count entitlements the
invoicing service sold, alert buyers and protocol parties of zero-tolerance cases (webhooks and `alert.raised`), and
tell buyers with access that a report was released.

Each handler is thin: it translates the event into the call an HTTP request would make, or into one change of
the read model. The read model follows messaging's one rule for versioned events: a change of a factory never
registered here, or one that skips a version, is retried and then dead-lettered, never silently dropped.
"""

from __future__ import annotations

from betterwork_contracts.events.assessments import (
    AssessmentCyclesRenumbered,
    AssessmentReleased,
    ZeroToleranceCaseNotConfirmed,
    ZeroToleranceCaseOpened,
    ZeroToleranceCaseUpdated,
)
from betterwork_contracts.events.invoicing import EntitlementPurchased
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from partnerships.adapters import factory_refs
from partnerships.domain.alerts import ZERO_TOLERANCE_OPENED, ZERO_TOLERANCE_UPDATED
from partnerships.service import merges
from partnerships.service.alerts import raise_alert
from partnerships.service.factories import live_factory_id
from partnerships.service.releases import announce_release
from partnerships.service.report_access import add_entitlement
from servicekit.database import UnitOfWork


async def factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    province = event.profile.province if event.profile else None
    values = {"name": event.name, "country": event.country, "status": "registered", "province": province}
    await factory_refs.register(uow.session, event.factory_id, event.version, values)


async def factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    values: dict[str, str | None] = {"name": event.changes.name} if event.changes.name else {}
    if event.changes.province:
        values["province"] = event.changes.province
    elif "province" in event.changes.cleared:
        values["province"] = None
    await factory_refs.apply(uow.session, event.factory_id, event.version, values)


async def factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    await factory_refs.apply(uow.session, event.factory_id, event.version, {"status": event.status})


async def factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    await merges.factory_merged(uow, event)


async def cycles_renumbered(uow: UnitOfWork, event: AssessmentCyclesRenumbered, envelope: Envelope) -> None:
    await merges.cycles_renumbered(uow, event)


async def entitlement_purchased(uow: UnitOfWork, event: EntitlementPurchased, envelope: Envelope) -> None:
    """A credit spent or a payment made unlocks the cycle (a repeat of the same purchase changes nothing)."""
    await add_entitlement(
        uow,
        subject=f"invoicing:{event.source}",
        buyer_id=event.buyer_id,
        factory_id=await live_factory_id(uow, event.factory_id),
        cycle=event.cycle,
        source=event.source,
        external_id=event.entitlement_id,
    )


async def case_opened(uow: UnitOfWork, event: ZeroToleranceCaseOpened, envelope: Envelope) -> None:
    await raise_alert(
        uow,
        kind=ZERO_TOLERANCE_OPENED,
        case_id=event.case_id,
        factory_id=await live_factory_id(uow, event.factory_id),
        country=event.country,
        category=event.category,
        status="opened",
        parties=list(event.notify),
    )


async def case_updated(uow: UnitOfWork, event: ZeroToleranceCaseUpdated, envelope: Envelope) -> None:
    await raise_alert(
        uow,
        kind=ZERO_TOLERANCE_UPDATED,
        case_id=event.case_id,
        factory_id=await live_factory_id(uow, event.factory_id),
        country=event.country,
        category=event.category,
        status=event.status,
        party_event="zero_tolerance.case_updated",
        previous_status=event.previous_status,
    )


async def case_not_confirmed(uow: UnitOfWork, event: ZeroToleranceCaseNotConfirmed, envelope: Envelope) -> None:
    """Checked and not confirmed: those alerted of the case hear it ended so (an update, status `not_confirmed`)."""
    await raise_alert(
        uow,
        kind=ZERO_TOLERANCE_UPDATED,
        case_id=event.case_id,
        factory_id=await live_factory_id(uow, event.factory_id),
        country=event.country,
        category=event.category,
        status="not_confirmed",
        party_event="zero_tolerance.case_not_confirmed",
        previous_status=event.previous_status,
    )


async def assessment_released(uow: UnitOfWork, event: AssessmentReleased, envelope: Envelope) -> None:
    await announce_release(
        uow,
        assessment_id=event.assessment_id,
        factory_id=await live_factory_id(uow, event.factory_id),
        country=event.country,
        cycle=event.cycle,
        released_at=event.released_at,
    )
