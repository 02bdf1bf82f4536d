"""Findings over HTTP: record them (a batch, or one), read them, correct a finalised one by revision."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from assessments.api.schemas import (
    FindingBatch,
    FindingIn,
    FindingOut,
    FindingRevisionOut,
    Recorded,
    RevisionIn,
    RevisionRecorded,
)
from assessments.domain.assessment import Correction
from assessments.service import findings as service
from servicekit.edge import StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(responses=PROBLEM_RESPONSES)


def _finding(code: str, body: FindingIn) -> service.FindingIn:
    return service.FindingIn(code, body.result, body.evidence, body.workers_affected)


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
    summary="Correct a finalised finding",
)
async def revise(
    assessment_id: uuid.UUID, question_code: str, body: RevisionIn, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> RevisionRecorded:
    """Never in place: a new revision with its author and reason (`assessment.revised`)."""
    correction = Correction(body.result, body.evidence, body.workers_affected, body.reason)
    revision = await service.revise(
        uow, principal=staff, assessment_id=assessment_id, question_code=question_code, correction=correction
    )
    return RevisionRecorded(
        question_code=revision.question_code, revision=revision.revision, result=revision.result, reason=body.reason
    )


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
