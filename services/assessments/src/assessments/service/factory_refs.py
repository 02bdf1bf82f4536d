"""Keep the factory read model in step with the registry.

The common case (the next version of a factory) is one statement that changes the
read model and logs the change; only a repeat, a gap or an unknown factory reads the
current version to decide which it is. (One statement per event keeps the consumer
above 1,000 events/s per process: bench/consumer_throughput.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from assessments.domain.factory_ref import Apply, decide
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from messaging.errors import NotYetKnown, RuleViolation
from servicekit.database import UnitOfWork

_REGISTER = text(
    """WITH registered AS (
         INSERT INTO assessments.factory_ref (factory_id, name, country, version, updated_at, slcp_facility_id)
         VALUES (:factory_id, :name, :country, :version, :at, :slcp)
         ON CONFLICT (factory_id) DO NOTHING
         RETURNING factory_id, version, name)
       INSERT INTO assessments.factory_ref_change (factory_id, version, name, event_id, applied_at)
       SELECT factory_id, version, name, :event_id, :applied_at FROM registered
       RETURNING 1"""
)

_UPDATE = text(
    """WITH updated AS (
         UPDATE assessments.factory_ref SET name = coalesce(:name, name), version = :version, updated_at = :at,
           slcp_facility_id = CASE WHEN :slcp_cleared THEN NULL ELSE coalesce(:slcp, slcp_facility_id) END
         WHERE factory_id = :factory_id AND version = :version - 1
         RETURNING factory_id, version, name)
       INSERT INTO assessments.factory_ref_change (factory_id, version, name, event_id, applied_at)
       SELECT factory_id, version, name, :event_id, :applied_at FROM updated
       RETURNING 1"""
)

_VERSION = text("SELECT version FROM assessments.factory_ref WHERE factory_id = :factory_id")


async def record_factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    """A new factory; registering one already known is a repeat (the registry's first version is always 1)."""
    await uow.session.execute(
        _REGISTER,
        {
            "factory_id": event.factory_id,
            "name": event.name,
            "country": event.country,
            "version": event.version,
            "at": event.registered_at,
            "slcp": event.profile.slcp_facility_id if event.profile else None,
            "event_id": envelope.id,
            "applied_at": datetime.now(UTC),
        },
    )


async def record_factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    applied = await uow.session.execute(
        _UPDATE,
        {
            "factory_id": event.factory_id,
            "name": event.changes.name,
            "slcp": event.changes.slcp_facility_id,
            "slcp_cleared": "slcp_facility_id" in event.changes.cleared,
            "version": event.version,
            "at": event.updated_at,
            "event_id": envelope.id,
            "applied_at": datetime.now(UTC),
        },
    )
    await _next_version_or_explain(uow, applied.first(), event.factory_id, event.version, "update")


_STATUS = text(
    """WITH updated AS (
         UPDATE assessments.factory_ref SET status = :status, version = :version, updated_at = :at
         WHERE factory_id = :factory_id AND version = :version - 1
         RETURNING factory_id, version, name)
       INSERT INTO assessments.factory_ref_change (factory_id, version, name, change, event_id, applied_at)
       SELECT factory_id, version, name, :change, :event_id, :applied_at FROM updated
       RETURNING 1"""
)

_MERGED = text(
    """WITH updated AS (
         UPDATE assessments.factory_ref SET merged_into = :survivor_id, version = :version, updated_at = :at
         WHERE factory_id = :factory_id AND version = :version - 1
         RETURNING factory_id, version, name)
       INSERT INTO assessments.factory_ref_change (factory_id, version, name, change, event_id, applied_at)
       SELECT factory_id, version, name, 'merged', :event_id, :applied_at FROM updated
       RETURNING 1"""
)


async def _next_version_or_explain(
    uow: UnitOfWork, applied: object, factory_id: object, version: int, what: str
) -> None:
    """Nothing to do when the statement applied the event; otherwise tell a repeat from a gap or an unknown."""
    if applied is not None:
        return
    held = (await uow.session.execute(_VERSION, {"factory_id": factory_id})).scalar()
    if held is None:
        raise NotYetKnown(f"{what} of factory {factory_id}, which was never registered here")
    if decide(held, version) is Apply.GAP:
        raise RuleViolation(f"factory {factory_id} jumps from version {held} to {version}")


async def record_factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    """Enrolment moved (assessments may only be scheduled for enrolled or active factories)."""
    applied = await uow.session.execute(
        _STATUS,
        {
            "factory_id": event.factory_id,
            "status": event.status,
            "change": event.change,
            "version": event.version,
            "at": event.changed_at,
            "event_id": envelope.id,
            "applied_at": datetime.now(UTC),
        },
    )
    await _next_version_or_explain(uow, applied.first(), event.factory_id, event.version, "status change")


async def record_factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    """The factory lives on as `survivor_id`; look it up through `merged_into`."""
    applied = await uow.session.execute(
        _MERGED,
        {
            "factory_id": event.factory_id,
            "survivor_id": event.survivor_id,
            "version": event.version,
            "at": event.merged_at,
            "event_id": envelope.id,
            "applied_at": datetime.now(UTC),
        },
    )
    await _next_version_or_explain(uow, applied.first(), event.factory_id, event.version, "merge")
