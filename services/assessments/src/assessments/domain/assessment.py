"""An assessment, its findings and their revisions as records, and the rules that change them. Pure: no I/O.

The rules themselves (which moves the lifecycle allows, when findings may be recorded) are in `lifecycle.py`;
this module applies them to records: scheduling makes an assessment, a move makes the next version of it,
a correction makes the next revision of a finding.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from assessments.domain import lifecycle as rules
from assessments.domain.lifecycle import AssessmentType, LifecycleError, Mode, Result, Severity, Status


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
# the token scope that makes a staff member a team leader (quality check, release, return to the team)
TEAM_LEADER_SCOPE = "assessments:team_leader"


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
    comment_period_ends: datetime | None = None  # set when the factory's comment period opens
    comment_period_waived: bool = False

    def overdue(self, today: date) -> bool:
        """Not released although the report is due."""
        return rules.is_overdue(self.status, self.report_due, today)

    def comment_period_open(self, now: datetime) -> bool:
        """In the factory's comment period, which has neither ended nor been waived."""
        return (
            self.status is Status.COMMENT_PERIOD
            and not self.comment_period_waived
            and (self.comment_period_ends is None or now < self.comment_period_ends)
        )

    def team_members(self) -> frozenset[str]:
        return frozenset(self.team)


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
    assessment: Assessment,
    to: Status,
    *,
    comment: str | None,
    missing_findings: int,
    by: str,
    now: datetime,
    comment_days: int = rules.COMMENT_DAYS,
) -> tuple[Assessment, Transition]:
    """The assessment's next version after the move, and the move itself (LifecycleError if not allowed).
    Opening the comment period starts its clock."""
    rules.check_transition(
        assessment.status,
        to,
        comment=comment,
        missing_findings=missing_findings,
        comment_period_open=assessment.comment_period_open(now),
    )
    moved = replace(
        assessment,
        status=to,
        version=assessment.version + 1,
        updated_at=now,
        released_at=now if to is Status.RELEASED else assessment.released_at,
        finalised_at=now if to is Status.FINALISED else assessment.finalised_at,
        comment_period_ends=(
            rules.comment_period_ends(now, comment_days)
            if to is Status.COMMENT_PERIOD
            else assessment.comment_period_ends
        ),
    )
    return moved, Transition(assessment.id, assessment.status, to, now, by, comment)


@dataclass(frozen=True)
class FactoryComment:
    """The factory's comment on one finding, made during its comment period."""

    assessment_id: uuid.UUID
    question_code: str
    comment: str
    by_subject: str
    at: datetime
    id: int | None = None


class FourEyesError(PermissionError):
    """The caller may not make this move on this assessment (the API answers 403)."""


def needs_team_leader(assessment: Assessment, to: Status) -> bool:
    """Quality check, release, and returning a submitted draft to the team are a team leader's moves."""
    returning = assessment.status is Status.DRAFT_SUBMITTED and to is Status.IN_PROGRESS
    return to in rules.TEAM_LEADER_MOVES or returning


def check_four_eyes(assessment: Assessment, to: Status, *, by: str, is_team_leader: bool, team: frozenset[str]) -> None:
    """A team leader's move is made by a team leader, and never one who was on the team (named in `team`, or
    who recorded a finding or submitted the draft): nobody checks their own work."""
    if not needs_team_leader(assessment, to):
        return
    if not is_team_leader:
        raise FourEyesError(f"Only a team leader may move an assessment to {to.value}.")
    if by in team:
        raise FourEyesError(
            f"{by} was on the assessment team; a team leader who was not on it checks and releases the report."
        )


def cancel(assessment: Assessment, *, reason: str, by: str, now: datetime) -> tuple[Assessment, Transition]:
    """Called off before fieldwork ends, with its reason (LifecycleError otherwise)."""
    rules.check_before_fieldwork_ends(assessment.status, assessment.end_date, now.date(), reason)
    moved = replace(assessment, status=Status.CANCELLED, version=assessment.version + 1, updated_at=now)
    return moved, Transition(assessment.id, assessment.status, Status.CANCELLED, now, by, reason)


