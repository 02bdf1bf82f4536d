"""Request and response models of webhook endpoints and their delivery log.

Inputs derive from `StrictInput` (unknown fields are refused); outputs are separate classes, built from the
domain records the use cases return: an endpoint's secrets appear only as dates, and its value only in the
answer that created it (`EndpointWithSecret`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from betterwork_contracts.countries import is_country
from partnerships.domain.webhooks import SUBSCRIBABLE
from servicekit.edge import StrictInput

EventType = Literal[
    "alert.raised",
    "assessment.released",
    "report_access.granted",
    "report_access.revoked",
    "progress_report_access.granted",
    "progress_report_access.revoked",
    "zero_tolerance.case_updated",
    "zero_tolerance.case_not_confirmed",
    "*",
]
assert set(EventType.__args__) == set(SUBSCRIBABLE), "EventType must list domain.webhooks.SUBSCRIBABLE"  # type: ignore[attr-defined]
EndpointStatus = Literal["enabled", "disabled"]
MessageStatus = Literal["pending", "delivered", "failed", "skipped"]


class EndpointIn(StrictInput):
    url: str = Field(
        min_length=8, max_length=2000, description="HTTPS URL on a public address (checked, also when resolved)."
    )
    event_types: list[EventType] = Field(
        min_length=1,
        max_length=20,
        description='Event types, or "*" for every type the owner may receive. Buyers: alert.raised, '
        "assessment.released, report_access.granted/revoked, progress_report_access.granted/revoked; service clients: "
        "alert.raised, zero_tolerance.case_updated, zero_tolerance.case_not_confirmed. Any other is refused (422).",
    )
    description: str | None = Field(default=None, max_length=500)
    country: str | None = Field(
        default=None, description="Service clients: ISO 3166-1 alpha-2 of the country whose alerts it takes."
    )
    party: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{1,63}$",
        description="Service clients: the zero-tolerance protocol party it is, e.g. `ministry_of_labour`. The "
        "token must hold the scope `zt:receive:<party>:<country>`; alerts come once staff of the country granted "
        "the party (`POST .../party-grant`).",
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and not is_country(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value.upper() if value else None


class EndpointPatch(StrictInput):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(
        default=None, description="true: deliver again (clears the failure count); false: stop delivering."
    )

    @model_validator(mode="before")
    @classmethod
    def _null_only_for_description(cls, data: Any) -> Any:
        """`description: null` clears it; a null url, event types or switch means nothing and is refused."""
        if isinstance(data, dict):
            nulls = sorted(k for k in ("url", "event_types", "enabled") if k in data and data[k] is None)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null; leave the field out to keep it")
        return data


class PartyGrantIn(StrictInput):
    party: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,63}$",
        description="The zero-tolerance protocol party whose alerts this service client's endpoint receives.",
    )


class SecretInfo(BaseModel):
    created_at: datetime
    expires_at: datetime | None = Field(description="Set on a rotated-out secret: it signs until then.")


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    owner_type: Literal["buyer", "service"]
    owner_id: str = Field(description="Buyer id, or the service client's token subject.")
    country: str | None
    party: str | None
    status: EndpointStatus
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="Why it stopped receiving, for its owner.")
    signing_secrets: list[SecretInfo] = Field(description="Live secrets (values are shown only when created).")
    created_at: datetime
    created_by: str
    updated_at: datetime
    party_granted_by: str | None = Field(default=None, description="Staff who granted the endpoint its party.")
    party_granted_at: datetime | None = Field(
        default=None, description="When; alerts by party reach a service client's endpoint only after it."
    )


class EndpointWithSecret(EndpointOut):
    secret: str = Field(
        description="Signing secret (`whsec_...`), shown this once: verify deliveries with any Standard Webhooks "
        "library."
    )


class RotateIn(StrictInput):
    overlap_hours: float | None = Field(
        default=None, ge=0, le=168, description="How long old secrets keep signing (default 24; 0 after a leak)."
    )


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; none if it never answered.")
    latency_ms: float | None
    error: str | None
    manual: bool


class MessageOut(BaseModel):
    id: uuid.UUID = Field(description="The `webhook-id` header: the same on every attempt.")
    endpoint_id: uuid.UUID
    event_type: str
    body: str = Field(description="The exact JSON body signed and sent.")
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[AttemptOut] = Field(default_factory=list)


class Redelivery(BaseModel):
    message: MessageOut
    attempt: AttemptOut
