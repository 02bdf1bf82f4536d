"""An assessment's lifecycle and the rules for its findings (DOMAIN.md section 2). Pure: no I/O.

scheduled -> in_progress -> draft_submitted -> quality_checked -> released -> comment_period -> finalised;
a team leader may return a submitted draft to the team (draft_submitted -> in_progress, with comments).
Findings are recorded while the visit is in progress; once finalised a finding is never edited in place:
a correction is a new revision with its author and reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class Status(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    DRAFT_SUBMITTED = "draft_submitted"
    QUALITY_CHECKED = "quality_checked"
    RELEASED = "released"
    COMMENT_PERIOD = "comment_period"
    FINALISED = "finalised"


class AssessmentType(StrEnum):
    INITIAL = "initial"
    REGULAR = "regular"
    FOLLOW_UP = "follow_up"


class Mode(StrEnum):
    UNANNOUNCED = "unannounced"
    ANNOUNCED = "announced"
    VIRTUAL = "virtual"


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
EDITABLE = frozenset({Status.IN_PROGRESS})
VISIBLE_TO_FACTORY = frozenset({Status.RELEASED, Status.COMMENT_PERIOD, Status.FINALISED})


def check_transition(current: Status, to: Status, *, comment: str | None, missing_findings: int) -> None:
    """Refuse a move the lifecycle does not allow; a return needs comments, a submission every finding."""
    allowed = ALLOWED.get(to, frozenset())
    if current not in allowed:
        sources = ", ".join(sorted(s.value for s in allowed)) or "nowhere"
        raise LifecycleError(f"cannot move an assessment from {current.value} to {to.value} (only from: {sources})")
    if current is Status.DRAFT_SUBMITTED and to is Status.IN_PROGRESS and not (comment and comment.strip()):
        raise LifecycleError("returning a draft to the team needs comments saying what to fix")
    if to is Status.DRAFT_SUBMITTED and missing_findings:
        raise LifecycleError(f"{missing_findings} question(s) have no finding yet; record them before submitting")


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
