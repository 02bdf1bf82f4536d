"""What partnerships does with other services' events: keep its factory read model, count entitlements the
invoicing service sold, and alert partners of zero-tolerance cases (webhooks and `alert.raised`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from betterwork_contracts.events.assessments import ZeroToleranceCaseOpened, ZeroToleranceCaseUpdated
from betterwork_contracts.events.invoicing import EntitlementPurchased
from betterwork_contracts.events.partnerships import AlertRaised
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from partnerships.adapters.tables import ALERT, FACTORY_REF
from partnerships.service import deliveries
from partnerships.service.relationships import add_entitlement, consented_alert_buyers, current_links, ids
from servicekit.database import UnitOfWork

ALERT_EVENT_TYPE = "alert.raised"


async def _upsert_factory(uow: UnitOfWork, factory_id: uuid.UUID, version: int, **values: object) -> None:
    """Apply a registry change unless a newer one is already here (events of one factory arrive in order)."""
    stmt = insert(FACTORY_REF).values(factory_id=factory_id, version=version, updated_at=datetime.now(UTC), **values)
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["factory_id"],
            set_={**values, "version": version, "updated_at": stmt.excluded.updated_at},
            where=FACTORY_REF.c.version < version,
        )
    )


async def _known(uow: UnitOfWork, factory_id: uuid.UUID) -> bool:
    """Whether the factory's registration reached this service (changes of others are not kept)."""
    found = await uow.session.execute(select(FACTORY_REF.c.factory_id).where(FACTORY_REF.c.factory_id == factory_id))
    return found.first() is not None


async def factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    await _upsert_factory(
        uow, event.factory_id, event.version, name=event.name, country=event.country, status="registered"
    )


async def factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    values: dict[str, object] = {"name": event.changes.name} if event.changes.name else {}
    known = await _known(uow, event.factory_id)
    if not known:
        return  # registered before this service listened; the next registration-complete event brings it
    await _upsert_factory(uow, event.factory_id, event.version, **values)


async def factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    known = await _known(uow, event.factory_id)
    if known:
        await _upsert_factory(uow, event.factory_id, event.version, status=event.status)


async def factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    known = await _known(uow, event.factory_id)
    if known:
        await _upsert_factory(uow, event.factory_id, event.version, merged_into=event.survivor_id)


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


async def _alert(
    uow: UnitOfWork,
    *,
    kind: str,
    case_id: uuid.UUID,
    factory_id: uuid.UUID,
    country: str,
    category: str,
    status: str,
    parties: list[str],
) -> None:
    now = datetime.now(UTC)
    buyers = ids(await current_links(uow, factory_id, now.date()) | await consented_alert_buyers(uow, factory_id, now))
    alert_id = uuid.uuid4()
    data = {
        "alert_id": str(alert_id),
        "kind": kind,
        "case_id": str(case_id),
        "factory_id": str(factory_id),
        "country": country,
        "category": category,
        "status": status,
        "raised_at": now.isoformat(),
    }
    endpoints = await deliveries.enqueue(
        uow.session, event_type=ALERT_EVENT_TYPE, data=data, buyer_ids=buyers, parties=parties, country=country
    )
    await uow.session.execute(
        ALERT.insert().values(
            id=alert_id,
            kind=kind,
            case_id=case_id,
            factory_id=factory_id,
            country=country,
            category=category,
            status=status,
            buyer_ids=buyers,
            parties=parties,
            endpoints=endpoints,
            raised_at=now,
        )
    )
    for buyer_id in buyers:  # one event per buyer: none learns who else sources from the factory
        uow.emit(
            AlertRaised.model_validate(
                {
                    "alert_id": alert_id,
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


async def case_opened(uow: UnitOfWork, event: ZeroToleranceCaseOpened, envelope: Envelope) -> None:
    await _alert(
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
    opened = (
        await uow.session.execute(select(ALERT.c.parties).where(ALERT.c.case_id == event.case_id).limit(1))
    ).scalar()
    await _alert(
        uow,
        kind="zero_tolerance.case_updated",
        case_id=event.case_id,
        factory_id=event.factory_id,
        country=event.country,
        category=event.category,
        status=event.status,
        parties=list(opened or ()),
    )
