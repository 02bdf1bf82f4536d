"""A zero-tolerance alert: who was told of a case at a factory, and what they were told."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

ALERT_EVENT_TYPE = "alert.raised"  # the webhook event type


ZERO_TOLERANCE_OPENED, ZERO_TOLERANCE_UPDATED = "zero_tolerance.case_opened", "zero_tolerance.case_updated"
INDUSTRY_ALERT = "industry_alert"  # an industry alert staff issued (`industry_alert_id` names it)


@dataclass(frozen=True)
class Alert:
    """One alert raised: to the buyers (and, for a case, the protocol parties) it names."""

    id: uuid.UUID
    kind: str  # zero_tolerance.case_opened, zero_tolerance.case_updated, industry_alert
    case_id: uuid.UUID | None  # a zero-tolerance case's alert
    factory_id: uuid.UUID | None  # the case's factory; none for an industry alert (it may concern many)
    country: str
    category: str
    status: str
    buyer_ids: list[uuid.UUID]
    parties: list[str]
    endpoints: int | None  # webhook endpoints it was sent to (None: not shown to this reader)
    raised_at: datetime
    industry_alert_id: uuid.UUID | None = None

    def as_seen_by_buyer(self, buyer_id: uuid.UUID) -> Alert:
        """What one alerted buyer may read: itself among those told, never the other buyers (who buys from
        whom is confidential), nor how many endpoints were told (that counts the other buyers too)."""
        return replace(self, buyer_ids=[b for b in self.buyer_ids if b == buyer_id], endpoints=None)

    def webhook_data(self) -> dict[str, Any]:
        """What a webhook carries: only what the case event carried, never who else was alerted."""
        return {
            "alert_id": str(self.id),
            "kind": self.kind,
            "case_id": str(self.case_id) if self.case_id else None,
            "factory_id": str(self.factory_id) if self.factory_id else None,
            "country": self.country,
            "category": self.category,
            "status": self.status,
            "raised_at": self.raised_at.isoformat(),
        }
