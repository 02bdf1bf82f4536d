"""Assessments over HTTP: schedule one, list and read them, move one through its lifecycle, read its history."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from assessments.api.schemas import AssessmentOut, ScheduleIn, TransitionIn, TransitionOut
from assessments.domain.assessment import Plan
from assessments.domain.lifecycle import Status
from assessments.service import scheduling
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)


@router.post("/v1/assessments", status_code=201, tags=["assessments"], summary="Schedule an assessment")
async def schedule(body: ScheduleIn, uow: UnitOfWorkDep, staff: StaffPrincipal) -> AssessmentOut:
    """The factory must be enrolled or active (as the registry last said); the cycle is counted per factory."""
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
        uow, principal=staff, plan=plan, sector=body.sector, tool_version_id=body.tool_version_id
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
    draft_submitted → in_progress returns it to the team (with comments). Anything else: 409."""
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
