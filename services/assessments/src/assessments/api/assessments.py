"""Assessments over HTTP: schedule one, list and read them, move one through its lifecycle, read its history."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from assessments.api.programme import CountryProgrammeDep
from assessments.api.schemas import (
    AssessmentOut,
    CancelIn,
    CommentIn,
    CommentOut,
    RescheduleIn,
    ScheduleIn,
    TransitionIn,
    TransitionOut,
)
from assessments.domain.assessment import Plan
from assessments.domain.lifecycle import Status
from assessments.service import comments, scheduling
from servicekit.edge import AnyPrincipal, FactoryPrincipal, StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)


@router.post("/v1/assessments", status_code=201, tags=["assessments"], summary="Schedule an assessment")
async def schedule(
    body: ScheduleIn, uow: UnitOfWorkDep, staff: StaffPrincipal, programme: CountryProgrammeDep
) -> AssessmentOut:
    """The factory must be enrolled or active (as the registry last said); the cycle is counted per factory.
    Where the country pack names a tool or protocol this release does not ship, 409 until staff have loaded
    them (the problem says which; `GET /v1/programme`)."""
    plan = Plan(
        factory_id=body.factory_id,
        assessment_type=body.assessment_type,
        mode=body.mode,
        joint=body.joint,
        inspectors=tuple(body.inspectors),
        team=tuple(body.team),
        start_date=body.start_date,
        end_date=body.end_date,
    )
    assessment = await scheduling.schedule(
        uow,
        principal=staff,
        plan=plan,
        sector=body.sector,
        tool_version_id=body.tool_version_id,
        programme=programme,
    )
    return AssessmentOut.of(assessment)


@router.get(
    "/v1/assessments", tags=["assessments"], summary="Assessments (staff: their country; a factory: its released ones)"
)
async def list_assessments(
    uow: UnitOfWorkDep,
    principal: AnyPrincipal,
    page: PageQuery,
    factory_id: uuid.UUID | None = None,
    status: Status | None = None,
    overdue: bool | None = None,
) -> Page[AssessmentOut]:
    """Sort by `start_date` (default, newest first) or `created_at`."""
    found, cursor = await scheduling.list_assessments(
        uow, principal=principal, factory_id=factory_id, status=status, overdue=overdue, page=page
    )
    return Page[AssessmentOut](items=[AssessmentOut.of(a) for a in found], next_cursor=cursor)


@router.get("/v1/assessments/{assessment_id}", tags=["assessments"], summary="One assessment")
async def get_assessment(assessment_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> AssessmentOut:
    return AssessmentOut.of(await scheduling.get(uow, principal=principal, assessment_id=assessment_id))


@router.post("/v1/assessments/{assessment_id}/transitions", tags=["assessments"], summary="Move an assessment on")
async def move(
    assessment_id: uuid.UUID, body: TransitionIn, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> AssessmentOut:
    """scheduled → in_progress → draft_submitted → quality_checked → released → comment_period → finalised;
    draft_submitted → in_progress returns it to the team (with comments). Anything else: 409. Quality check,
    release and return are a team leader's (scope `assessments:team_leader`) who was not on the team (403);
    finalisation waits for the end of the factory's comment period or its waiver (409)."""
    moved = await scheduling.transition(
        uow, principal=staff, assessment_id=assessment_id, to=Status(body.to), comment=body.comment
    )
    return AssessmentOut.of(moved)


@router.get("/v1/assessments/{assessment_id}/transitions", tags=["assessments"], summary="Lifecycle history")
async def transition_history(
    assessment_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> list[TransitionOut]:
    return [
        TransitionOut.of(t) for t in await scheduling.transitions(uow, principal=staff, assessment_id=assessment_id)
    ]


@router.post("/v1/assessments/{assessment_id}/cancellation", tags=["assessments"], summary="Cancel an assessment")
async def cancel(assessment_id: uuid.UUID, body: CancelIn, uow: UnitOfWorkDep, staff: StaffPrincipal) -> AssessmentOut:
    """Before fieldwork ends (scheduled, or in progress up to the last visit day), with a reason; the assessment
    then counts for no cycle (`assessment.cancelled`). Otherwise 409."""
    cancelled = await scheduling.cancel(uow, principal=staff, assessment_id=assessment_id, reason=body.reason)
    return AssessmentOut.of(cancelled)


@router.post("/v1/assessments/{assessment_id}/reschedule", tags=["assessments"], summary="Move an assessment's visit")
async def reschedule(
    assessment_id: uuid.UUID, body: RescheduleIn, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> AssessmentOut:
    """Before fieldwork ends, with a reason; the report's due date follows the new last visit day
    (`assessment.rescheduled`). Once the visit started only its last day moves. Otherwise 409."""
    moved = await scheduling.reschedule(
        uow,
        principal=staff,
        assessment_id=assessment_id,
        start=body.start_date,
        end=body.end_date,
        reason=body.reason,
    )
    return AssessmentOut.of(moved)


@router.post(
    "/v1/assessments/{assessment_id}/comments", status_code=201, tags=["comment period"], summary="Comment on a finding"
)
async def comment(
    assessment_id: uuid.UUID, body: CommentIn, uow: UnitOfWorkDep, factory: FactoryPrincipal
) -> CommentOut:
    """The factory, on one finding of its report, while its comment period runs (409 before or after it)."""
    made = await comments.comment(
        uow, principal=factory, assessment_id=assessment_id, question_code=body.question_code, text=body.comment
    )
    return CommentOut.of(made)


@router.get("/v1/assessments/{assessment_id}/comments", tags=["comment period"], summary="The factory's comments")
async def factory_comments(assessment_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> list[CommentOut]:
    """Staff of the country and the factory itself."""
    return [CommentOut.of(c) for c in await comments.comments(uow, principal=principal, assessment_id=assessment_id)]


@router.post(
    "/v1/assessments/{assessment_id}/comment-period/waiver",
    tags=["comment period"],
    summary="The factory waives the rest of its comment period",
)
async def waive_comment_period(
    assessment_id: uuid.UUID, uow: UnitOfWorkDep, factory: FactoryPrincipal
) -> AssessmentOut:
    """The assessment is finalised at once (`assessment.finalised`)."""
    finalised = await scheduling.waive_comment_period(uow, principal=factory, assessment_id=assessment_id)
    return AssessmentOut.of(finalised)
