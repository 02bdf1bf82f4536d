"""Request and response models of buyers, sourcing links, consent, entitlements, report access and alerts.

Inputs derive from `StrictInput` (unknown fields are refused); outputs are separate classes, built from the
domain records the use cases return.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from betterwork_contracts.countries import is_country
from partnerships.domain.relationships import Scope, Tier
from servicekit.edge import PatchInput, StrictInput


class Contact(StrictInput):
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BuyerFields(StrictInput):
    agreement_signed_on: date | None = Field(default=None, description="Partnership agreement signed.")
    agreement_commitments: list[Annotated[str, Field(min_length=1, max_length=500)]] | None = Field(
        default=None, max_length=50
    )
    agreement_review_date: date | None = None
    contacts: list[Contact] | None = Field(default=None, max_length=20)


class BuyerIn(BuyerFields):
    name: str = Field(min_length=1, max_length=300)
    headquarters_country: str = Field(description="ISO 3166-1 alpha-2.")
    tier: Tier = Tier.PARTICIPANT

    @field_validator("headquarters_country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not is_country(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value.upper()


class BuyerPatch(PatchInput, BuyerFields):
    """Fields left out keep their value; the agreement dates and the tier reason may be cleared with null; send
    `[]` to empty the commitments or contacts."""

    clearable = frozenset({"agreement_signed_on", "agreement_review_date", "tier_reason"})
    name: str | None = Field(default=None, min_length=1, max_length=300)
    tier: Tier | None = Field(default=None, description="Upgrade to partner, or downgrade to participant.")
    tier_reason: str | None = Field(default=None, max_length=1000)


class TierChange(BaseModel):
    from_tier: Tier | None
    to_tier: Tier
    at: datetime
    by_subject: str
    reason: str | None


class BuyerOut(BaseModel):
    id: uuid.UUID
    name: str
    headquarters_country: str
    tier: Tier
    agreement_signed_on: date | None
    agreement_commitments: list[str]
    agreement_review_date: date | None
    contacts: list[dict[str, Any]]
    version: int
    created_at: datetime
    updated_at: datetime
    home_country: str | None = Field(
        None, description="The programme that manages the brand (its staff change it); null: admins only."
    )
    tier_history: list[TierChange] | None = None


class LinkIn(StrictInput):
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    start_date: date | None = None


class LinkOut(BaseModel):
    id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    status: Literal["declared", "confirmed", "ended"]
    declared_by: Literal["buyer", "factory", "staff"]
    confirmed_by: Literal["buyer", "factory", "staff"] | None
    confirmed_at: datetime | None
    start_date: date | None
    end_date: date | None
    created_at: datetime


class LinkEnd(StrictInput):
    end_date: date


class ConsentIn(StrictInput):
    buyer_id: uuid.UUID
    scopes: list[Scope] = Field(min_length=1, description="assessment_reports, progress_reports, zero_tolerance_alerts")
    expires_at: datetime | None = Field(default=None, description="Default: until revoked.")


class ConsentOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    buyer_id: uuid.UUID
    scopes: list[Scope]
    granted_at: datetime
    granted_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: Literal["revoked", "expired"] | None


class EntitlementIn(StrictInput):
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int = Field(ge=1, description="The factory's reporting cycle (assessment report and two progress reports).")


class EntitlementOut(BaseModel):
    id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int
    source: Literal["staff", "credit", "payment"]
    granted_at: datetime
    granted_by: str


class AccessOut(BaseModel):
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int
    granted: bool = Field(description="The buyer may read the cycle's assessment report (scope assessment_reports).")
    decided_at: datetime
    progress_reports_granted: bool = Field(
        description="The buyer may read the cycle's progress reports (scope progress_reports), decided on its own."
    )


class AlertOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="zero_tolerance.case_opened, zero_tolerance.case_updated or industry_alert.")
    case_id: uuid.UUID | None = Field(description="The zero-tolerance case (null for an industry alert).")
    factory_id: uuid.UUID | None = Field(description="The case's factory (null for an industry alert).")
    country: str
    category: str
    status: str
    buyer_ids: list[uuid.UUID] = Field(description="Buyers alerted; a buyer sees only itself here.")
    parties: list[str]
    endpoints: int | None = Field(description="Webhook endpoints the alert was sent to (null for a buyer).")
    raised_at: datetime
    industry_alert_id: uuid.UUID | None = Field(
        default=None, description="The industry alert (`GET /v1/industry-alerts/{id}`), for kind industry_alert."
    )
