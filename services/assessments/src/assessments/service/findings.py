"""Findings and their revisions: record them while the visit is in progress (a zero-tolerance non-compliance
opens a case at once), correct a finalised one only by a new revision, read them back (staff)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assessments.adapters.assessments import AssessmentRepository
from assessments.adapters.findings import FindingRepository
from assessments.domain import assessment as rules
from assessments.domain import lifecycle
from assessments.domain.assessment import Assessment, Correction, Finding, FindingRevision, RevisionProposal
from assessments.domain.lifecycle import LifecycleError, Result, Severity
from assessments.domain.tool import Tool
from assessments.domain.zero_tolerance import Protocol, Source
from assessments.service import tools
from assessments.service.cases import open_case
from assessments.service.scheduling import load, staff_only
from betterwork_contracts.events.assessments import AssessmentRevised
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound, Unprocessable


@dataclass(frozen=True)
class FindingIn:
    question_code: str
    result: Result
    evidence: str | None  # for staff only
    workers_affected: int | None
    explanation: str | None = None  # what the factory reads
    severity: Severity | None = None


@dataclass(frozen=True)
class Recorded:
    recorded: int
    zero_tolerance_cases_opened: list[uuid.UUID]


def _now() -> datetime:
    return datetime.now(UTC)


async def _editable(uow: UnitOfWork, principal: Principal, assessment_id: uuid.UUID) -> Assessment:
    """The assessment, locked while its findings change; 409 unless its status lets them change."""
    assessment = await load(AssessmentRepository(uow.session), assessment_id, for_update=True)
    if not principal.is_staff_of(assessment.country):
        raise NotFound(f"No assessment {assessment_id}.")  # as for one that does not exist
    return assessment


def _problems(tool: Tool, findings: Sequence[FindingIn]) -> list[dict[str, str]]:
    """Every reason the batch cannot be recorded, with a pointer to the finding (RFC 9457 `errors`)."""
    problems = []
    seen: set[str] = set()
    for i, finding in enumerate(findings):
        if finding.question_code not in tool.questions:
            problems.append({"pointer": f"#/body/findings/{i}/question_code", "detail": f"not in tool {tool.label}"})
        elif finding.question_code in seen:
            problems.append({"pointer": f"#/body/findings/{i}/question_code", "detail": "appears twice"})
        seen.add(finding.question_code)
        try:
            lifecycle.check_workers_affected(finding.result, finding.workers_affected)
        except LifecycleError as exc:
            problems.append({"pointer": f"#/body/findings/{i}/workers_affected", "detail": str(exc)})
        try:
            lifecycle.check_severity(finding.result, finding.severity)
        except LifecycleError as exc:
            problems.append({"pointer": f"#/body/findings/{i}/severity", "detail": str(exc)})
    return problems


async def record_findings(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, findings: Sequence[FindingIn]
) -> Recorded:
    """Record one or many findings at once (all or none). A non-compliance on a zero-tolerance question
    opens a case and publishes `zero_tolerance.case_opened` in the same transaction."""
    assessment = await _editable(uow, principal, assessment_id)
    try:
        lifecycle.check_finding_edit(assessment.status)
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment.status.value) from exc
    _, tool = await tools.load_tool(uow, assessment.tool_version_id)
    problems = _problems(tool, findings)
    if problems:
        raise Unprocessable(f"{len(problems)} finding(s) cannot be recorded; nothing was.", errors=problems)
    now = _now()
    await FindingRepository(uow.session).record(
        [
            Finding(
                assessment_id,
                f.question_code,
                f.result,
                f.evidence,
                f.workers_affected,
                1,
                now,
                principal.subject,
                explanation=f.explanation,
                severity=f.severity,
            )
            for f in findings
        ]
    )
    opened = await _open_zero_tolerance_cases(uow, principal, assessment, tool, findings, now)
    await AssessmentRepository(uow.session).audit(
        principal,
        action="assessment.findings_recorded",
        assessment_id=assessment_id,
        details={"questions": [f.question_code for f in findings][:50], "count": len(findings)},
    )
    await uow.commit()
    return Recorded(len(findings), opened)


async def _open_zero_tolerance_cases(
    uow: UnitOfWork,
    principal: Principal,
    assessment: Assessment,
    tool: Tool,
    findings: Sequence[FindingIn],
    now: datetime,
) -> list[uuid.UUID]:
    """One case per non-compliant zero-tolerance finding that has none yet; the ids of those opened. A protocol
    that does not cover the question's category refuses the change (409) rather than losing it."""
    opened = []
    protocol: Protocol | None = None
    for finding in findings:
        question = tool.question(finding.question_code)
        if question.zero_tolerance and finding.result is Result.NON_COMPLIANT:
            protocol = protocol or await tools.protocol_of(uow, assessment.country)
            if question.zero_tolerance_category not in protocol.issues:
                raise Conflict(
                    f"The {assessment.country} zero-tolerance protocol does not cover "
                    f"{question.zero_tolerance_category} (question {question.code}); load a protocol that does "
                    "(PUT /v1/zero-tolerance-protocol). Nothing was recorded.",
                    question_code=question.code,
                )
            case_id = await open_case(
                uow,
                principal=principal,
                factory_id=assessment.factory_id,
                country=assessment.country,
                category=str(question.zero_tolerance_category),
                source=Source.ASSESSMENT,
                assessment_id=assessment.id,
                question_code=question.code,
                details=None,
                now=now,
                protocol=protocol,
            )
            if case_id is not None:
                opened.append(case_id)
    return opened


