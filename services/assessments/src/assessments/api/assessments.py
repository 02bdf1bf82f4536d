"""The Compliance Assessment Tool and assessments over HTTP: tool versions, scheduling, the lifecycle, findings,
revisions, reports (JSON and CSV) and figures."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from assessments.domain.lifecycle import AssessmentType, Mode, Result, Status
from assessments.domain.tool import to_documents
from assessments.service import assessments as service
from assessments.service import tools
from servicekit.auth import CurrentPrincipal, Principal, Role, require
from servicekit.database import database_of
from servicekit.errors import PROBLEM_RESPONSES, BadRequest
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)
StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- tools ------------------------------------------------------------------------------------------------------


class ToolVersionOut(BaseModel):
    id: uuid.UUID
    country: str
    sector: str
    label: str
    status: Literal["draft", "published", "retired"]
    effective_from: date | None
    question_count: int
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None


def _tool_out(row: dict[str, Any]) -> ToolVersionOut:
    return ToolVersionOut(**{k: row[k] for k in ToolVersionOut.model_fields})


async def _body(request: Request, kinds: tuple[str, ...], what: str) -> bytes:
    if request.headers.get("content-type", "").split(";")[0].strip() not in kinds:
        raise BadRequest(f"Send {what} with Content-Type {kinds[0]}.")
    body = await request.body()
    if len(body) > 5 * 1024 * 1024:
        raise BadRequest("The document is larger than 5 MB.")
    return body


YAML_BODY = {"requestBody": {"required": True, "content": {t: {"schema": {"type": "string"}} for t in YAML_TYPES[:1]}}}


@router.post(
    "/v1/tools", status_code=201, tags=["tool"], summary="Import a tool version (YAML)", openapi_extra=YAML_BODY
)
async def import_tool(request: Request, principal: StaffPrincipal) -> ToolVersionOut:
    """A country tool (`kind: cat-country-tool`, joined with the shipped global template) or a whole exported
    version (`kind: cat-tool-version`). It starts as a draft; publish it to use it."""
    tool = tools.parse_yaml(await _body(request, YAML_TYPES, "YAML"))
    async with database_of(request).unit_of_work() as uow:
        return _tool_out(await tools.create_version(uow, principal=principal, tool=tool))


@router.get("/v1/tools", tags=["tool"], summary="Tool versions")
async def list_tools(
    request: Request, principal: StaffPrincipal, country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None
) -> list[ToolVersionOut]:
    async with database_of(request).unit_of_work() as uow:
        return [_tool_out(r) for r in await tools.list_versions(uow, country=country)]


@router.get("/v1/tools/{tool_version_id}", tags=["tool"], summary="A tool version with its questions")
async def get_tool(tool_version_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """Clusters, compliance points and questions (texts, legal references, tags, SLCP mappings)."""
    async with database_of(request).unit_of_work() as uow:
        row, tool = await tools.load_tool(uow, tool_version_id)
    global_template, country_tool = to_documents(tool)
    return {
        **_tool_out(row).model_dump(),
        "clusters": global_template["clusters"],
        "questions": country_tool["questions"],
    }


@router.get(
    "/v1/tools/{tool_version_id}/export",
    tags=["tool"],
    summary="Export a tool version as YAML",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
async def export_tool(tool_version_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> Response:
    async with database_of(request).unit_of_work() as uow:
        row, tool = await tools.load_tool(uow, tool_version_id)
    return Response(
        tools.export_yaml(tool),
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{row["label"].replace(" ", "_")}.yaml"'},
    )


@router.post("/v1/tools/{tool_version_id}/publish", tags=["tool"], summary="Publish a draft tool version")
async def publish_tool(tool_version_id: uuid.UUID, request: Request, principal: StaffPrincipal) -> ToolVersionOut:
    """It becomes current for its country and sector; assessments started earlier keep their version."""
    async with database_of(request).unit_of_work() as uow:
        return _tool_out(await tools.publish(uow, principal=principal, tool_version_id=tool_version_id))


@router.put(
    "/v1/zero-tolerance-protocol",
    tags=["zero tolerance"],
    summary="Load a country's zero-tolerance protocol (YAML)",
    openapi_extra=YAML_BODY,
)
async def put_protocol(request: Request, principal: StaffPrincipal) -> dict[str, Any]:
    """Which issues are zero tolerance, who is told, and each step's deadline (`kind: zero-tolerance-protocol`)."""
    body = await _body(request, YAML_TYPES, "YAML")
    async with database_of(request).unit_of_work() as uow:
        protocol = await tools.put_protocol(uow, principal=principal, body=body)
    return {"country": protocol.country, "issues": sorted(protocol.issues), "parties": sorted(protocol.parties)}


