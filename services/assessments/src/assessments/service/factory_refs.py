"""Keep the factory read model in step with the registry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from assessments.adapters.tables import FactoryRef, FactoryRefChange
from assessments.domain.factory_ref import Apply, decide
from betterwork_contracts.events.registry import FactoryRegistered, FactoryUpdated
from messaging.envelope import Envelope
from messaging.errors import NotYetKnown, RuleViolation
from servicekit.database import UnitOfWork


async def record_factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    ref = await uow.session.get(FactoryRef, event.factory_id, with_for_update=True)
    if decide(ref.version if ref else None, event.version) is not Apply.APPLY:
        return
    uow.session.add(
        FactoryRef(
            factory_id=event.factory_id,
            name=event.name,
            country=event.country,
            version=event.version,
            updated_at=event.registered_at,
        )
    )
    _log_change(uow, event.factory_id, event.version, event.name, envelope)


async def record_factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    ref = await uow.session.get(FactoryRef, event.factory_id, with_for_update=True)
    if ref is None:
        raise NotYetKnown(f"update of factory {event.factory_id}, which was never registered here")
    verdict = decide(ref.version, event.version)
    if verdict is Apply.REPEAT:
        return
    if verdict is Apply.GAP:
        raise RuleViolation(f"factory {event.factory_id} jumps from version {ref.version} to {event.version}")
    if event.changes.name is not None:
        ref.name = event.changes.name
    ref.version, ref.updated_at = event.version, event.updated_at
    _log_change(uow, event.factory_id, event.version, ref.name, envelope)


def _log_change(uow: UnitOfWork, factory_id: uuid.UUID, version: int, name: str, envelope: Envelope) -> None:
    uow.session.add(
        FactoryRefChange(
            factory_id=factory_id, version=version, name=name, event_id=envelope.id, applied_at=datetime.now(UTC)
        )
    )
