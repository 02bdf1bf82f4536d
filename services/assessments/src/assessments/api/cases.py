"""Zero-tolerance cases over HTTP: report one from outside an assessment, list and read them, move one on."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from assessments.api.schemas import CaseMove, CaseOut, CaseReport
from assessments.domain.zero_tolerance import CaseStatus, Source
from assessments.service import cases
from servicekit.edge import StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)


@router.post(
    "/v1/zero-tolerance-cases", status_code=201, tags=["zero tolerance"], summary="Report a zero-tolerance issue"
)
async def report_case(body: CaseReport, uow: UnitOfWorkDep, staff: StaffPrincipal) -> CaseOut:
    """From outside an assessment (advisory visit, hotline, brand): the case opens and
    `zero_tolerance.case_opened` is published at once."""
    found = await cases.report_case(
        uow,
        principal=staff,
        factory_id=body.factory_id,
        category=body.category,
        source=Source(body.source),
        details=body.details,
    )
    return CaseOut.of(found.case, found.steps)


@router.get("/v1/zero-tolerance-cases", tags=["zero tolerance"], summary="Zero-tolerance cases of the staff's country")
async def list_cases(
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    page: PageQuery,
    status: CaseStatus | None = None,
    factory_id: uuid.UUID | None = None,
    overdue: bool | None = None,
) -> Page[CaseOut]:
    found, cursor = await cases.list_cases(
        uow, principal=staff, status=status, factory_id=factory_id, overdue=overdue, page=page
    )
    return Page[CaseOut](items=[CaseOut.of(c) for c in found], next_cursor=cursor)


@router.get("/v1/zero-tolerance-cases/{case_id}", tags=["zero tolerance"], summary="One case with its steps")
async def get_case(case_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> CaseOut:
    found = await cases.get_case(uow, principal=staff, case_id=case_id)
    return CaseOut.of(found.case, found.steps)


@router.post("/v1/zero-tolerance-cases/{case_id}/transitions", tags=["zero tolerance"], summary="Move a case on")
async def move_case(case_id: uuid.UUID, body: CaseMove, uow: UnitOfWorkDep, staff: StaffPrincipal) -> CaseOut:
    """opened → referred → acknowledged → remediation → closed, one step at a time (`zero_tolerance.case_updated`)."""
    found = await cases.move_case(uow, principal=staff, case_id=case_id, to=CaseStatus(body.to), note=body.note)
    return CaseOut.of(found.case, found.steps)