# ---- assessments ------------------------------------------------------------------------------------------------


class ScheduleIn(_Strict):
    factory_id: uuid.UUID
    assessment_type: AssessmentType = AssessmentType.REGULAR
    mode: Mode = Mode.UNANNOUNCED
    joint: bool = Field(default=False, description="Joint with labour inspectors (name them in `inspectors`).")
    inspectors: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default=[], max_length=10)
    team: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default=[], max_length=10)
    start_date: date = Field(description="First visit day.")
    end_date: date = Field(description="Last visit day; the report is due 28 days later.")
    sector: str = Field(default="garment", max_length=32)
    tool_version_id: uuid.UUID | None = Field(default=None, description="Default: the current published version.")


class AssessmentOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    assessment_type: AssessmentType
    mode: Mode
    joint: bool
    inspectors: list[str]
    team: list[str]
    start_date: date
    end_date: date
    report_due: date
    overdue: bool = Field(description="Not released although the report is due.")
    tool_version_id: uuid.UUID
    status: Status
    version: int
    released_at: datetime | None
    finalised_at: datetime | None
    created_at: datetime
    created_by: str


def _out(row: dict[str, Any]) -> AssessmentOut:
    return AssessmentOut.model_validate({**row, "overdue": row.get("overdue", False)})


@router.post("/v1/assessments", status_code=201, tags=["assessments"], summary="Schedule an assessment")
async def schedule(body: ScheduleIn, request: Request, principal: StaffPrincipal) -> AssessmentOut:
    """The factory must be enrolled or active (as the registry last said); the cycle is counted per factory."""
    async with database_of(request).unit_of_work() as uow:
        row = await service.schedule(
            uow,
            principal=principal,
            request=service.ScheduleRequest(**body.model_dump()),
        )
    return _out(service.with_overdue(row))


@router.get(
    "/v1/assessments", tags=["assessments"], summary="Assessments (staff: their country; a factory: its released ones)"
)
async def list_assessments(
    request: Request,
    principal: CurrentPrincipal,
    page: PageQuery,
    factory_id: uuid.UUID | None = None,
    status: Status | None = None,
    overdue: bool | None = None,
) -> Page[AssessmentOut]:
    """Sort by `start_date` (default, newest first) or `created_at`."""
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await service.list_assessments(
            uow,
            principal=principal,
            factory_id=factory_id,
            status=status.value if status else None,
            overdue=overdue,
            page=page,
        )
    return Page[AssessmentOut](items=[_out(r) for r in rows], next_cursor=cursor)