def reschedule(assessment: Assessment, *, start: date, end: date, reason: str, now: datetime) -> Assessment:
    """New visit days before fieldwork ends; the report's due date follows the new last visit day. An assessment
    already in progress keeps its first visit day."""
    rules.check_before_fieldwork_ends(assessment.status, assessment.end_date, now.date(), reason)
    rules.check_dates(start, end)
    if assessment.status is Status.IN_PROGRESS and start != assessment.start_date:
        raise LifecycleError("the visit has started: only its last day can move")
    if (start, end) == (assessment.start_date, assessment.end_date):
        raise LifecycleError("the new dates are the current ones")
    return replace(
        assessment,
        start_date=start,
        end_date=end,
        report_due=rules.report_due(end),
        version=assessment.version + 1,
        updated_at=now,
    )


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
    explanation: str | None = None  # factory-facing: what the finding means, without naming anyone
    severity: Severity | None = None


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
    explanation: str | None = None
    severity: Severity | None = None
    approved_by: str | None = None


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
        explanation=finding.explanation,
        severity=finding.severity,
    )


@dataclass(frozen=True)
class Correction:
    result: Result
    evidence: str | None
    workers_affected: int | None
    reason: str
    explanation: str | None = None
    severity: Severity | None = None


def check_correction(assessment: Assessment, correction: Correction) -> None:
    """Only a finalised assessment's findings are corrected, each correction with its reason."""
    rules.check_revision(assessment.status, correction.reason)
    rules.check_workers_affected(correction.result, correction.workers_affected)
    rules.check_severity(correction.result, correction.severity)


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RevisionProposal:
    """A correction of a finalised finding as one staff member proposed it; another approves or rejects it."""

    id: uuid.UUID
    assessment_id: uuid.UUID
    question_code: str
    correction: Correction
    proposed_by: str
    proposed_at: datetime
    status: ProposalStatus = ProposalStatus.PROPOSED
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    revision: int | None = None  # the revision it became, once approved


def propose(
    assessment: Assessment, question_code: str, correction: Correction, *, by: str, now: datetime
) -> RevisionProposal:
    check_correction(assessment, correction)
    return RevisionProposal(uuid.uuid4(), assessment.id, question_code, correction, by, now)


def check_decision(proposal: RevisionProposal, *, by: str, approve: bool, note: str | None) -> None:
    """A proposal is decided once, by someone other than who proposed it; a rejection says why."""
    if proposal.status is not ProposalStatus.PROPOSED:
        raise LifecycleError(f"the proposed revision was {proposal.status.value} already")
    if by == proposal.proposed_by:
        raise FourEyesError("a revision is approved or rejected by a staff member other than who proposed it")
    if not approve and not (note and note.strip()):
        raise LifecycleError("rejecting a proposed revision needs a note saying why")


def correct(
    assessment: Assessment, finding: Finding, proposal: RevisionProposal, *, by: str, now: datetime
) -> tuple[Finding, FindingRevision, RevisionProposal]:
    """Approve a proposed correction: the finding's next revision, authored by the proposer and approved by `by`
    (LifecycleError unless the assessment is finalised; FourEyesError if `by` proposed it)."""
    correction = proposal.correction
    check_correction(assessment, correction)
    check_decision(proposal, by=by, approve=True, note=None)
    revised = replace(
        finding,
        result=correction.result,
        evidence=correction.evidence,
        workers_affected=correction.workers_affected,
        explanation=correction.explanation,
        severity=correction.severity,
        revision=finding.revision + 1,
        recorded_at=now,
        recorded_by=proposal.proposed_by,
    )
    revision = FindingRevision(
        assessment_id=finding.assessment_id,
        question_code=finding.question_code,
        revision=revised.revision,
        result=revised.result,
        evidence=revised.evidence,
        workers_affected=revised.workers_affected,
        reason=correction.reason,
        author=proposal.proposed_by,
        at=now,
        explanation=revised.explanation,
        severity=revised.severity,
        approved_by=by,
    )
    decided = replace(
        proposal, status=ProposalStatus.APPROVED, decided_by=by, decided_at=now, revision=revised.revision
    )
    return revised, revision, decided


def reject(proposal: RevisionProposal, *, by: str, note: str, now: datetime) -> RevisionProposal:
    check_decision(proposal, by=by, approve=False, note=note)
    return replace(proposal, status=ProposalStatus.REJECTED, decided_by=by, decided_at=now, decision_note=note)
