"""Findings over HTTP: record them (a batch, or one), read them, correct a finalised one by revision."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from assessments.api.schemas import (
    DecisionIn,
    FindingBatch,
    FindingIn,
    FindingOut,
    FindingRevisionOut,
    Recorded,
    RevisionDecisionOut,
    RevisionIn,
    RevisionProposalOut,
)
from assessments.domain.assessment import Correction
from assessments.service import findings as service
from servicekit.edge import StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(responses=PROBLEM_RESPONSES)


def _finding(code: str, body: FindingIn) -> service.FindingIn:
    return service.FindingIn(
        code, body.result, body.evidence, body.workers_affected, explanation=body.explanation, severity=body.severity
    )


def _recorded(result: service.Recorded) -> Recorded:
    return Recorded(recorded=result.recorded, zero_tolerance_cases_opened=result.zero_tolerance_cases_opened)


@router.put("/v1/assessments/{assessment_id}/findings", tags=["findings"], summary="Record findings as a batch")
async def record_batch(
    assessment_id: uuid.UUID, body: FindingBatch, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> Recorded:
    """All or none: an unknown question or a repeated one refuses the whole batch (422)."""
    result = await service.record_findings(
        uow,
        principal=staff,
        assessment_id=assessment_id,
        findings=[_finding(f.question_code, f) for f in body.findings],
    )
    return _recorded(result)


@router.put("/v1/assessments/{assessment_id}/findings/{question_code}", tags=["findings"], summary="Record one finding")
async def record_one(
    assessment_id: uuid.UUID, question_code: str, body: FindingIn, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> Recorded:
    """A non-compliance on a zero-tolerance question opens a case at once (`zero_tolerance.case_opened`)."""
    result = await service.record_findings(
        uow, principal=staff, assessment_id=assessment_id, findings=[_finding(question_code, body)]
    )
    return _recorded(result)


@router.get("/v1/assessments/{assessment_id}/findings", tags=["findings"], summary="Findings as recorded (staff)")
async def findings(assessment_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> list[FindingOut]:
    return [FindingOut.of(f) for f in await service.list_findings(uow, principal=staff, assessment_id=assessment_id)]


@router.post(
    "/v1/assessments/{assessment_id}/findings/{question_code}/revisions",
    status_code=201,
    tags=["findings"],
    summary="Propose a correction of a finalised finding",
)
async def revise(
    assessment_id: uuid.UUID, question_code: str, body: RevisionIn, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> RevisionProposalOut:
    """Never in place, never alone: a proposal with its reason that another staff member approves (then it is
    the finding's next revision, `assessment.revised`) or rejects."""
    correction = Correction(
        body.result, body.evidence, body.workers_affected, body.reason, body.explanation, body.severity
    )
    proposal = await service.propose_revision(
        uow, principal=staff, assessment_id=assessment_id, question_code=question_code, correction=correction
    )
    return RevisionProposalOut.of(proposal)


@router.get(
    "/v1/assessments/{assessment_id}/findings/{question_code}/revision-proposals",
    tags=["findings"],
    summary="Proposed corrections of a finding and their outcome (staff)",
)
async def revision_proposals(
    assessment_id: uuid.UUID, question_code: str, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> list[RevisionProposalOut]:
    found = await service.proposals(uow, principal=staff, assessment_id=assessment_id, question_code=question_code)
    return [RevisionProposalOut.of(p) for p in found]


async def _decide(
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    assessment_id: uuid.UUID,
    question_code: str,
    proposal_id: uuid.UUID,
    *,
    approve: bool,
    note: str | None,
) -> RevisionDecisionOut:
    decision = await service.decide_revision(
        uow,
        principal=staff,
        assessment_id=assessment_id,
        question_code=question_code,
        proposal_id=proposal_id,
        approve=approve,
        note=note,
    )
    return RevisionDecisionOut(
        proposal=RevisionProposalOut.of(decision.proposal),
        revision=decision.revision.revision if decision.revision else None,
        zero_tolerance_cases_opened=decision.zero_tolerance_cases_opened,
    )


@router.post(
    "/v1/assessments/{assessment_id}/findings/{question_code}/revision-proposals/{proposal_id}/approval",
    tags=["findings"],
    summary="Approve a proposed correction (another staff member)",
)
async def approve_revision(
    assessment_id: uuid.UUID,
    question_code: str,
    proposal_id: uuid.UUID,
    body: DecisionIn,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
) -> RevisionDecisionOut:
    """By anyone of the country's staff but the proposer (403); a non-compliance on a zero-tolerance question
    opens its case at once."""
    return await _decide(uow, staff, assessment_id, question_code, proposal_id, approve=True, note=body.note)


@router.post(
    "/v1/assessments/{assessment_id}/findings/{question_code}/revision-proposals/{proposal_id}/rejection",
    tags=["findings"],
    summary="Reject a proposed correction (another staff member, with a note)",
)
async def reject_revision(
    assessment_id: uuid.UUID,
    question_code: str,
    proposal_id: uuid.UUID,
    body: DecisionIn,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
) -> RevisionDecisionOut:
    return await _decide(uow, staff, assessment_id, question_code, proposal_id, approve=False, note=body.note)


@router.get(
    "/v1/assessments/{assessment_id}/findings/{question_code}/revisions",
    tags=["findings"],
    summary="A finding's revisions (staff)",
)
async def revision_history(
    assessment_id: uuid.UUID, question_code: str, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> list[FindingRevisionOut]:
    found = await service.revisions(uow, principal=staff, assessment_id=assessment_id, question_code=question_code)
    return [FindingRevisionOut.of(r) for r in found]
