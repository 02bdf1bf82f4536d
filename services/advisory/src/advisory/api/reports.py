"""Progress reports over HTTP: issue PR1 or PR2 of a plan, preview, list, read as JSON or PDF."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from advisory.adapters.reports import IssuedReport
from advisory.domain.report import ReportKind
from advisory.service import reports
from servicekit.edge import ReaderPrincipal, StaffPrincipal, StrictInput, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["progress reports"], responses=PROBLEM_RESPONSES)


class ReportCreate(StrictInput):
    kind: ReportKind


class ReportOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    kind: str
    due_date: date
    issued_at: datetime
    issued_by: str
    sha256: str

    @classmethod
    def of(cls, report: IssuedReport) -> ReportOut:
        return cls(**report.__dict__)


@router.post("/v1/improvement-plans/{plan_id}/progress-reports", status_code=201, summary="Issue PR1 or PR2")
async def issue_progress_report(
    plan_id: uuid.UUID, body: ReportCreate, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> ReportOut:
    """Staff of the country. Once issued, a report never changes (a second issue of the same kind is 409)."""
    return ReportOut.of(await reports.issue(uow, principal=staff, plan_id=plan_id, kind=body.kind))


@router.get("/v1/improvement-plans/{plan_id}/progress-reports/{kind}/preview", summary="Preview a report")
async def preview_progress_report(
    plan_id: uuid.UUID, kind: ReportKind, uow: UnitOfWorkDep, principal: ReaderPrincipal
) -> dict[str, Any]:
    """Staff and the factory: the JSON the report would carry if issued now; nothing is stored."""
    return await reports.preview(uow, principal=principal, plan_id=plan_id, kind=kind)


@router.get("/v1/progress-reports", summary="Progress reports the caller may read")
async def list_progress_reports(
    uow: UnitOfWorkDep, principal: ReaderPrincipal, page: PageQuery, factory_id: uuid.UUID | None = None
) -> Page[ReportOut]:
    """Staff: their country's; a factory: its own; a buyer: those of cycles partnerships granted it."""
    found, cursor = await reports.list_reports(uow, principal=principal, factory_id=factory_id, page=page)
    return Page(items=[ReportOut.of(r) for r in found], next_cursor=cursor)


@router.get("/v1/progress-reports/{report_id}", summary="An issued report as JSON")
async def get_progress_report(report_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> dict[str, Any]:
    return await reports.content_of(uow, principal=principal, report_id=report_id)


@router.get(
    "/v1/progress-reports/{report_id}/pdf",
    summary="An issued report as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_progress_report_pdf(report_id: uuid.UUID, uow: UnitOfWorkDep, principal: ReaderPrincipal) -> Response:
    report, document = await reports.pdf_of(uow, principal=principal, report_id=report_id)
    return Response(
        document,
        media_type="application/pdf",
        headers={
            "content-disposition": f'inline; filename="{report.kind}-{report.factory_id}-{report.cycle}.pdf"',
            "etag": f'"{report.sha256}"',
        },
    )
