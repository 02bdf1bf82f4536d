"""Request and response models of industry alerts."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from betterwork_contracts.countries import is_country
from servicekit.edge import StrictInput


class IndustryAlertIn(StrictInput):
    kind: str = Field(
        min_length=1,
        max_length=64,
        description="One of the industry alert kinds of the subscription rules (`data/subscriptions.yaml`): strike, "
        "building_safety, wage_decision, labour_law_change, natural_disaster, public_health, civil_unrest.",
    )
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    country: str = Field(description="ISO 3166-1 alpha-2: the programme whose partners are told (the caller's).")
    factory_ids: list[uuid.UUID] = Field(
        default=[], max_length=500, description="Only the partners of these factories (of the country)."
    )
    province: str | None = Field(
        default=None, min_length=1, max_length=200, description="Only the partners of factories in this province."
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not is_country(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value.upper()


class IndustryAlertOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    country: str
    factory_ids: list[uuid.UUID] = Field(
        description="The factories it concerns (empty: the whole country or province); a buyer sees only those it "
        "sources from."
    )
    province: str | None
    buyer_ids: list[uuid.UUID] = Field(description="The partners it was sent to; a buyer sees only itself here.")
    endpoints: int | None = Field(description="Webhook endpoints it was sent to (null for a buyer).")
    rules_version: int = Field(description="Version of the subscription rules that chose who was told.")
    issued_by: str
    issued_at: datetime
