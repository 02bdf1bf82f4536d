"""Zero-tolerance cases and SLCP exchange over HTTP."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from assessments.domain.lifecycle import Result
from assessments.domain.slcp import SlcpStatus
from assessments.domain.zero_tolerance import CaseStatus, Source
from assessments.service import cases
from servicekit.auth import CurrentPrincipal, Principal, Role, require
from servicekit.database import database_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)
StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]

Category = Literal[
    "child_labour",
    "forced_labour",
    "corporal_punishment_violence",
    "imminent_danger",
    "freedom_of_association",
    "bribery",
    "retaliation",
]


class CaseReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    factory_id: uuid.UUID
    category: Category
    source: Literal["advisory_visit", "hotline", "brand", "other"]
    details: str | None = Field(default=None, max_length=8000, description="Confidential: never leaves this service.")


class CaseStep(BaseModel):
    from_status: CaseStatus | None
    to_status: CaseStatus
    at: datetime
    by_subject: str
    note: str | None


class CaseOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    category: Category
    source: Source
    assessment_id: uuid.UUID | None
    question_code: str | None
    status: CaseStatus
    details: str | None
    notify: list[str] = Field(description="Parties the country protocol says are told.")
    deadlines: dict[str, str] = Field(description="When each step is due (ISO 8601).")
    overdue: bool
    overdue_steps: list[str]
    opened_at: datetime
    opened_by: str
    updated_at: datetime
    steps: list[CaseStep] | None = None


def _case(row: dict[str, Any]) -> CaseOut:
    return CaseOut.model_validate(row)


@router.post(
    "/v1/zero-tolerance-cases", status_code=201, tags=["zero tolerance"], summary="Report a zero-tolerance issue"
)
async def report_case(body: CaseReport, request: Request, principal: StaffPrincipal) -> CaseOut:
    """From outside an assessment (advisory visit, hotline, brand): the case opens and
    `zero_tolerance.case_opened` is published at once."""
    async with database_of(request).unit_of_work() as uow:
        row = await cases.report_case(
            uow,
            principal=principal,
            factory_id=body.factory_id,
            category=body.category,
            source=body.source,
            details=body.details,
        )
    return _case(row)


@router.get("/v1/zero-tolerance-cases", tags=["zero tolerance"], summary="Zero-tolerance cases of the staff's country")
async def list_cases(
    request: Request,
    principal: StaffPrincipal,
    page: PageQuery,
    status: CaseStatus | None = None,
    factory_id: uuid.UUID | None = None,
    overdue: bool | None = None,
) -> Page[CaseOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await cases.list_cases(
            uow,
            principal=principal,
            status=status.value if status else None,
            factory_id=factory_id,
            overdue=overdue,
            page=page,
        )
    return Page[CaseOut](items=[_case(r) for r in rows], next_cursor=cursor)


@router.get("/v1/zero-tolerance-cases/{case_id}", tags=["zero tolerance"], summary="One case with its steps")
async def get_case(case_id: uuid.UUID, request: Request, principal: StaffPrincipal) -> CaseOut:
    async with database_of(request).unit_of_work() as uow:
        return _case(await cases.get_case(uow, principal=principal, case_id=case_id))


class CaseMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["referred", "acknowledged", "remediation", "closed"]
    note: str | None = Field(default=None, max_length=4000, description="Required to close.")


@router.post("/v1/zero-tolerance-cases/{case_id}/transitions", tags=["zero tolerance"], summary="Move a case on")
async def move_case(case_id: uuid.UUID, body: CaseMove, request: Request, principal: StaffPrincipal) -> CaseOut:
    """opened → referred → acknowledged → remediation → closed, one step at a time (`zero_tolerance.case_updated`)."""
    async with database_of(request).unit_of_work() as uow:
        return _case(
            await cases.move_case(uow, principal=principal, case_id=case_id, to=CaseStatus(body.to), note=body.note)
        )


class SlcpAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str = Field(min_length=1, max_length=40, examples=["RH-CHL-01"])
    answer: str | None = Field(default=None, max_length=2000, description="The answer as given.")
    finding: Result = Field(description="The verified conclusion on the question.")


class SlcpDocument(BaseModel):
    """An SLCP assessment in the platform's exchange format (see services/assessments/README.md)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["betterwork-slcp/1"] = "betterwork-slcp/1"
    assessment_id: str = Field(min_length=1, max_length=100)
    facility_id: str = Field(min_length=1, max_length=100, description="SLCP facility id.")
    status: SlcpStatus
    status_date: date
    verifier: str | None = Field(default=None, max_length=300)
    sector: str = Field(default="garment", max_length=32)
    answers: list[SlcpAnswer] = Field(min_length=1, max_length=5000)


class SlcpImportIn(SlcpDocument):
    factory_id: uuid.UUID | None = Field(default=None, description="Default: the factory carrying `facility_id`.")


class SlcpImportOut(BaseModel):
    id: uuid.UUID
    slcp_assessment_id: str
    facility_id: str
    factory_id: uuid.UUID
    status: SlcpStatus
    verified: bool = Field(description="Only VRF data counts as verified.")
    tool_version_id: uuid.UUID
    findings: dict[str, Result] = Field(description="Tool question code -> result, through the SLCP mapping.")
    unmapped: list[str] = Field(description="SLCP question ids with no tool question.")
    conflicts: list[str] = Field(description="Tool questions two SLCP answers disagreed on (left out).")
    repeat: bool = Field(description="The same verified document was imported before; nothing changed.")
    imported_at: datetime


@router.post("/v1/slcp/imports", status_code=201, tags=["SLCP"], summary="Import an SLCP assessment")
async def import_slcp(body: SlcpImportIn, request: Request, principal: StaffPrincipal) -> SlcpImportOut:
    document = body.model_dump(mode="json", exclude={"factory_id"})
    async with database_of(request).unit_of_work() as uow:
        row = await cases.import_slcp(uow, principal=principal, document=document, factory_id=body.factory_id)
    return SlcpImportOut(**{k: row[k] for k in SlcpImportOut.model_fields})


@router.get("/v1/slcp/imports/{import_id}", tags=["SLCP"], summary="One SLCP import")
async def get_slcp_import(import_id: uuid.UUID, request: Request, principal: StaffPrincipal) -> SlcpImportOut:
    async with database_of(request).unit_of_work() as uow:
        row = await cases.get_import(uow, principal=principal, import_id=import_id)
    return SlcpImportOut(**{k: row[k] for k in SlcpImportOut.model_fields})


@router.get("/v1/assessments/{assessment_id}/slcp", tags=["SLCP"], summary="A released assessment in SLCP format")
async def export_slcp(assessment_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> SlcpDocument:
    async with database_of(request).unit_of_work() as uow:
        return SlcpDocument(**await cases.export_slcp(uow, principal=principal, assessment_id=assessment_id))
