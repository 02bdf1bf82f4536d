"""Reports and figures: one assessment's report (JSON or CSV rows), a factory's results across cycles, and a
country's average non-compliance on publicly reported issues."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from assessments.adapters import factory_refs, report_reads
from assessments.adapters.assessments import AssessmentRepository
from assessments.adapters.findings import FindingRepository
from assessments.domain import aggregates as agg
from assessments.domain.aggregates import AssessmentAggregates, Rate
from assessments.domain.assessment import Assessment, Finding
from assessments.domain.tool import Cluster, Tool, ToolVersion
from assessments.service import tools
from assessments.service.factory_refs import MergedFactory
from assessments.service.report_access import asking_buyer, may_read_given, may_read_report, shows_evidence
from assessments.service.scheduling import readable
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import Database, UnitOfWork
from servicekit.errors import NotFound


@dataclass(frozen=True)
class ReportQuestion:
    code: str
    text: dict[str, str]
    legal_reference: str | None
    publicly_reported: bool
    zero_tolerance: bool
    finding: Finding | None


@dataclass(frozen=True)
class ReportCompliancePoint:
    code: str
    name: dict[str, str]
    non_compliance: Rate
    questions: list[ReportQuestion]


@dataclass(frozen=True)
class ReportCluster:
    code: str
    name: dict[str, str]
    category: str
    non_compliance: Rate
    compliance_points: list[ReportCompliancePoint]


@dataclass(frozen=True)
class Report:
    """One assessment's findings by cluster and compliance point, with the figures. `with_evidence` says
    whether the reader may see the evidence notes (staff of the country and the factory itself)."""

    assessment: Assessment
    factory_name: str | None
    tool_version: ToolVersion
    tool: Tool
    figures: AssessmentAggregates
    clusters: list[ReportCluster]
    with_evidence: bool


def _cluster(
    tool: Tool, cluster: Cluster, figures: AssessmentAggregates, findings: dict[str, Finding]
) -> ReportCluster:
    points = []
    for cp_code in cluster.compliance_points:
        questions = [
            ReportQuestion(
                code=question.code,
                text=question.text,
                legal_reference=question.legal_reference,
                publicly_reported=question.publicly_reported,
                zero_tolerance=question.zero_tolerance,
                finding=findings.get(question.code),
            )
            for question in tool.questions.values()
            if question.compliance_point == cp_code
        ]
        if questions:
            name = tool.compliance_points[cp_code].name
            points.append(ReportCompliancePoint(cp_code, name, figures.by_compliance_point[cp_code], questions))
    return ReportCluster(cluster.code, cluster.name, cluster.category, figures.by_cluster[cluster.code], points)


async def report(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> Report:
    """The report as the caller may read it (404 for anyone who may not)."""
    assessment = await readable(uow, principal, assessment_id)
    version, tool = await tools.load_tool(uow, assessment.tool_version_id)
    findings = await FindingRepository(uow.session).of(assessment_id)
    figures = agg.assessment_aggregates(tool, {code: f.result for code, f in findings.items()})
    factory = await factory_refs.load(uow.session, assessment.factory_id)
    return Report(
        assessment=assessment,
        factory_name=factory.name if factory is not None else None,
        tool_version=version,
        tool=tool,
        figures=figures,
        clusters=[_cluster(tool, cluster, figures, findings) for cluster in tool.clusters.values()],
        with_evidence=shows_evidence(principal, assessment),
    )


@dataclass(frozen=True)
class ReportVersion:
    """Which report a caller may read: `with_evidence` as in `Report`; `version` is equal for two reads exactly
    when the report rendered for them is the same (its content, and `overdue`, which follows the date)."""

    assessment_id: uuid.UUID
    with_evidence: bool
    version: Hashable


async def report_version(database: Database, *, principal: Principal, assessment_id: uuid.UUID) -> ReportVersion:
    """As `report` decides who may read it (404 for anyone who may not), with one read-only statement and no
    transaction: what a request checks before serving a report rendered earlier from the same version."""
    state = await report_reads.report_state(database, assessment_id, buyer_id=asking_buyer(principal))
    if state is None or not may_read_given(principal, state.assessment, buyer_granted=bool(state.buyer_granted)):
        raise NotFound(f"No assessment {assessment_id}.")
    overdue = state.assessment.overdue(datetime.now(UTC).date())
    return ReportVersion(assessment_id, shows_evidence(principal, state.assessment), (state.version, overdue))


REPORT_CSV_COLUMNS = (
    "cluster",
    "compliance_point",
    "question_code",
    "question",
    "publicly_reported",
    "zero_tolerance",
    "result",
    "workers_affected",
    "revision",
    "severity",
    "explanation",
    "evidence",
)


def report_rows(document: Report) -> list[list[Any]]:
    """The report as CSV rows under `REPORT_CSV_COLUMNS` (evidence only for staff of the country; the factory-facing
    explanation and the severity for every reader)."""
    rows = []
    for cluster in document.clusters:
        for point in cluster.compliance_points:
            for q in point.questions:
                finding = q.finding
                rows.append(
                    [
                        cluster.code,
                        point.code,
                        q.code,
                        q.text["en"],
                        "yes" if q.publicly_reported else "no",
                        "yes" if q.zero_tolerance else "no",
                        finding.result.value if finding else "",
                        "" if finding is None or finding.workers_affected is None else finding.workers_affected,
                        finding.revision if finding else "",
                        finding.severity.value if finding and finding.severity else "",
                        (finding.explanation or "") if finding else "",
                        (finding.evidence or "") if finding and document.with_evidence else "",
                    ]
                )
    return rows


@dataclass(frozen=True)
class CycleResult:
    assessment: Assessment
    figures: AssessmentAggregates


async def factory_results(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID) -> list[CycleResult]:
    """The factory's released and finalised assessments the caller may read, cycle by cycle, with figures. Staff of
    its country and the factory itself may find none yet; to anyone who may read none of them, the factory is
    answered as one that does not exist (404). A merged id is `MergedFactory` to those who may see it."""
    factory = await factory_refs.load(uow.session, factory_id)
    if factory is None:
        raise NotFound(f"No factory {factory_id}.")
    own = Role.FACTORY in principal.roles and principal.organisation_id == str(factory_id)
    if factory.merged_into is not None and (own or principal.is_staff_of(factory.country)):
        raise MergedFactory(factory.merged_into)  # its results are the survivor's now (a permanent redirect)
    released = await AssessmentRepository(uow.session).released_of_factory(factory_id)
    readable_ones = [a for a in released if await may_read_report(uow, principal, a)]
    if not readable_ones and not (own or principal.is_staff_of(factory.country)):
        raise NotFound(f"No factory {factory_id}.")
    results = await FindingRepository(uow.session).results_of([a.id for a in readable_ones])
    out = []
    for assessment in readable_ones:
        _, tool = await tools.load_tool(uow, assessment.tool_version_id)
        out.append(CycleResult(assessment, agg.assessment_aggregates(tool, results[assessment.id])))
    return out


@dataclass(frozen=True)
class PublicNonCompliance:
    country: str
    start: date
    end: date
    factories: int
    average_rate: float | None
    method: str
    per_factory: list[tuple[uuid.UUID, Rate]]


async def public_non_compliance(
    uow: UnitOfWork, *, principal: Principal, country: str, start: date, end: date
) -> PublicNonCompliance:
    """Average non-compliance on publicly reported questions for a country and period: each factory's latest
    finalised assessment whose last visit day falls in the period, the factory's rate, then the mean."""
    check_staff(principal, country)
    latest = await AssessmentRepository(uow.session).latest_finalised(country, start, end)
    results = await FindingRepository(uow.session).results_of([a.id for a in latest])
    per_factory = []
    for assessment in latest:
        _, tool = await tools.load_tool(uow, assessment.tool_version_id)
        figures = agg.assessment_aggregates(tool, results[assessment.id])
        per_factory.append((assessment.factory_id, figures.publicly_reported))
    mean, counted = agg.mean_per_factory_then_averaged(rate for _, rate in per_factory)
    return PublicNonCompliance(
        country=country,
        start=start,
        end=end,
        factories=counted,
        average_rate=mean,
        method="mean per factory, then averaged (each factory's latest finalised assessment in the period)",
        per_factory=per_factory,
    )
