"""Zero-tolerance cases and the country protocols that govern them (DOMAIN.md section 2). Pure: no I/O.

A case opens the moment a zero-tolerance finding is recorded or staff report one from outside an
assessment (advisory visit, hotline, brand). It then moves opened -> referred (the parties the country
protocol lists are told) -> acknowledged -> remediation -> closed, each step with a deadline counted
from the opening; a step not reached by its deadline is overdue. A deadline of 0 days means "at once":
due within AT_ONCE of the opening, not overdue the moment the case opens. Before remediation a case may
end as not_confirmed (an unfounded hotline report, say), with the reason. Each referral is recorded: to
which party, when, through which channel, and when the party acknowledged it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from assessments.domain.tool import ZERO_TOLERANCE_CATEGORIES, pack_identity


class CaseStatus(StrEnum):
    OPENED = "opened"
    REFERRED = "referred"
    ACKNOWLEDGED = "acknowledged"
    REMEDIATION = "remediation"
    CLOSED = "closed"
    NOT_CONFIRMED = "not_confirmed"


class Source(StrEnum):
    ASSESSMENT = "assessment"
    ADVISORY_VISIT = "advisory_visit"
    HOTLINE = "hotline"
    BRAND = "brand"
    OTHER = "other"


class CaseError(ValueError):
    """A case change the protocol does not allow (409), or a protocol document that is wrong."""


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    MEETING = "meeting"
    PORTAL = "portal"


FINISHED = frozenset({CaseStatus.CLOSED, CaseStatus.NOT_CONFIRMED})
# not_confirmed is possible from these (before remediation starts)
BEFORE_REMEDIATION = frozenset({CaseStatus.OPENED, CaseStatus.REFERRED, CaseStatus.ACKNOWLEDGED})
AT_ONCE = timedelta(hours=24)  # what a deadline of 0 days gives: due the same day, not overdue on opening
ORDER = (CaseStatus.OPENED, CaseStatus.REFERRED, CaseStatus.ACKNOWLEDGED, CaseStatus.REMEDIATION, CaseStatus.CLOSED)
# the deadline key in a protocol for reaching each status
DEADLINE_KEYS = {
    CaseStatus.REFERRED: "refer_days",
    CaseStatus.ACKNOWLEDGED: "acknowledge_days",
    CaseStatus.REMEDIATION: "remediation_days",
    CaseStatus.CLOSED: "close_days",
}


@dataclass(frozen=True)
class IssueRule:
    category: str
    name: dict[str, str]
    notify: tuple[str, ...]
    deadline_days: dict[CaseStatus, int]


@dataclass(frozen=True)
class Protocol:
    country: str
    issues: dict[str, IssueRule]
    parties: dict[str, dict[str, str]]
    code: str | None = None  # what a country pack names it by (`zero_tolerance_protocol`), when the document says
    version: str | None = None  # ... and its version (`zero_tolerance_protocol_version`)

    def rule(self, category: str) -> IssueRule:
        try:
            return self.issues[category]
        except KeyError:
            raise CaseError(f"the {self.country} protocol does not cover {category}") from None


def parse_protocol(document: Mapping[str, Any]) -> Protocol:
    if document.get("kind") != "zero-tolerance-protocol":
        raise CaseError("a protocol document must have `kind: zero-tolerance-protocol`")
    country = str(document.get("country") or "").upper()
    if len(country) != 2:
        raise CaseError("a protocol names its country (ISO 3166-1 alpha-2)")
    parties = {str(k): dict(v) for k, v in (document.get("parties") or {}).items()}
    issues: dict[str, IssueRule] = {}
    for raw in document.get("issues") or ():
        category = str(raw.get("category"))
        if category not in ZERO_TOLERANCE_CATEGORIES:
            raise CaseError(f"unknown zero-tolerance category {category!r}")
        notify = tuple(str(p) for p in raw.get("notify") or ())
        unknown = [p for p in notify if p not in parties]
        if unknown:
            raise CaseError(f"{category}: parties {unknown} are not defined under `parties`")
        days = raw.get("deadlines") or {}
        deadlines = {status: int(days[key]) for status, key in DEADLINE_KEYS.items() if key in days}
        previous = 0
        for status in ORDER[1:]:
            if status in deadlines:
                if deadlines[status] < previous:
                    raise CaseError(f"{category}: deadlines must not shrink from one step to the next")
                previous = deadlines[status]
        issues[category] = IssueRule(category, dict(raw.get("name") or {"en": category}), notify, deadlines)
    if not issues:
        raise CaseError("the protocol lists no issues")
    code, version = pack_identity(document, CaseError)
    return Protocol(country, issues, parties, code=code, version=version)


def deadlines_for(rule: IssueRule, opened_at: datetime) -> dict[str, str]:
    """When each step is due; 0 days means at once (within AT_ONCE of the opening)."""
    return {
        status.value: (opened_at + (timedelta(days=days) if days else AT_ONCE)).isoformat()
        for status, days in rule.deadline_days.items()
    }


def check_covers(protocol: Protocol, categories: set[str], *, tool: str) -> None:
    """A protocol must cover every zero-tolerance category of the country's tool; otherwise a finding on the
    uncovered question could open no case."""
    missing = sorted(categories - set(protocol.issues))
    if missing:
        raise CaseError(f"the {protocol.country} protocol does not cover {', '.join(missing)} of tool {tool}")


def check_move(current: CaseStatus, to: CaseStatus, note: str | None) -> None:
    """One step at a time, forward only; closing needs a note on the outcome; not_confirmed, with its reason,
    is possible from any step before remediation."""
    if current in FINISHED:
        raise CaseError(f"the case is {current.value}")
    if to is CaseStatus.NOT_CONFIRMED:
        if current not in BEFORE_REMEDIATION:
            raise CaseError(f"a case in {current.value} is past the point where it can be found not confirmed")
        if not (note and note.strip()):
            raise CaseError("a case found not confirmed needs a note saying why")
        return
    if ORDER.index(to) != ORDER.index(current) + 1:
        expected = ORDER[ORDER.index(current) + 1]
        raise CaseError(f"a case that is {current.value} moves to {expected.value} next, not {to.value}")
    if to is CaseStatus.CLOSED and not (note and note.strip()):
        raise CaseError("closing a case needs a note on how it was resolved")


def overdue_steps(status: CaseStatus, deadlines: Mapping[str, str], now: datetime) -> list[str]:
    """Steps not yet reached whose deadline has passed (none once the case is finished)."""
    if status in FINISHED:
        return []
    reached = ORDER.index(status)
    late = []
    for step in ORDER[reached + 1 :]:
        due = deadlines.get(step.value)
        if due is not None and datetime.fromisoformat(due) < now:
            late.append(step.value)
    return late


@dataclass(frozen=True)
class CaseStep:
    from_status: CaseStatus | None
    to_status: CaseStatus
    at: datetime
    by_subject: str
    note: str | None


@dataclass(frozen=True)
class Case:
    """A zero-tolerance case. `details` is confidential: it never leaves this service in an event."""

    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    category: str
    source: Source
    assessment_id: uuid.UUID | None
    question_code: str | None
    status: CaseStatus
    details: str | None
    notify: tuple[str, ...]
    deadlines: dict[str, str]
    opened_at: datetime
    opened_by: str
    updated_at: datetime

    def overdue_steps(self, now: datetime) -> list[str]:
        return overdue_steps(self.status, self.deadlines, now)


def open_case(
    protocol: Protocol,
    *,
    factory_id: uuid.UUID,
    category: str,
    source: Source,
    assessment_id: uuid.UUID | None,
    question_code: str | None,
    details: str | None,
    by: str,
    now: datetime,
) -> tuple[Case, CaseStep]:
    """A new case under the country protocol's rule for its category (CaseError if the protocol lacks one)."""
    rule = protocol.rule(category)
    case = Case(
        id=uuid.uuid4(),
        factory_id=factory_id,
        country=protocol.country,
        category=category,
        source=source,
        assessment_id=assessment_id,
        question_code=question_code,
        status=CaseStatus.OPENED,
        details=details,
        notify=rule.notify,
        deadlines=deadlines_for(rule, now),
        opened_at=now,
        opened_by=by,
        updated_at=now,
    )
    return case, CaseStep(None, CaseStatus.OPENED, now, by, None)


