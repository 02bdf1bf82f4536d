"""What every integration event model declares about itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Topic:
    name: str
    key: str  # what the Kafka key is, in words: "factory id"
    publisher: str  # the one service that writes it
    summary: str
    partitions: int = 6


class EventPart(BaseModel):
    """Any object inside an event: consumers ignore fields they do not know (forward compatibility).

    Producers may only add optional fields with defaults (backward compatibility).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


class IntegrationEvent(EventPart):
    """Base of every event payload (the CloudEvents `data`)."""

    type: ClassVar[str]  # CloudEvents type, with its version: org.betterwork.registry.factory.registered.v1
    topic: ClassVar[Topic]
    aggregate_id_field: ClassVar[str]  # the field whose value is the Kafka key and the CloudEvents subject
    consumers: ClassVar[tuple[str, ...]] = ()  # services that subscribe, for the AsyncAPI document

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate_id_field))

    @classmethod
    def type_version(cls) -> int:
        return int(cls.type.rsplit(".v", 1)[1])
