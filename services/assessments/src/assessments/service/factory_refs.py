"""What assessments knows about factories: the registry's events kept as a read model, and the look-up the
use cases make before they act on a factory.

Events of one factory apply in version order under messaging's one rule (`messaging.read_model`): the next
version applies, a repeat changes nothing, a gap or a factory never registered here is retried and then
dead-lettered. Each event is one statement in the common case.
"""

from __future__ import annotations

import uuid
from typing import Any

from assessments.adapters import factory_refs as read_model
from assessments.domain.assessment import FactoryRef
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict


async def record_factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    """A new factory; registering one already known is a repeat (the registry's first version is always 1)."""
    values = {
        "name": event.name,
        "country": event.country,
        "updated_at": event.registered_at,
        "slcp_facility_id": event.profile.slcp_facility_id if event.profile else None,
    }
    await read_model.register(uow.session, event.factory_id, event.version, values, event_id=envelope.id)


async def record_factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    """Changed fields only: a field the update does not name keeps its value, a cleared one is emptied."""
    values: dict[str, Any] = {"updated_at": event.updated_at}
    if event.changes.name is not None:
        values["name"] = event.changes.name
    if "slcp_facility_id" in event.changes.cleared:
        values["slcp_facility_id"] = None
    elif event.changes.slcp_facility_id is not None:
        values["slcp_facility_id"] = event.changes.slcp_facility_id
    await read_model.apply(uow.session, event.factory_id, event.version, values, event_id=envelope.id)


async def record_factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    """Enrolment moved (assessments may only be scheduled for enrolled or active factories)."""
    values = {"status": event.status, "updated_at": event.changed_at}
    await read_model.apply(
        uow.session, event.factory_id, event.version, values, event_id=envelope.id, change=event.change
    )


async def record_factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    """The factory lives on as `survivor_id`; look it up through `merged_into`."""
    values = {"merged_into": event.survivor_id, "updated_at": event.merged_at}
    await read_model.apply(uow.session, event.factory_id, event.version, values, event_id=envelope.id, change="merged")


async def known_factory(uow: UnitOfWork, factory_id: uuid.UUID) -> FactoryRef:
    """The factory as the registry last said (409 if its events have not arrived yet, or it was merged)."""
    factory = await read_model.load(uow.session, factory_id)
    if factory is None:
        raise _unknown(factory_id)
    if factory.merged_into is not None:
        raise Conflict(f"Factory {factory_id} was merged into {factory.merged_into}; use that id.")
    return factory


def _unknown(factory_id: uuid.UUID) -> Conflict:
    return Conflict(f"Factory {factory_id} is not known here yet (the registry's events may still be on their way).")


async def staff_factory(uow: UnitOfWork, principal: Principal, factory_id: uuid.UUID) -> FactoryRef:
    """The factory, for a change by staff of its country; to anyone else it is answered as one never registered
    (409), so a write tells nobody that another programme's factory exists."""
    factory = await read_model.load(uow.session, factory_id)
    if factory is None or not principal.is_staff_of(factory.country):
        raise _unknown(factory_id)
    if factory.merged_into is not None:
        raise Conflict(f"Factory {factory_id} was merged into {factory.merged_into}; use that id.")
    return factory
