"""An assessment's lifecycle and the rules for its findings (DOMAIN.md section 2). Pure: no I/O.

scheduled -> in_progress -> draft_submitted -> quality_checked -> released -> comment_period -> finalised;
a team leader may return a submitted draft to the team (draft_submitted -> in_progress, with comments).
Before fieldwork ends (scheduled, or in progress up to the last visit day) an assessment may be cancelled or
rescheduled, each with a reason. The factory's comment period lasts COMMENT_DAYS; the assessment is finalised
when it ends or when the factory waives it, not before.
Findings are recorded while the visit is in progress; once finalised a finding is never edited in place:
a correction is a new revision with its author and reason, proposed by one staff member, approved by another.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    DRAFT_SUBMITTED = "draft_submitted"
    QUALITY_CHECKED = "quality_checked"
    RELEASED = "released"
    COMMENT_PERIOD = "comment_period"
    FINALISED = "finalised"
    CANCELLED = "cancelled"


class AssessmentType(StrEnum):
    INITIAL = "initial"
    REGULAR = "regular"
    FOLLOW_UP = "follow_up"


class Mode(StrEnum):
    UNANNOUNCED = "unannounced"
    ANNOUNCED = "announced"
    VIRTUAL = "virtual"


class Severity(StrEnum):
    """How grave a non-compliance is (set by the team; only non-compliant findings carry one)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Result(StrEnum):
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    NOT_APPLICABLE = "not_applicable"


class LifecycleError(ValueError):
    """A transition or edit the current status does not allow (the API answers 409)."""


RELEASE_DAYS = 28  # the report is due this many days after the last visit day
COMMENT_DAYS = 14  # how long the factory may comment on a released report

# to -> the statuses it may be reached from
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.IN_PROGRESS: frozenset({Status.SCHEDULED, Status.DRAFT_SUBMITTED}),  # the latter: returned to the team
    Status.DRAFT_SUBMITTED: frozenset({Status.IN_PROGRESS}),
    Status.QUALITY_CHECKED: frozenset({Status.DRAFT_SUBMITTED}),
    Status.RELEASED: frozenset({Status.QUALITY_CHECKED}),
    Status.COMMENT_PERIOD: frozenset({Status.RELEASED}),
    Status.FINALISED: frozenset({Status.COMMENT_PERIOD}),
}
# cancelled (with a reason, not through a transition) from: scheduled, or in progress up to the last visit day
BEFORE_FIELDWORK_ENDS = frozenset({Status.SCHEDULED, Status.IN_PROGRESS})
# moves only a team leader who was not on the assessment team may make (four eyes)
TEAM_LEADER_MOVES = frozenset({Status.QUALITY_CHECKED, Status.RELEASED})
EDITABLE = frozenset({Status.IN_PROGRESS})
VISIBLE_TO_FACTORY = frozenset({Status.RELEASED, Status.COMMENT_PERIOD, Status.FINALISED})


def check_transition(
    current: Status, to: Status, *, comment: str | None, missing_findings: int, comment_period_open: bool = False
) -> None:
    """Refuse a move the lifecycle does not allow; a return needs comments, a submission every finding, a
    cancellation its reason; finalisation waits for the end of the factory's comment period (or its waiver)."""
    if to is Status.CANCELLED:
        raise LifecycleError(
            f"cannot move an assessment from {current.value} to cancelled by a transition; cancel it with its reason"
            " (POST /v1/assessments/{id}/cancellation)"
        )
    allowed = ALLOWED.get(to, frozenset())
    if current not in allowed:
        sources = ", ".join(sorted(s.value for s in allowed)) or "nowhere"
        raise LifecycleError(f"cannot move an assessment from {current.value} to {to.value} (only from: {sources})")
    if current is Status.DRAFT_SUBMITTED and to is Status.IN_PROGRESS and not (comment and comment.strip()):
        raise LifecycleError("returning a draft to the team needs comments saying what to fix")
    if to is Status.DRAFT_SUBMITTED and missing_findings:
        raise LifecycleError(f"{missing_findings} question(s) have no finding yet; record them before submitting")
    if to is Status.FINALISED and comment_period_open:
        raise LifecycleError(
            "the factory's comment period has not ended; it ends on its own or when the factory waives it"
        )


def check_before_fieldwork_ends(current: Status, last_visit_day: date, today: date, reason: str | None) -> None:
    """Cancelling or rescheduling: only while scheduled, or in progress up to the last visit day; with a reason."""
    if not (reason and reason.strip()):
        raise LifecycleError("cancelling or rescheduling an assessment needs a reason")
    if current is Status.SCHEDULED:
        return
    if current is Status.IN_PROGRESS and today <= last_visit_day:
        return
    raise LifecycleError(f"fieldwork has ended: an assessment that is {current.value} is no longer cancelled or moved")


def check_dates(start: date, end: date) -> None:
    if end < start:
        raise LifecycleError("the last visit day is before the first")
    if (end - start).days > 14:
        raise LifecycleError("an assessment visit lasts at most 15 days")


def report_due(last_visit_day: date) -> date:
    return last_visit_day + timedelta(days=RELEASE_DAYS)


def is_overdue(status: Status, due: date, today: date) -> bool:
    """Not released although the due date has passed."""
    return status in (Status.SCHEDULED, Status.IN_PROGRESS, Status.DRAFT_SUBMITTED, Status.QUALITY_CHECKED) and (
        today > due
    )


def check_finding_edit(status: Status) -> None:
    if status is Status.FINALISED:
        raise LifecycleError("the assessment is finalised: correct a finding with a revision (author and reason)")
    if status not in EDITABLE:
        raise LifecycleError(f"findings are recorded while the assessment is in progress, not {status.value}")


def check_revision(status: Status, reason: str | None) -> None:
    if status is not Status.FINALISED:
        raise LifecycleError("revisions are for finalised assessments; before that, record the finding again")
    if not (reason and reason.strip()):
        raise LifecycleError("a revision needs a reason")


def check_workers_affected(result: Result, workers_affected: int | None) -> None:
    if workers_affected is not None and result is not Result.NON_COMPLIANT and workers_affected > 0:
        raise LifecycleError("workers affected are counted for non-compliant findings only")


def check_severity(result: Result, severity: Severity | None) -> None:
    if severity is not None and result is not Result.NON_COMPLIANT:
        raise LifecycleError("only a non-compliant finding has a severity")


def comment_period_ends(opened: datetime, days: int = COMMENT_DAYS) -> datetime:
    return opened + timedelta(days=days)
