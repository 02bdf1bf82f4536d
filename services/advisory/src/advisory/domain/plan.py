"""Improvement plans and their items (DOMAIN.md section 3, anchors_next.md section A). Pure: no I/O.

An item's life: open -> in_progress -> reported_done -> verified, with disputed, waived (reason and who) and
reopened beside it. Items on publicly reported or zero-tolerance issues count as fixed only once an enterprise
advisor verified them; others count as fixed when the factory reports them done. A later assessment that finds
the same non-compliance reopens a fixed item and marks it recurring.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum


class PlanRuleError(ValueError):
    """A move or change the rules refuse (the API answers 409)."""


class ItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    REPORTED_DONE = "reported_done"
    VERIFIED = "verified"
    DISPUTED = "disputed"
    WAIVED = "waived"
    REOPENED = "reopened"


class Source(StrEnum):
    ASSESSMENT = "assessment"
    SELF_DIAGNOSIS = "self_diagnosis"
    CASE = "case"


class Severity(StrEnum):
    """How urgent an item is, from the tags of the question (or the case) it comes from."""

    ZERO_TOLERANCE = "zero_tolerance"
    PUBLICLY_REPORTED = "publicly_reported"
    STANDARD = "standard"


class Actor(StrEnum):
    FACTORY = "factory"
    ADVISOR = "advisor"  # staff of the country programme


# Days from the release (or from when the item was raised) to the due date: the gravest first. PR1 is due
# 30 days after release, so publicly reported items are due with it.
DUE_DAYS: dict[Severity, int] = {Severity.ZERO_TOLERANCE: 7, Severity.PUBLICLY_REPORTED: 30, Severity.STANDARD: 90}
SEVERITY_WEIGHT: dict[Severity, int] = {Severity.ZERO_TOLERANCE: 3, Severity.PUBLICLY_REPORTED: 2, Severity.STANDARD: 1}

# to -> {from: who may make the move}
_MOVES: dict[ItemStatus, dict[ItemStatus, frozenset[Actor]]] = {
    ItemStatus.IN_PROGRESS: {
        ItemStatus.OPEN: frozenset({Actor.FACTORY, Actor.ADVISOR}),
        ItemStatus.REOPENED: frozenset({Actor.FACTORY, Actor.ADVISOR}),
        ItemStatus.DISPUTED: frozenset({Actor.ADVISOR}),  # dispute rejected: work goes on
        ItemStatus.REPORTED_DONE: frozenset({Actor.ADVISOR}),  # verification refused: not done yet
    },
    ItemStatus.REPORTED_DONE: {
        ItemStatus.OPEN: frozenset({Actor.FACTORY, Actor.ADVISOR}),
        ItemStatus.IN_PROGRESS: frozenset({Actor.FACTORY, Actor.ADVISOR}),
        ItemStatus.REOPENED: frozenset({Actor.FACTORY, Actor.ADVISOR}),
    },
    ItemStatus.VERIFIED: {ItemStatus.REPORTED_DONE: frozenset({Actor.ADVISOR})},
    ItemStatus.DISPUTED: {
        ItemStatus.OPEN: frozenset({Actor.FACTORY}),
        ItemStatus.IN_PROGRESS: frozenset({Actor.FACTORY}),
        ItemStatus.REOPENED: frozenset({Actor.FACTORY}),
    },
    ItemStatus.WAIVED: {
        ItemStatus.OPEN: frozenset({Actor.ADVISOR}),
        ItemStatus.IN_PROGRESS: frozenset({Actor.ADVISOR}),
        ItemStatus.DISPUTED: frozenset({Actor.ADVISOR}),  # dispute upheld
        ItemStatus.REOPENED: frozenset({Actor.ADVISOR}),
    },
    ItemStatus.REOPENED: {
        ItemStatus.REPORTED_DONE: frozenset({Actor.ADVISOR}),
        ItemStatus.VERIFIED: frozenset({Actor.ADVISOR}),
        ItemStatus.WAIVED: frozenset({Actor.ADVISOR}),
    },
}
NEEDS_REASON = frozenset({ItemStatus.DISPUTED, ItemStatus.WAIVED, ItemStatus.REOPENED})
# A fixed or closed item a new finding of the same question reopens.
CLOSED = frozenset({ItemStatus.REPORTED_DONE, ItemStatus.VERIFIED, ItemStatus.WAIVED})


def allowed_moves(current: ItemStatus, actor: Actor) -> list[ItemStatus]:
    return [to for to, sources in _MOVES.items() if actor in sources.get(current, frozenset())]


def severity_of(*, zero_tolerance: bool, publicly_reported: bool) -> Severity:
    if zero_tolerance:
        return Severity.ZERO_TOLERANCE
    if publicly_reported:
        return Severity.PUBLICLY_REPORTED
    return Severity.STANDARD


def due_date(severity: Severity, start: date) -> date:
    return start + timedelta(days=DUE_DAYS[severity])


@dataclass(frozen=True)
class Plan:
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    assessment_id: uuid.UUID | None
    released_on: date | None  # the assessment report's release: PR1 is due 30 days later
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    plan_id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    source: Source
    title: str
    severity: Severity
    due_date: date
    raised_on: date
    status: ItemStatus = ItemStatus.OPEN
    assessment_id: uuid.UUID | None = None
    question_code: str | None = None
    case_id: uuid.UUID | None = None
    compliance_point: str | None = None
    cluster: str | None = None
    publicly_reported: bool = False
    gender_sensitive: bool = False
    zero_tolerance: bool = False
    workers_affected: int | None = None
    root_cause_category: str | None = None
    root_cause: str | None = None
    corrective_action: str | None = None
    preventive_action: str | None = None
    owner: str | None = None
    recurring: bool = False
    recurrences: int = 0
    waived_reason: str | None = None
    waived_by: str | None = None
    verified_by: str | None = None
    verified_at: datetime | None = None
    reported_done_at: datetime | None = None
    version: int = 1

    @property
    def needs_verification(self) -> bool:
        """Publicly reported and zero-tolerance issues count as fixed only after an advisor verified them."""
        return self.publicly_reported or self.zero_tolerance

    @property
    def reported_fixed(self) -> bool:
        return self.status in (ItemStatus.REPORTED_DONE, ItemStatus.VERIFIED)

    @property
    def verified_fixed(self) -> bool:
        return self.status is ItemStatus.VERIFIED

    @property
    def counts_as_fixed(self) -> bool:
        return self.verified_fixed or (self.reported_fixed and not self.needs_verification)

    @property
    def weight(self) -> int:
        """Severity times workers affected (one at least): what the progress figures weigh an item by."""
        return SEVERITY_WEIGHT[self.severity] * max(self.workers_affected or 1, 1)

    def overdue(self, today: date) -> bool:
        return today > self.due_date and self.status not in CLOSED

    def behind_schedule(self, today: date) -> bool:
        """Not done, not yet overdue, but more than half its time has gone and work has not started."""
        if self.overdue(today) or self.status not in (ItemStatus.OPEN, ItemStatus.REOPENED):
            return False
        span = max((self.due_date - self.raised_on).days, 1)
        return (today - self.raised_on).days * 2 > span


@dataclass(frozen=True)
class Move:
    item_id: uuid.UUID
    from_status: ItemStatus
    to_status: ItemStatus
    at: datetime
    by: str
    reason: str | None


def move(item: Item, to: ItemStatus, *, actor: Actor, by: str, reason: str | None, now: datetime) -> tuple[Item, Move]:
    """The item after the move, and the move (PlanRuleError when the lifecycle or the actor forbids it)."""
    sources = _MOVES.get(to, {})
    if item.status not in sources:
        allowed = ", ".join(sorted(s.value for s in sources)) or "nowhere"
        raise PlanRuleError(f"cannot move an item from {item.status.value} to {to.value} (only from: {allowed})")
    if actor not in sources[item.status]:
        raise PlanRuleError(
            f"moving an item from {item.status.value} to {to.value} is for the {_who(sources[item.status])}"
        )
    if to in NEEDS_REASON and not (reason and reason.strip()):
        raise PlanRuleError(f"moving an item to {to.value} needs a reason")
    changed = replace(item, status=to, version=item.version + 1)
    if to is ItemStatus.REPORTED_DONE:
        changed = replace(changed, reported_done_at=now)
    if to is ItemStatus.VERIFIED:
        changed = replace(changed, verified_by=by, verified_at=now)
    if to is ItemStatus.WAIVED:
        changed = replace(changed, waived_reason=reason, waived_by=by)
    if to is ItemStatus.REOPENED:
        changed = replace(changed, verified_by=None, verified_at=None, reported_done_at=None)
    return changed, Move(item.id, item.status, to, now, by, reason)


def _who(actors: frozenset[Actor]) -> str:
    return " or ".join(sorted(a.value for a in actors))


def recur(item: Item, *, assessment_id: uuid.UUID, now: datetime) -> tuple[Item, Move] | None:
    """A later assessment found the item's non-compliance again: a closed item reopens, marked recurring; an item
    still being worked on is marked recurring and stays where it is (None when nothing changes)."""
    if item.assessment_id == assessment_id:
        return None  # the same assessment again (released, then finalised): not a recurrence
    reason = f"found again by assessment {assessment_id}"
    if item.status in CLOSED:
        changed = replace(
            item,
            status=ItemStatus.REOPENED,
            recurring=True,
            recurrences=item.recurrences + 1,
            verified_by=None,
            verified_at=None,
            reported_done_at=None,
            version=item.version + 1,
        )
        return changed, Move(item.id, item.status, ItemStatus.REOPENED, now, "advisory:assessment-events", reason)
    return replace(item, recurring=True, recurrences=item.recurrences + 1, version=item.version + 1), Move(
        item.id, item.status, item.status, now, "advisory:assessment-events", reason
    )


@dataclass(frozen=True)
class Progress:
    """Weighted shares of a set of items (waived items left out): reported fixed, verified fixed, counted as
    fixed under the verification rule; plus plain counts."""

    items: int
    weight: int
    reported_fixed: float
    verified_fixed: float
    fixed: float
    overdue: int
    behind_schedule: int
    recurring: int


def progress(items: list[Item], today: date) -> Progress:
    live = [i for i in items if i.status is not ItemStatus.WAIVED]
    total = sum(i.weight for i in live)

    def share(chosen: list[Item]) -> float:
        return round(sum(i.weight for i in chosen) / total, 4) if total else 0.0

    return Progress(
        items=len(live),
        weight=total,
        reported_fixed=share([i for i in live if i.reported_fixed]),
        verified_fixed=share([i for i in live if i.verified_fixed]),
        fixed=share([i for i in live if i.counts_as_fixed]),
        overdue=sum(1 for i in live if i.overdue(today)),
        behind_schedule=sum(1 for i in live if i.behind_schedule(today)),
        recurring=sum(1 for i in live if i.recurring),
    )


def as_of(item: Item, moves: list[Move], day: date) -> Item | None:
    """The item as it stood at the end of `day` (None if it was not raised yet), from its recorded moves."""
    if item.raised_on > day:
        return None
    status = ItemStatus.OPEN
    for m in sorted(moves, key=lambda m: m.at):
        if m.at.date() <= day:
            status = m.to_status
    return replace(item, status=status)


def progress_series(items: list[Item], moves: dict[uuid.UUID, list[Move]], days: list[date]) -> list[Progress]:
    """The progress figures at the end of each of `days`: how reported and verified fixes grew over time."""
    series = []
    for day in days:
        then = [i for i in (as_of(item, moves.get(item.id, []), day) for item in items) if i is not None]
        series.append(progress(then, day))
    return series
