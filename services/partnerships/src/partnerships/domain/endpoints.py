"""A webhook endpoint: where one subscriber's deliveries go, the secrets that sign them, and whether it receives.

States: `enabled` receives; `disabled` (by its owner or staff, or after repeated failure) does not; `deleted` is
gone for its owner: its secrets are erased and it is hidden, its delivery log is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from partnerships.domain import webhooks as rules

ENABLED, DISABLED, DELETED = "enabled", "disabled", "deleted"
BUYER_OWNER, SERVICE_OWNER = "buyer", "service"


@dataclass(frozen=True)
class Endpoint:
    id: uuid.UUID
    owner_type: str  # "buyer" (owner_id = buyer id as text) or "service" (owner_id = the client's subject)
    owner_id: str
    country: str | None  # service clients: the country whose alerts they take
    party: str | None  # service clients: the protocol party they are (ministry_of_labour, ...)
    url: str
    description: str | None
    event_types: list[str]
    secrets: list[dict[str, Any]]  # as stored: sealed or not (see `webhooks.EndpointSecret.to_json`)
    status: str
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    # A service client names the party it is; it receives that party's alerts only once staff of its
    # country granted it (nobody declares a protocol party for themselves).
    party_granted_by: str | None = None
    party_granted_at: datetime | None = None

    @property
    def signing_secrets(self) -> list[dict[str, datetime | None]]:
        """When each secret was made and stops signing: what its readers may see (never the values)."""
        return rules.secret_dates(self.secrets)


def new_endpoint(
    *, owner_type: str, owner_id: str, country: str | None, party: str | None, url: str, description: str | None,
    event_types: Sequence[str], secrets: list[dict[str, Any]], subject: str, now: datetime,
) -> Endpoint:  # fmt: skip
    return Endpoint(
        id=uuid.uuid4(),
        owner_type=owner_type,
        owner_id=owner_id,
        country=country,
        party=party,
        url=url,
        description=description,
        event_types=sorted(set(event_types)),
        secrets=secrets,
        status=ENABLED,
        consecutive_failures=0,
        disabled_at=None,
        disabled_reason=None,
        created_at=now,
        created_by=subject,
        updated_at=now,
    )


def enabled(endpoint: Endpoint, now: datetime) -> Endpoint:
    """Receiving again, with a clean failure run (a no-op on an enabled endpoint)."""
    if endpoint.status == ENABLED:
        return endpoint
    return replace(endpoint, status=ENABLED, consecutive_failures=0, disabled_at=None, disabled_reason=None)


def disabled(endpoint: Endpoint, reason: str, now: datetime) -> Endpoint:
    return replace(endpoint, status=DISABLED, disabled_at=now, disabled_reason=reason, updated_at=now)


def party_granted(endpoint: Endpoint, party: str, subject: str, now: datetime) -> Endpoint:
    """Staff of the endpoint's country made it this protocol party's receiver."""
    return replace(endpoint, party=party, party_granted_by=subject, party_granted_at=now, updated_at=now)


def deleted(endpoint: Endpoint, subject: str, now: datetime) -> Endpoint:
    """Hidden, secrets erased, nothing delivered any more; the record stays for its delivery log."""
    return replace(endpoint, status=DELETED, secrets=[], disabled_at=now, disabled_reason=f"deleted by {subject}")
