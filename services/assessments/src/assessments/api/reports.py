"""Reports and figures over HTTP: an assessment's report (JSON or CSV), a factory's results across cycles,
and a country's average non-compliance on publicly reported issues."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from assessments.api.schemas import (
    CycleResultOut,
    FactoryRateOut,
    PublicNonComplianceOut,
    RateOut,
    ReportAssessmentOut,
    ReportFactoryOut,
    ReportOut,
    ReportToolOut,
    ReportWithEvidenceOut,
)
from assessments.service import reports as service
from assessments.service.factory_refs import MergedFactory
from servicekit.database import database_of
from servicekit.downloads import content_disposition, csv_writer
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES, BadRequest
from servicekit.reads import RenderedBodies

router = APIRouter(responses=PROBLEM_RESPONSES)

# Reports rendered per assessment and reader kind, at the version they were rendered from (this process only;
# each request checks the version first, so a revision shows at once everywhere).
_RENDERED = RenderedBodies()


def _report_out(report: service.Report) -> ReportOut | ReportWithEvidenceOut:
    """The report in the model of its reader: evidence notes only for those who may see them."""
    clusters = []
    for cluster in report.clusters:
        points = []
        for point in cluster.compliance_points:
            questions = []
            for q in point.questions:
                finding = q.finding
                entry: dict[str, Any] = {
                    "code": q.code,
                    "text": q.text,
                    "legal_reference": q.legal_reference,
                    "publicly_reported": q.publicly_reported,
                    "zero_tolerance": q.zero_tolerance,
                    "result": finding.result if finding else None,
                    "workers_affected": finding.workers_affected if finding else None,
                    "revision": finding.revision if finding else None,
                    "explanation": finding.explanation if finding else None,
                    "severity": finding.severity if finding else None,
                }
                if report.with_evidence:
                    entry["evidence"] = finding.evidence if finding else None
                questions.append(entry)
            rate = RateOut.of(point.non_compliance)
            points.append({"code": point.code, "name": point.name, "non_compliance": rate, "questions": questions})
        clusters.append(
            {
                "code": cluster.code,
                "name": cluster.name,
                "category": cluster.category,
                "non_compliance": RateOut.of(cluster.non_compliance),
                "compliance_points": points,
            }
        )
    assessment, version, tool = report.assessment, report.tool_version, report.tool
    document = {
        "assessment": ReportAssessmentOut.of(assessment),
        "factory": ReportFactoryOut(id=assessment.factory_id, name=report.factory_name),
        "tool": ReportToolOut(id=version.id, label=tool.label, country=tool.country, sector=tool.sector),
        "non_compliance": RateOut.of(report.figures.overall),
        "publicly_reported_non_compliance": RateOut.of(report.figures.publicly_reported),
        "clusters": clusters,
    }
    model = ReportWithEvidenceOut if report.with_evidence else ReportOut
    return model.model_validate(document)


@router.get(
    "/v1/assessments/{assessment_id}/report",
    tags=["reports"],
    summary="The report (JSON, or CSV with ?format=csv)",
    response_model=ReportWithEvidenceOut | ReportOut,
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def get_report(
    assessment_id: uuid.UUID,
    request: Request,
    principal: AnyPrincipal,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """Findings by cluster and compliance point with non-compliance figures; publicly reported issues marked.

    Staff of the country at any time; the factory once released; a buyer once released and when the
    partnerships service has granted it this factory's cycle. Evidence notes only for staff of its country (the
    factory reads each finding's explanation instead).
    """
    database = database_of(request)
    if format == "csv":
        async with database.unit_of_work() as uow:
            report = await service.report(uow, principal=principal, assessment_id=assessment_id)
        out = io.StringIO()
        writer = csv_writer(out, lineterminator="\n")
        writer.writerow(service.REPORT_CSV_COLUMNS)
        writer.writerows(service.report_rows(report))
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": content_disposition(f"assessment-{assessment_id}.csv")},
        )
    # Hot path: who may read it and which version there is, in one read-only statement per request; the JSON
    # is rendered (in a unit of work) once per version and reader kind, then served as bytes.
    wanted = await service.report_version(database, principal=principal, assessment_id=assessment_id)
    document = (assessment_id, wanted.with_evidence)
    body = _RENDERED.get(document, wanted.version)
    if body is None:
        async with database.unit_of_work() as uow:
            report = await service.report(uow, principal=principal, assessment_id=assessment_id)
        # staff get `ReportWithEvidenceOut`, the factory and buyers `ReportOut` (no evidence field at all)
        body = _report_out(report).model_dump_json().encode()
        _RENDERED.put(document, wanted.version, body)
    return Response(body, media_type="application/json")


@router.get(
    "/v1/factories/{factory_id}/results",
    tags=["reports"],
    summary="A factory's results across cycles",
    response_model=list[CycleResultOut],
    responses={308: {"description": "The factory was merged; `Location` is the survivor's results."}},
)
async def factory_results(factory_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> Any:
    try:
        results = await service.factory_results(uow, principal=principal, factory_id=factory_id)
    except MergedFactory as merged:
        return RedirectResponse(f"/v1/factories/{merged.survivor_id}/results", status_code=308)
    return [CycleResultOut.of(r.assessment, r.figures) for r in results]


@router.get(
    "/v1/statistics/public-non-compliance",
    tags=["reports"],
    summary="Average non-compliance on publicly reported issues",
)
async def public_non_compliance(
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    country: Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")],
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> PublicNonComplianceOut:
    """Mean per factory, then averaged: each factory's latest finalised assessment in the period."""
    if end < start:
        raise BadRequest("`to` is before `from`.")
    figures = await service.public_non_compliance(uow, principal=staff, country=country.upper(), start=start, end=end)
    return PublicNonComplianceOut.model_validate(
        {
            "country": figures.country,
            "from": figures.start,
            "to": figures.end,
            "factories": figures.factories,
            "average_rate": figures.average_rate,
            "method": figures.method,
            "per_factory": [
                FactoryRateOut(factory_id=fid, **RateOut.of(rate).model_dump()) for fid, rate in figures.per_factory
            ],
        }
    )