@router.get("/v1/assessments/{assessment_id}", tags=["assessments"], summary="One assessment")
async def get_assessment(assessment_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> AssessmentOut:
    async with database_of(request).unit_of_work() as uow:
        return _out(await service.get(uow, principal=principal, assessment_id=assessment_id))


class TransitionIn(_Strict):
    to: Literal["in_progress", "draft_submitted", "quality_checked", "released", "comment_period", "finalised"]
    comment: str | None = Field(default=None, max_length=4000, description="Required to return a draft to the team.")


@router.post("/v1/assessments/{assessment_id}/transitions", tags=["assessments"], summary="Move an assessment on")
async def move(
    assessment_id: uuid.UUID, body: TransitionIn, request: Request, principal: StaffPrincipal
) -> AssessmentOut:
    """scheduled → in_progress → draft_submitted → quality_checked → released → comment_period → finalised;
    draft_submitted → in_progress returns it to the team (with comments). Anything else: 409."""
    async with database_of(request).unit_of_work() as uow:
        row = await service.transition(
            uow, principal=principal, assessment_id=assessment_id, to=Status(body.to), comment=body.comment
        )
    return _out(row)


@router.get("/v1/assessments/{assessment_id}/transitions", tags=["assessments"], summary="Lifecycle history")
async def transition_history(
    assessment_id: uuid.UUID, request: Request, principal: StaffPrincipal
) -> list[dict[str, Any]]:
    async with database_of(request).unit_of_work() as uow:
        return await service.transitions(uow, principal=principal, assessment_id=assessment_id)


class FindingIn(_Strict):
    result: Result
    evidence: str | None = Field(default=None, max_length=8000, description="Private: staff and the factory only.")
    workers_affected: int | None = Field(default=None, ge=0, le=1_000_000)


class FindingBatchItem(FindingIn):
    question_code: str = Field(min_length=1, max_length=40)


class FindingBatch(_Strict):
    findings: list[FindingBatchItem] = Field(min_length=1, max_length=2000)


class Recorded(BaseModel):
    recorded: int
    zero_tolerance_cases_opened: list[uuid.UUID]


def _finding(code: str, body: FindingIn) -> service.FindingIn:
    return service.FindingIn(code, body.result, body.evidence, body.workers_affected)


@router.put("/v1/assessments/{assessment_id}/findings", tags=["findings"], summary="Record findings as a batch")
async def record_batch(
    assessment_id: uuid.UUID, body: FindingBatch, request: Request, principal: StaffPrincipal
) -> Recorded:
    """All or none: an unknown question or a repeated one refuses the whole batch (422)."""
    async with database_of(request).unit_of_work() as uow:
        result = await service.record_findings(
            uow,
            principal=principal,
            assessment_id=assessment_id,
            findings=[_finding(f.question_code, f) for f in body.findings],
        )
    return Recorded(**result)


@router.put("/v1/assessments/{assessment_id}/findings/{question_code}", tags=["findings"], summary="Record one finding")
async def record_one(
    assessment_id: uuid.UUID, question_code: str, body: FindingIn, request: Request, principal: StaffPrincipal
) -> Recorded:
    """A non-compliance on a zero-tolerance question opens a case at once (`zero_tolerance.case_opened`)."""
    async with database_of(request).unit_of_work() as uow:
        result = await service.record_findings(
            uow, principal=principal, assessment_id=assessment_id, findings=[_finding(question_code, body)]
        )
    return Recorded(**result)


@router.get("/v1/assessments/{assessment_id}/findings", tags=["findings"], summary="Findings as recorded (staff)")
async def findings(assessment_id: uuid.UUID, request: Request, principal: StaffPrincipal) -> list[dict[str, Any]]:
    async with database_of(request).unit_of_work() as uow:
        return await service.list_findings(uow, principal=principal, assessment_id=assessment_id)


class RevisionIn(FindingIn):
    reason: str = Field(min_length=1, max_length=4000)


@router.post(
    "/v1/assessments/{assessment_id}/findings/{question_code}/revisions",
    status_code=201,
    tags=["findings"],
    summary="Correct a finalised finding",
)
async def revise(
    assessment_id: uuid.UUID, question_code: str, body: RevisionIn, request: Request, principal: StaffPrincipal
) -> dict[str, Any]:
    """Never in place: a new revision with its author and reason (`assessment.revised`)."""
    async with database_of(request).unit_of_work() as uow:
        return await service.revise(
            uow,
            principal=principal,
            assessment_id=assessment_id,
            question_code=question_code,
            result=body.result,
            evidence=body.evidence,
            workers_affected=body.workers_affected,
            reason=body.reason,
        )


@router.get(
    "/v1/assessments/{assessment_id}/findings/{question_code}/revisions",
    tags=["findings"],
    summary="A finding's revisions (staff)",
)
async def revision_history(
    assessment_id: uuid.UUID, question_code: str, request: Request, principal: StaffPrincipal
) -> list[dict[str, Any]]:
    async with database_of(request).unit_of_work() as uow:
        return await service.revisions(
            uow, principal=principal, assessment_id=assessment_id, question_code=question_code
        )


@router.get(
    "/v1/assessments/{assessment_id}/report",
    tags=["reports"],
    summary="The report (JSON, or CSV with ?format=csv)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def get_report(
    assessment_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Findings by cluster and compliance point with non-compliance figures; publicly reported issues marked.

    Staff of the country at any time; the factory once released; a buyer once released and when the
    partnerships service has granted it this factory's cycle. Evidence notes only for staff and the factory.
    """
    async with database_of(request).unit_of_work() as uow:
        document = await service.report(uow, principal=principal, assessment_id=assessment_id)
    if format == "json":
        return document
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(service.REPORT_CSV_COLUMNS)
    writer.writerows(service.report_rows(document))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="assessment-{assessment_id}.csv"'},
    )


@router.get("/v1/factories/{factory_id}/results", tags=["reports"], summary="A factory's results across cycles")
async def factory_results(factory_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    async with database_of(request).unit_of_work() as uow:
        return await service.factory_results(uow, principal=principal, factory_id=factory_id)


@router.get(
    "/v1/statistics/public-non-compliance",
    tags=["reports"],
    summary="Average non-compliance on publicly reported issues",
)
async def public_non_compliance(
    request: Request,
    principal: StaffPrincipal,
    country: Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")],
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> dict[str, Any]:
    """Mean per factory, then averaged: each factory's latest finalised assessment in the period."""
    if end < start:
        raise BadRequest("`to` is before `from`.")
    async with database_of(request).unit_of_work() as uow:
        return await service.public_non_compliance(
            uow, principal=principal, country=country.upper(), start=start, end=end
        )
