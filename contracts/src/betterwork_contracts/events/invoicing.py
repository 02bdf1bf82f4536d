"""Events the invoicing service will publish, defined now because the partnerships service handles them."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import IntegrationEvent, Topic

ENTITLEMENT_TOPIC = Topic(
    name="invoicing.entitlement",
    key="factory id",
    publisher="invoicing",
    summary="Reporting cycles a buyer paid for or spent a credit on.",
)


class EntitlementPurchased(IntegrationEvent):
    """A buyer unlocked a factory's reporting cycle (one assessment report and its two progress reports)."""

    type: ClassVar[str] = "org.betterwork.invoicing.entitlement.purchased.v1"
    topic: ClassVar[Topic] = ENTITLEMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("partnerships",)

    entitlement_id: UUID
    buyer_id: UUID
    factory_id: UUID
    cycle: int = Field(ge=1)
    source: Literal["credit", "payment"]
    purchased_at: datetime
