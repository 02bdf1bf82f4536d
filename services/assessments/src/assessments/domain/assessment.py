"""An assessment, its findings and their revisions as records, and the rules that change them. Pure: no I/O.

The rules themselves (which moves the lifecycle allows, when findings may be recorded) are in `lifecycle.py`;
this module applies them to records: scheduling makes an assessment, a move makes the next version of it,
a correction makes the next revision of a finding.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from assessments.domain import lifecycle as rules
from assessments.domain.lifecycle import AssessmentType, LifecycleError, Mode, Result, Status


@dataclass(frozen=True)
class FactoryRef:
    """What assessments knows of a factory, as the registry's events left it."""

    factory_id: uuid.UUID
    name: str
    country: str
    version: int
    status: str  # enrolment status: registered, enrolled, active, suspended, exited
    merged_into: uuid.UUID | None
    slcp_facility_id: str | None


ASSESSABLE = ("enrolled", "active")


@dataclass(frozen=True)
class Assessment:
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    assessment_type: AssessmentType
    mode: Mode
    joint: bool
    inspectors: tuple[str, ...]
    team: tuple[str, ...]
    start_date: date
    end_date: date
    report_due: date
    tool_version_id: uuid.UUID
    status: Status
    version: int
    released_at: datetime | None
    finalised_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime

    def overdue(self, today: date) -> bool:
        """Not released although the report is due."""
        return rules.is_overdue(self.status, self.report_due, today)


@dataclass(frozen=True)
class Plan:
    """What staff ask for when they schedule an assessment."""

    factory_id: uuid.UUID
    assessment_type: AssessmentType
    mode: Mode
    joint: bool
    inspectors: tuple[str, ...]
    team: tuple[str, ...]
    start_date: date
    end_date: date


def check_plan(plan: Plan) -> None:
    """A joint assessment names its inspectors; the visit's days are in order and at most 15."""
    if plan.joint and not plan.inspectors:
        raise LifecycleError("A joint assessment names the labour inspectors who join it (`inspectors`).")
    rules.check_dates(plan.start_date, plan.end_date)


def next_cycle(assessment_type: AssessmentType, last_cycle: int | None) -> int:
    """The cycle an assessment of this type counts in: an initial one starts at 1, a follow-up stays in the
    last cycle, a regular one opens the next (the error is a conflict with what the factory had before)."""
    if assessment_type is AssessmentType.INITIAL and last_cycle:
        raise LifecycleError("The factory was assessed before; schedule a regular or follow-up assessment.")
    if assessment_type is not AssessmentType.INITIAL and not last_cycle:
        raise LifecycleError("The factory's first assessment is an initial one.")
    if assessment_type is AssessmentType.FOLLOW_UP:
        assert last_cycle is not None
        return last_cycle
    return (last_cycle or 0) + 1


def schedule(plan: Plan, *, country: str, cycle: int, tool_version_id: uuid.UUID, by: str, now: datetime) -> Assessment:
    return Assessment(
        id=uuid.uuid4(),
        factory_id=plan.factory_id,
        country=country,
        cycle=cycle,
        assessment_type=plan.assessment_type,
        mode=plan.mode,
        joint=plan.joint,
        inspectors=plan.inspectors,
        team=plan.team,
        start_date=plan.start_date,
        end_date=plan.end_date,
        report_due=rules.report_due(plan.end_date),
        tool_version_id=tool_version_id,
        status=Status.SCHEDULED,
        version=1,
        released_at=None,
        finalised_at=None,
        created_at=now,
        created_by=by,
        updated_at=now,
    )


@dataclass(frozen=True)
class Transition:
    """One move of an assessment through its lifecycle (`id` once stored)."""

    assessment_id: uuid.UUID
    from_status: Status
    to_status: Status
    at: datetime
    by_subject: str
    comment: str | None
    id: int | None = None


def move(
    assessment: Assessment, to: Status, *, comment: str | None, missing_findings: int, by: str, now: datetime
) -> tuple[Assessment, Transition]:
    """The assessment's next version after the move, and the move itself (LifecycleError if not allowed)."""
    rules.check_transition(assessment.status, to, comment=comment, missing_findings=missing_findings)
    moved = replace(
        assessment,
        status=to,
        version=assessment.version + 1,
        updated_at=now,
        released_at=now if to is Status.RELEASED else assessment.released_at,
        finalised_at=now if to is Status.FINALISED else assessment.finalised_at,
    )
    return moved, Transition(assessment.id, assessment.status, to, now, by, comment)


@dataclass(frozen=True)
class Finding:
    assessment_id: uuid.UUID
    question_code: str
    result: Result
    evidence: str | None  # private: staff and the factory only
    workers_affected: int | None
    revision: int
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class FindingRevision:
    """One state of a finding: revision 1 as first recorded, each later one a correction with its reason."""

    assessment_id: uuid.UUID
    question_code: str
    revision: int
    result: Result
    evidence: str | None
    workers_affected: int | None
    reason: str | None
    author: str
    at: datetime
    id: int | None = None


def first_revision(finding: Finding) -> FindingRevision:
    """The finding as recorded before any correction (kept when the first correction comes)."""
    return FindingRevision(
        assessment_id=finding.assessment_id,
        question_code=finding.question_code,
        revision=1,
        result=finding.result,
        evidence=finding.evidence,
        workers_affected=finding.workers_affected,
        reason=None,
        author=finding.recorded_by,
        at=finding.recorded_at,
    )


@dataclass(frozen=True)
class Correction:
    result: Result
    evidence: str | None
    workers_affected: int | None
    reason: str


def check_correction(assessment: Assessment, correction: Correction) -> None:
    """Only a finalised assessment's findings are corrected, each correction with its reason."""
    rules.check_revision(assessment.status, correction.reason)
    rules.check_workers_affected(correction.result, correction.workers_affected)


def correct(
    assessment: Assessment, finding: Finding, correction: Correction, *, by: str, now: datetime
) -> tuple[Finding, FindingRevision]:
    """A finalised finding's next revision (LifecycleError unless the assessment is finalised and a reason given)."""
    check_correction(assessment, correction)
    revised = replace(
        finding,
        result=correction.result,
        evidence=correction.evidence,
        workers_affected=correction.workers_affected,
        revision=finding.revision + 1,
        recorded_at=now,
        recorded_by=by,
    )
    revision = FindingRevision(
        assessment_id=finding.assessment_id,
        question_code=finding.question_code,
        revision=revised.revision,
        result=revised.result,
        evidence=revised.evidence,
        workers_affected=revised.workers_affected,
        reason=correction.reason,
        author=by,
        at=now,
    )
    return revised, revision
