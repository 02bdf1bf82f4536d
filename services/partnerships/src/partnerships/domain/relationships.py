"""Buyers, sourcing links, consent and the access decision (DOMAIN.md section 4). Pure: no I/O.

A buyer sees a factory's reporting cycle only with a current consent from the factory (scope
`assessment_reports` for the assessment report, `progress_reports` for the progress reports) and an entitlement
to that cycle (paid, credited, or granted by staff); each scope is decided and published on its own. Revoking
or letting a consent expire closes every cycle at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any


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


def may_read_reports(
    consents: Iterable[ConsentState], entitled: bool, now: datetime, scope: Scope = Scope.ASSESSMENT_REPORTS
) -> bool:
    """The access decision for one kind of report (assessment reports or progress reports): a current consent
    covering that scope, and an entitlement to the cycle. A consent to one kind never opens the other."""
    return entitled and any(c.allows(scope, now) for c in consents)


def wants_alerts(linked: bool, consents: Iterable[ConsentState], now: datetime) -> bool:
    """Zero-tolerance alerts go to every buyer with a current sourcing link (the country protocol tells linked
    buyers), and to a buyer the factory has consented to alert even without a current link."""
    return linked or any(c.allows(Scope.ZERO_TOLERANCE_ALERTS, now) for c in consents)


# ---- records ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactoryRef:
    """A factory as the registry's events left it here (the read model): enough to check who acts on it."""

    factory_id: uuid.UUID
    name: str | None
    country: str
    status: str | None
    merged_into: uuid.UUID | None
    version: int


@dataclass(frozen=True)
class TierChange:
    from_tier: Tier | None
    to_tier: Tier
    at: datetime
    by_subject: str
    reason: str | None


@dataclass(frozen=True)
class Buyer:
    """A brand or retailer in the programme; `version` counts its changes."""

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
    created_by: str
    updated_at: datetime
    # The country programme that registered the brand and manages it (agreement, contacts, tier): a brand is
    # served by every programme, but one keeps its record. None: registered by an admin, managed by admins.
    home_country: str | None = None


BUYER_FIELDS = ("name", "agreement_signed_on", "agreement_commitments", "agreement_review_date", "contacts")


def change_buyer(
    buyer: Buyer, changes: Mapping[str, Any], *, subject: str, now: datetime
) -> tuple[Buyer, TierChange | None, list[str]]:
    """The buyer after `changes` (fields of BUYER_FIELDS, `tier`, `tier_reason`), the tier change if any, and
    the names of the fields that changed. Asking for the tier it already has is no change; an unchanged buyer
    keeps its version."""
    fields = {k: v for k, v in changes.items() if k in BUYER_FIELDS}
    tier_change = None
    if changes.get("tier") is not None and Tier(changes["tier"]) is not buyer.tier:
        new = Tier(changes["tier"])
        check_tier_change(buyer.tier, new)
        tier_change = TierChange(buyer.tier, new, now, subject, changes.get("tier_reason"))
        fields["tier"] = new
    if not fields:
        return buyer, None, []
    return replace(buyer, **fields, version=buyer.version + 1, updated_at=now), tier_change, sorted(fields)


@dataclass(frozen=True)
class SourcingLink:
    id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    status: LinkStatus
    declared_by: Side
    declared_by_subject: str
    confirmed_by: Side | None
    confirmed_by_subject: str | None
    confirmed_at: datetime | None
    start_date: date | None
    end_date: date | None
    created_at: datetime
    updated_at: datetime


def declare(
    *, link_id: uuid.UUID, buyer_id: uuid.UUID, factory_id: uuid.UUID, side: Side, subject: str,
    start_date: date | None, now: datetime,
) -> SourcingLink:  # fmt: skip
    """A new link: declared by one side, or confirmed at once when staff declare it."""
    by_staff = side is Side.STAFF
    return SourcingLink(
        id=link_id,
        buyer_id=buyer_id,
        factory_id=factory_id,
        status=LinkStatus.CONFIRMED if by_staff else LinkStatus.DECLARED,
        declared_by=side,
        declared_by_subject=subject,
        confirmed_by=Side.STAFF if by_staff else None,
        confirmed_by_subject=subject if by_staff else None,
        confirmed_at=now if by_staff else None,
        start_date=start_date,
        end_date=None,
        created_at=now,
        updated_at=now,
    )


def confirm(link: SourcingLink, side: Side, subject: str, now: datetime) -> SourcingLink:
    check_confirmation(link.status, link.declared_by, side)
    return replace(
        link, status=LinkStatus.CONFIRMED, confirmed_by=side, confirmed_by_subject=subject, confirmed_at=now,
        updated_at=now,
    )  # fmt: skip


def end(link: SourcingLink, end_date: date, now: datetime) -> SourcingLink:
    check_end(link.status, link.start_date, end_date)
    return replace(link, status=LinkStatus.ENDED, end_date=end_date, updated_at=now)


@dataclass(frozen=True)
class Consent:
    """A factory's consent to one buyer; revoked ones stay as history (`revoke_reason` revoked or expired)."""

    id: uuid.UUID
    factory_id: uuid.UUID
    buyer_id: uuid.UUID
    scopes: list[Scope]
    granted_at: datetime
    granted_by: str
    expires_at: datetime | None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    @property
    def state(self) -> ConsentState:
        return ConsentState(frozenset(self.scopes), self.expires_at, self.revoked_at)


def grant(
    *, consent_id: uuid.UUID, factory_id: uuid.UUID, buyer_id: uuid.UUID, scopes: Iterable[Scope],
    expires_at: datetime | None, subject: str, now: datetime,
) -> Consent:  # fmt: skip
    chosen = sorted(scopes)
    check_consent(chosen, expires_at, now)
    return Consent(consent_id, factory_id, buyer_id, chosen, now, subject, expires_at)


def revoke(consent: Consent, *, subject: str, reason: str, now: datetime) -> Consent:
    if consent.revoked_at is not None:
        raise RuleError(f"Consent {consent.id} was already {consent.revoke_reason}.")
    return replace(consent, revoked_at=now, revoked_by=subject, revoke_reason=reason)


@dataclass(frozen=True)
class Entitlement:
    id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int
    source: str  # staff, credit, payment
    external_id: uuid.UUID | None
    granted_at: datetime
    granted_by: str


@dataclass(frozen=True)
class AccessDecision:
    """Whether the buyer may read the factory's reports of one cycle, as last published."""

    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int
    granted: bool
    decided_at: datetime
    progress_reports_granted: bool = False


def changed_decisions(
    consents: Iterable[ConsentState],
    entitled: set[int],
    published: Mapping[int, bool],
    now: datetime,
    scope: Scope = Scope.ASSESSMENT_REPORTS,
) -> list[tuple[int, bool]]:
    """(cycle, decision) for every cycle whose decision for `scope` differs from the one last published."""
    states = list(consents)
    cycles = sorted(entitled | set(published))
    decided = ((cycle, may_read_reports(states, cycle in entitled, now, scope)) for cycle in cycles)
    return [(cycle, decision) for cycle, decision in decided if published.get(cycle, False) != decision]
