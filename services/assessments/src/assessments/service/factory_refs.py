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
from assessments.adapters import merges
from assessments.adapters.tables import SCHEMA
from assessments.domain import merge
from assessments.domain.assessment import FactoryRef
from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered, CycleMove
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from messaging.read_model import Apply
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, merged_factory


class MergedFactory(Exception):
    """A read by an id the registry merged into another: the API answers with a permanent redirect (308)."""

    def __init__(self, survivor_id: uuid.UUID) -> None:
        super().__init__(str(survivor_id))
        self.survivor_id = survivor_id


REGISTRY_EVENTS = Principal(subject="assessments:registry-events", roles=frozenset({Role.SERVICE}))


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
    """The factory lives on as `survivor_id`: its assessments, cases, SLCP imports and report access move there in
    this transaction, the cycles of both renumbered by date (`domain.merge`), and `cycles.renumbered` tells
    partnerships how to re-key entitlements. A repeat of the event changes nothing."""
    values = {"merged_into": event.survivor_id, "updated_at": event.merged_at}
    applied = await read_model.apply(
        uow.session, event.factory_id, event.version, values, event_id=envelope.id, change="merged"
    )
    if applied is not Apply.APPLY:
        return
    retired, survivor = event.factory_id, event.survivor_id
    renumbering = merge.renumber(await merges.members(uow.session, [retired, survivor]), survivor=survivor)
    await merges.move_assessments(uow.session, survivor, renumbering)
    await merges.move_factory_rows(uow.session, retired, survivor)
    await merges.move_report_access(uow.session, retired, survivor, renumbering)
    moves = [
        CycleMove(factory_id=factory_id, from_cycle=old, to_cycle=new)
        for (factory_id, old), new in sorted(renumbering.cycles.items(), key=lambda item: item[1])
        if factory_id == retired or old != new
    ]
    await record_audit(
        uow.session, schema=SCHEMA, actor=REGISTRY_EVENTS, action="factory.merged", entity_type="factory",
        entity_id=str(retired), country=event.country,
        details={"survivor_id": str(survivor), "assessments": len(renumbering.assessments),
                 "cycles": {f"{f}:{old}": new for (f, old), new in renumbering.cycles.items()}},
    )  # fmt: skip
    uow.emit(
        AssessmentCyclesRenumbered(
            factory_id=survivor, retired_id=retired, country=event.country, moves=moves, renumbered_at=event.merged_at
        ),
        country=event.country,
    )


async def known_factory(uow: UnitOfWork, factory_id: uuid.UUID) -> FactoryRef:
    """The factory as the registry last said (409 if its events have not arrived yet, or it was merged)."""
    factory = await read_model.load(uow.session, factory_id)
    if factory is None:
        raise _unknown(factory_id)
    if factory.merged_into is not None:
        raise merged_factory(factory_id, factory.merged_into)
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
        raise merged_factory(factory_id, factory.merged_into)
    return factory