async def list_findings(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> list[Finding]:
    """Findings as recorded, evidence included (staff of the assessment's country only)."""
    await staff_only(uow, principal, assessment_id)
    findings = await FindingRepository(uow.session).of(assessment_id)
    return sorted(findings.values(), key=lambda f: f.question_code)


async def propose_revision(
    uow: UnitOfWork,
    *,
    principal: Principal,
    assessment_id: uuid.UUID,
    question_code: str,
    correction: Correction,
) -> RevisionProposal:
    """Propose a correction of a finalised finding, with its reason; it takes effect only once another staff member
    approves it (bribery to suppress a finding is a named risk, so nobody corrects alone)."""
    assessment = await _editable(uow, principal, assessment_id)
    try:
        proposal = rules.propose(assessment, question_code, correction, by=principal.subject, now=_now())
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment.status.value) from exc
    findings = FindingRepository(uow.session)
    if await findings.load(assessment_id, question_code) is None:
        raise NotFound(f"Assessment {assessment_id} has no finding on {question_code}.")
    await findings.add_proposal(proposal)
    await AssessmentRepository(uow.session).audit(
        principal,
        action="finding.revision_proposed",
        assessment_id=assessment_id,
        reason=correction.reason,
        details={"question_code": question_code, "proposal_id": str(proposal.id), "to": correction.result.value},
    )
    await uow.commit()
    return proposal


@dataclass(frozen=True)
class Decision:
    proposal: RevisionProposal
    revision: FindingRevision | None
    zero_tolerance_cases_opened: list[uuid.UUID]


async def decide_revision(
    uow: UnitOfWork,
    *,
    principal: Principal,
    assessment_id: uuid.UUID,
    question_code: str,
    proposal_id: uuid.UUID,
    approve: bool,
    note: str | None,
) -> Decision:
    """Approve (the finding's next revision) or reject (with a note) a proposed correction; by a staff member
    other than its proposer (403). Approving a non-compliance on a zero-tolerance question opens its case at once.

    The finding is locked while it changes, so two approvals at once get consecutive revisions."""
    assessment = await _editable(uow, principal, assessment_id)
    findings = FindingRepository(uow.session)
    proposal = await findings.proposal(proposal_id, for_update=True)
    if proposal is None or proposal.assessment_id != assessment_id or proposal.question_code != question_code:
        raise NotFound(f"No proposed revision {proposal_id} of {question_code}.")
    now = _now()
    assessments = AssessmentRepository(uow.session)
    try:
        if not approve:
            decided = rules.reject(proposal, by=principal.subject, note=note or "", now=now)
            await findings.save_proposal(decided)
            await assessments.audit(
                principal,
                action="finding.revision_rejected",
                assessment_id=assessment_id,
                reason=note,
                details={"question_code": question_code, "proposal_id": str(proposal_id)},
            )
            await uow.commit()
            return Decision(decided, None, [])
        current = await findings.load(assessment_id, question_code, for_update=True)
        if current is None:
            raise NotFound(f"Assessment {assessment_id} has no finding on {question_code}.")
        revised, revision, decided = rules.correct(assessment, current, proposal, by=principal.subject, now=now)
    except rules.FourEyesError as exc:
        raise Forbidden(str(exc)) from exc
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment.status.value, proposal_status=proposal.status.value) from exc
    await _keep_first_revision(findings, current)
    await findings.add_revision(revision)
    await findings.save(revised)
    await findings.save_proposal(decided)
    _, tool = await tools.load_tool(uow, assessment.tool_version_id)
    opened = await _open_zero_tolerance_cases(
        uow,
        principal,
        assessment,
        tool,
        [FindingIn(question_code, revised.result, None, revised.workers_affected)]
        if question_code in tool.questions
        else [],
        now,
    )
    await assessments.audit(
        principal,
        action="finding.revised",
        assessment_id=assessment_id,
        reason=proposal.correction.reason,
        details={**_revision_details(question_code, revision, current), "proposed_by": proposal.proposed_by},
    )
    uow.emit(
        AssessmentRevised(
            assessment_id=assessment_id,
            factory_id=assessment.factory_id,
            country=assessment.country,
            cycle=assessment.cycle,
            question_code=question_code,
            revision=revision.revision,
            result=revision.result.value,
            previous_result=current.result.value,
            revised_at=revision.at,
        ),
        country=assessment.country,
    )
    await uow.commit()
    return Decision(decided, revision, opened)


async def proposals(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, question_code: str
) -> list[RevisionProposal]:
    """Every proposed correction of a finding and what became of it (staff of the assessment's country only)."""
    await staff_only(uow, principal, assessment_id)
    return await FindingRepository(uow.session).proposals(assessment_id, question_code)


def _revision_details(question_code: str, revision: FindingRevision, before: Finding) -> dict[str, Any]:
    return {
        "question_code": question_code,
        "revision": revision.revision,
        "from": before.result.value,
        "to": revision.result.value,
    }


async def _keep_first_revision(findings: FindingRepository, current: Finding) -> None:
    """Before the first correction, the finding as first recorded becomes revision 1 of its history."""
    if current.revision == 1 and not await findings.has_revisions(current.assessment_id, current.question_code):
        await findings.add_revision(rules.first_revision(current))


async def revisions(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, question_code: str
) -> list[FindingRevision]:
    """Every revision of a finding, oldest first (staff of the assessment's country only)."""
    await staff_only(uow, principal, assessment_id)
    return await FindingRepository(uow.session).revisions(assessment_id, question_code)
