"""The one list of event types and topics; add a model here when a service starts publishing it."""

from __future__ import annotations

from betterwork_contracts.base import IntegrationEvent, Topic
from betterwork_contracts.events.registry import FactoryRegistered, FactoryUpdated

_ALL: tuple[type[IntegrationEvent], ...] = (FactoryRegistered, FactoryUpdated)

EVENTS: dict[str, type[IntegrationEvent]] = {model.type: model for model in _ALL}
TOPICS: dict[str, Topic] = {model.topic.name: model.topic for model in _ALL}

if len(EVENTS) != len(_ALL):
    raise RuntimeError("two event models declare the same type")


def event_class(event_type: str) -> type[IntegrationEvent] | None:
    return EVENTS.get(event_type)
