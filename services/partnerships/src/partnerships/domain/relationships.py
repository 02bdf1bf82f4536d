"""Buyers, sourcing links, consent and the access decision (DOMAIN.md section 4). Pure: no I/O.

A buyer sees a factory's reporting cycle only with a current consent from the factory (scope
`assessment_reports`) and an entitlement to that cycle (paid, credited, or granted by staff). Revoking
or letting a consent expire closes every cycle at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Tier(StrEnum):
    PARTICIPANT = "participant"
    PARTNER = "partner"


class Scope(StrEnum):
    ASSESSMENT_REPORTS = "assessment_reports"
    PROGRESS_REPORTS = "progress_reports"
    ZERO_TOLERANCE_ALERTS = "zero_tolerance_alerts"


class Side(StrEnum):
    """Who declared or confirmed a sourcing link."""

    BUYER = "buyer"
    FACTORY = "factory"
    STAFF = "staff"


class LinkStatus(StrEnum):
    DECLARED = "declared"
    CONFIRMED = "confirmed"
    ENDED = "ended"


class RuleError(ValueError):
    """A change the rules refuse (409)."""


def check_tier_change(current: Tier, new: Tier) -> None:
    if current is new:
        raise RuleError(f"the buyer is already a {new.value}")


def check_confirmation(status: LinkStatus, declared_by: Side, confirming: Side) -> None:
    """The other side confirms (or staff); nobody confirms their own declaration."""
    if status is not LinkStatus.DECLARED:
        raise RuleError(f"the link is {status.value}; only a declared link can be confirmed")
    if confirming is declared_by and confirming is not Side.STAFF:
        raise RuleError(f"the {declared_by.value} declared this link; the other side or staff confirm it")


def check_end(status: LinkStatus, start: date | None, end: date) -> None:
    if status is LinkStatus.ENDED:
        raise RuleError("the link has ended already")
    if start is not None and end < start:
        raise RuleError("a link cannot end before it started")


@dataclass(frozen=True)
class ConsentState:
    scopes: frozenset[Scope]
    expires_at: datetime | None
    revoked_at: datetime | None

    def current(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def allows(self, scope: Scope, now: datetime) -> bool:
        return self.current(now) and scope in self.scopes


def check_consent(scopes: Iterable[Scope], expires_at: datetime | None, now: datetime) -> None:
    if not list(scopes):
        raise RuleError("a consent names at least one scope")
    if expires_at is not None and expires_at <= now:
        raise RuleError("a consent cannot expire in the past")


def may_read_reports(consents: Iterable[ConsentState], entitled: bool, now: datetime) -> bool:
    """The access decision: a current consent covering assessment reports, and an entitlement to the cycle."""
    return entitled and any(c.allows(Scope.ASSESSMENT_REPORTS, now) for c in consents)


def wants_alerts(linked: bool, consents: Iterable[ConsentState], now: datetime) -> bool:
    """Zero-tolerance alerts go to every buyer with a current sourcing link (the country protocol tells linked
    buyers), and to a buyer the factory has consented to alert even without a current link."""
    return linked or any(c.allows(Scope.ZERO_TOLERANCE_ALERTS, now) for c in consents)
