"""Events the registry service publishes about factories."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import EventPart, IntegrationEvent, Topic

FACTORY_TOPIC = Topic(
    name="registry.factory",
    key="factory id",
    publisher="registry",
    summary="Lifecycle of factories: registered, updated, status changed, merged.",
)


class FactoryRegistered(IntegrationEvent):
    """A factory entered the registry."""

    type: ClassVar[str] = "org.betterwork.registry.factory.registered.v1"
    topic: ClassVar[Topic] = FACTORY_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments",)

    factory_id: UUID
    version: int = Field(ge=1, description="Version of the factory record after this change; 1 when registered.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    name: str = Field(min_length=1, max_length=300, description="Legal name.")
    registered_at: datetime


class FactoryChanges(EventPart):
    """The new values of the fields that changed (absent: unchanged)."""

    name: str | None = Field(default=None, min_length=1, max_length=300)


class FactoryUpdated(IntegrationEvent):
    """Fields of a factory changed; only the changed fields are present in `changes`."""

    type: ClassVar[str] = "org.betterwork.registry.factory.updated.v1"
    topic: ClassVar[Topic] = FACTORY_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments",)

    factory_id: UUID
    version: int = Field(ge=2, description="Version of the factory record after this change.")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    changes: FactoryChanges
    updated_at: datetime