def move_case(case: Case, to: CaseStatus, *, note: str | None, by: str, now: datetime) -> tuple[Case, CaseStep]:
    """The case one step on (CaseError if the step is not the next one, or a close lacks its note)."""
    check_move(case.status, to, note)
    return replace(case, status=to, updated_at=now), CaseStep(case.status, to, now, by, note)


@dataclass(frozen=True)
class Referral:
    """One party told of a case: when, through which channel, and when it acknowledged."""

    id: uuid.UUID
    case_id: uuid.UUID
    party: str
    channel: Channel
    referred_at: datetime
    recorded_by: str
    reference: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledgement_note: str | None = None


def refer(
    case: Case,
    *,
    party: str,
    channel: Channel,
    referred_at: datetime,
    reference: str | None,
    by: str,
    now: datetime,
) -> Referral:
    """Record that `party` (one the protocol says is told of this case) was told (CaseError otherwise)."""
    if case.status in FINISHED:
        raise CaseError(f"the case is {case.status.value}")
    if party not in case.notify:
        raise CaseError(f"{party} is not among the parties the protocol tells of this case: {', '.join(case.notify)}")
    if referred_at > now or referred_at < case.opened_at:
        raise CaseError("a referral happens between the case's opening and now")
    return Referral(uuid.uuid4(), case.id, party, channel, referred_at, by, reference)


def acknowledge(referral: Referral, *, at: datetime, note: str | None, by: str, now: datetime) -> Referral:
    if referral.acknowledged_at is not None:
        raise CaseError(f"{referral.party} acknowledged this referral already")
    if at > now or at < referral.referred_at:
        raise CaseError("an acknowledgement comes between the referral and now")
    return replace(referral, acknowledged_at=at, acknowledged_by=by, acknowledgement_note=note)
