"""An industry alert: news staff of a country programme send its partners (a strike, a building safety warning, a
wage decision), to the whole country, one province, or named factories.

Who receives it is the subscription rules' call (`domain/subscriptions.py`: partners, not participants) among the
buyers linked to a factory it concerns. A buyer reads it as one of those it was sent to: never the other buyers,
and of the named factories only those it sources from (who buys from whom is confidential).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from partnerships.domain.alerts import INDUSTRY_ALERT, Alert


class IndustryAlertError(ValueError):
    """The alert's audience is not clear (`field` names the input at fault)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class IndustryAlert:
    id: uuid.UUID
    kind: str  # one of the rules' industry_alert_kinds
    title: str
    body: str
    country: str
    factory_ids: list[uuid.UUID]  # empty: every factory of the country (or of the province)
    province: str | None
    buyer_ids: list[uuid.UUID]  # the partners it was sent to
    endpoints: int | None  # webhook endpoints it went to (None: not shown to this reader)
    rules_version: int  # of the subscription rules that chose the audience
    issued_by: str
    issued_at: datetime

    def as_seen_by_buyer(self, buyer_id: uuid.UUID, sources_from: Iterable[uuid.UUID]) -> IndustryAlert:
        """What one buyer it was sent to reads: itself among the recipients, and of the named factories only those
        it sources from."""
        own = set(sources_from)
        return replace(
            self,
            buyer_ids=[b for b in self.buyer_ids if b == buyer_id],
            factory_ids=[f for f in self.factory_ids if f in own],
            endpoints=None,
        )

    def alert(self, alert_id: uuid.UUID) -> Alert:
        """Its row among the alerts (`GET /v1/alerts`), to the same buyers."""
        return Alert(
            id=alert_id, kind=INDUSTRY_ALERT, case_id=None, factory_id=None, country=self.country,
            category=self.kind, status="issued", buyer_ids=list(self.buyer_ids), parties=[],
            endpoints=self.endpoints, raised_at=self.issued_at, industry_alert_id=self.id,
        )  # fmt: skip

    def webhook_data(self, alert_id: uuid.UUID, factory_ids: Iterable[uuid.UUID]) -> dict[str, Any]:
        """An `alert.raised` delivery: the alert's fields as a case alert has them, and what staff wrote; of the
        named factories only `factory_ids` (those the receiving buyer sources from)."""
        return {
            "alert_id": str(alert_id),
            "kind": INDUSTRY_ALERT,
            "case_id": None,
            "factory_id": None,
            "country": self.country,
            "category": self.kind,
            "status": "issued",
            "raised_at": self.issued_at.isoformat(),
            "industry_alert_id": str(self.id),
            "title": self.title,
            "body": self.body,
            "province": self.province,
            "factory_ids": sorted(str(f) for f in factory_ids),
        }


def check_audience(factory_ids: Iterable[uuid.UUID], province: str | None) -> None:
    """Named factories or a province narrow the country's audience; both at once would be ambiguous."""
    if list(factory_ids) and province:
        raise IndustryAlertError("Name factories or a province, not both.", "province")


def groups_by_factories(
    audience: Mapping[uuid.UUID, Iterable[uuid.UUID]], named: Iterable[uuid.UUID]
) -> dict[tuple[uuid.UUID, ...], list[uuid.UUID]]:
    """Buyers grouped by which of the named factories they source from (one delivery body per group; with no
    factories named, every buyer is in one group)."""
    wanted = set(named)
    groups: dict[tuple[uuid.UUID, ...], list[uuid.UUID]] = {}
    for buyer_id, factories in sorted(audience.items(), key=lambda item: str(item[0])):
        key = tuple(sorted((f for f in factories if f in wanted), key=str)) if wanted else ()
        groups.setdefault(key, []).append(buyer_id)
    return groups
