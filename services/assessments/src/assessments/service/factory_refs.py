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
from betterwork_contracts.events.registry import FactoryRegistered, FactoryUpdated
from messaging.envelope import Envelope
from messaging.errors import NotYetKnown, RuleViolation
from servicekit.database import UnitOfWork

_REGISTER = text(
    """WITH registered AS (
         INSERT INTO assessments.factory_ref (factory_id, name, country, version, updated_at)
         VALUES (:factory_id, :name, :country, :version, :at)
         ON CONFLICT (factory_id) DO NOTHING
         RETURNING factory_id, version, name)
       INSERT INTO assessments.factory_ref_change (factory_id, version, name, event_id, applied_at)
       SELECT factory_id, version, name, :event_id, :applied_at FROM registered
       RETURNING 1"""
)

_UPDATE = text(
    """WITH updated AS (
         UPDATE assessments.factory_ref SET name = coalesce(:name, name), version = :version, updated_at = :at
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
            "version": event.version,
            "at": event.updated_at,
            "event_id": envelope.id,
            "applied_at": datetime.now(UTC),
        },
    )
    if applied.first() is not None:
        return
    held = (await uow.session.execute(_VERSION, {"factory_id": event.factory_id})).scalar()
    if held is None:
        raise NotYetKnown(f"update of factory {event.factory_id}, which was never registered here")
    if decide(held, event.version) is Apply.GAP:
        raise RuleViolation(f"factory {event.factory_id} jumps from version {held} to {event.version}")
    # Apply.REPEAT: applied before.
