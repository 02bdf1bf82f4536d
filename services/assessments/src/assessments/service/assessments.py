"""Use cases of assessments: schedule, move through the lifecycle, record findings (opening zero-tolerance
cases at once), correct finalised findings by revision, and read reports and figures."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import distinct_on, insert

from assessments.adapters.tables import (
    ASSESSMENT,
    FACTORY_REF,
    FINDING,
    FINDING_REVISION,
    REPORT_ACCESS,
    SCHEMA,
    TRANSITION,
    ZT_CASE,
    ZT_CASE_STEP,
)
from assessments.domain import aggregates as agg
from assessments.domain import lifecycle as rules
from assessments.domain.lifecycle import AssessmentType, LifecycleError, Mode, Result, Status
from assessments.domain.zero_tolerance import CaseStatus, Protocol, deadlines_for
from assessments.service import tools
from betterwork_contracts.events.assessments import (
    AssessmentFinalised,
    AssessmentReleased,
    AssessmentRevised,
    AssessmentScheduled,
    AssessmentStatusChanged,
    QuestionResult,
    ZeroToleranceCaseOpened,
)
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.pagination import PageParams, paginate, resolve_sort


def _now() -> datetime:
    return datetime.now(UTC)


async def factory_ref(uow: UnitOfWork, factory_id: uuid.UUID) -> dict[str, Any]:
    row = (
        (await uow.session.execute(select(FACTORY_REF).where(FACTORY_REF.c.factory_id == factory_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise Conflict(
            f"Factory {factory_id} is not known here yet (the registry's events may still be on their way).",
        )
    if row["merged_into"] is not None:
        raise Conflict(f"Factory {factory_id} was merged into {row['merged_into']}; use that id.")
    return dict(row)


@dataclass(frozen=True)
class ScheduleRequest:
    factory_id: uuid.UUID
    assessment_type: AssessmentType
    mode: Mode
    joint: bool
    inspectors: list[str]
    team: list[str]
    start_date: date
    end_date: date
    sector: str
    tool_version_id: uuid.UUID | None


async def schedule(uow: UnitOfWork, *, principal: Principal, request: ScheduleRequest) -> dict[str, Any]:
    factory = await factory_ref(uow, request.factory_id)
    check_staff(principal, factory["country"])
    if factory["status"] not in ("enrolled", "active"):
        raise Conflict(
            f"Factory {request.factory_id} is {factory['status']}; only enrolled or active factories are assessed.",
            factory_status=factory["status"],
        )
    if request.joint and not request.inspectors:
        raise Unprocessable("A joint assessment names the labour inspectors who join it (`inspectors`).")
    try:
        rules.check_dates(request.start_date, request.end_date)
    except LifecycleError as exc:
        raise Unprocessable(str(exc)) from exc
    if request.tool_version_id is not None:
        tool_row, _ = await tools.load_tool(uow, request.tool_version_id)
        if tool_row["status"] != "published" or tool_row["country"] != factory["country"]:
            raise Conflict("Assessments use a published tool version of the factory's country.")
    else:
        tool_row = await tools.current(uow, factory["country"], request.sector)
    last_cycle = await uow.session.scalar(
        select(func.max(ASSESSMENT.c.cycle)).where(ASSESSMENT.c.factory_id == request.factory_id)
    )
    if request.assessment_type is AssessmentType.INITIAL and last_cycle:
        raise Conflict("The factory was assessed before; schedule a regular or follow-up assessment.")
    if request.assessment_type is not AssessmentType.INITIAL and not last_cycle:
        raise Conflict("The factory's first assessment is an initial one.")
    cycle = last_cycle if request.assessment_type is AssessmentType.FOLLOW_UP else (last_cycle or 0) + 1
    now = _now()
    row = {
        "id": uuid.uuid4(),
        "factory_id": request.factory_id,
        "country": factory["country"],
        "cycle": cycle,
        "assessment_type": request.assessment_type.value,
        "mode": request.mode.value,
        "joint": request.joint,
        "inspectors": request.inspectors,
        "team": request.team,
        "start_date": request.start_date,
        "end_date": request.end_date,
        "report_due": rules.report_due(request.end_date),
        "tool_version_id": tool_row["id"],
        "status": Status.SCHEDULED.value,
        "version": 1,
        "created_at": now,
        "created_by": principal.subject,
        "updated_at": now,
    }
    await uow.session.execute(ASSESSMENT.insert().values(**row))
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="assessment.scheduled",
        entity_type="assessment",
        entity_id=str(row["id"]),
        details={"factory_id": str(request.factory_id), "cycle": cycle},
    )
    uow.emit(
        AssessmentScheduled(
            assessment_id=row["id"],
            factory_id=request.factory_id,
            country=factory["country"],
            cycle=cycle,
            assessment_type=request.assessment_type.value,
            mode=request.mode.value,
            joint=request.joint,
            tool_version_id=tool_row["id"],
            start_date=request.start_date,
            end_date=request.end_date,
            scheduled_at=now,
        ),
        country=factory["country"],
    )
    await uow.commit()
    return {**row, "released_at": None, "finalised_at": None}


async def _load(uow: UnitOfWork, assessment_id: uuid.UUID, *, for_update: bool = False) -> dict[str, Any]:
    stmt = select(ASSESSMENT).where(ASSESSMENT.c.id == assessment_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await uow.session.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"No assessment {assessment_id}.")
    return dict(row)


async def may_read_report(uow: UnitOfWork, principal: Principal, assessment: dict[str, Any]) -> bool:
    """Staff of the country always; the factory once released; a buyer once released and granted access."""
    if principal.is_staff_of(assessment["country"]):
        return True
    if Status(assessment["status"]) not in rules.VISIBLE_TO_FACTORY:
        return False
    if Role.FACTORY in principal.roles and principal.organisation_id == str(assessment["factory_id"]):
        return True
    if Role.BUYER in principal.roles and principal.organisation_id:
        try:
            buyer = uuid.UUID(principal.organisation_id)
        except ValueError:
            return False
        granted = await uow.session.scalar(
            select(REPORT_ACCESS.c.granted).where(
                REPORT_ACCESS.c.buyer_id == buyer,
                REPORT_ACCESS.c.factory_id == assessment["factory_id"],
                REPORT_ACCESS.c.cycle == assessment["cycle"],
            )
        )
        return bool(granted)
    return False


async def get(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> dict[str, Any]:
    assessment = await _load(uow, assessment_id)
    if not await may_read_report(uow, principal, assessment):
        raise NotFound(f"No assessment {assessment_id}.")
    return with_overdue(assessment)


def with_overdue(assessment: dict[str, Any]) -> dict[str, Any]:
    status = Status(assessment["status"])
    return {**assessment, "overdue": rules.is_overdue(status, assessment["report_due"], datetime.now(UTC).date())}


async def list_assessments(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID | None,
    status: str | None,
    overdue: bool | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    order = resolve_sort(
        page.sort,
        {
            "start_date": (ASSESSMENT.c.start_date, ASSESSMENT.c.id),
            "created_at": (ASSESSMENT.c.created_at, ASSESSMENT.c.id),
        },
        "-start_date",
    )
    conditions = []
    if not principal.is_admin:
        if Role.STAFF in principal.roles and principal.country:
            conditions.append(ASSESSMENT.c.country == principal.country)
        elif Role.FACTORY in principal.roles and principal.organisation_id:
            try:
                own = uuid.UUID(principal.organisation_id)
            except ValueError:
                return [], None
            conditions += [
                ASSESSMENT.c.factory_id == own,
                ASSESSMENT.c.status.in_([s.value for s in rules.VISIBLE_TO_FACTORY]),
            ]
        else:
            return [], None
    if factory_id:
        conditions.append(ASSESSMENT.c.factory_id == factory_id)
    if status:
        conditions.append(ASSESSMENT.c.status == status)
    if overdue is not None:
        late = and_(
            ASSESSMENT.c.report_due < datetime.now(UTC).date(),
            ASSESSMENT.c.status.in_(["scheduled", "in_progress", "draft_submitted", "quality_checked"]),
        )
        conditions.append(late if overdue else ~late)
    stmt = select(ASSESSMENT).where(*conditions)
    rows, cursor = await paginate(uow.session, stmt, order, page)
    return [with_overdue(dict(r._mapping)) for r in rows], cursor


async def _results_of(uow: UnitOfWork, assessment_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Result]]:
    """The results of several assessments' findings in one query: {assessment id: {question: result}}."""
    rows = await uow.session.execute(
        select(FINDING.c.assessment_id, FINDING.c.question_code, FINDING.c.result).where(
            FINDING.c.assessment_id.in_(assessment_ids)
        )
    )
    results: dict[uuid.UUID, dict[str, Result]] = {aid: {} for aid in assessment_ids}
    for aid, code, result in rows:
        results[aid][code] = Result(result)
    return results


async def _findings(uow: UnitOfWork, assessment_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    rows = (await uow.session.execute(select(FINDING).where(FINDING.c.assessment_id == assessment_id))).mappings()
    return {r["question_code"]: dict(r) for r in rows}


async def transition(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, to: Status, comment: str | None
) -> dict[str, Any]:
    assessment = await _load(uow, assessment_id, for_update=True)
    check_staff(principal, assessment["country"])
    current = Status(assessment["status"])
    needs_tool = to in (Status.DRAFT_SUBMITTED, Status.FINALISED)
    tool = (await tools.load_tool(uow, assessment["tool_version_id"]))[1] if needs_tool else None
    findings = await _findings(uow, assessment_id) if needs_tool else {}
    missing = len(set(tool.questions) - set(findings)) if tool is not None and to is Status.DRAFT_SUBMITTED else 0
    try:
        rules.check_transition(current, to, comment=comment, missing_findings=missing)
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=current.value) from exc
    now = _now()
    changes: dict[str, Any] = {"status": to.value, "version": assessment["version"] + 1, "updated_at": now}
    if to is Status.RELEASED:
        changes["released_at"] = now
    if to is Status.FINALISED:
        changes["finalised_at"] = now
    await uow.session.execute(ASSESSMENT.update().where(ASSESSMENT.c.id == assessment_id).values(**changes))
    await uow.session.execute(
        TRANSITION.insert().values(
            assessment_id=assessment_id,
            from_status=current.value,
            to_status=to.value,
            at=now,
            by_subject=principal.subject,
            comment=comment,
        )
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action=f"assessment.{to.value}",
        entity_type="assessment",
        entity_id=str(assessment_id),
        reason=comment,
        details={"from": current.value},
    )
    common = {
        "assessment_id": assessment_id,
        "factory_id": assessment["factory_id"],
        "country": assessment["country"],
        "cycle": assessment["cycle"],
    }
    uow.emit(
        AssessmentStatusChanged(**common, status=to.value, previous_status=current.value, changed_at=now),
        country=assessment["country"],
    )
    if to is Status.RELEASED:
        uow.emit(
            AssessmentReleased(
                **common,
                released_at=now,
                due_date=assessment["report_due"],
                on_time=now.date() <= assessment["report_due"],
            ),
            country=assessment["country"],
        )
    if to is Status.FINALISED and tool is not None:
        uow.emit(
            AssessmentFinalised(
                **common,
                tool_version_id=assessment["tool_version_id"],
                finalised_at=now,
                results=[
                    QuestionResult(
                        question_code=code,
                        compliance_point=tool.question(code).compliance_point,
                        cluster=tool.question(code).cluster,
                        result=finding["result"],
                        publicly_reported=tool.question(code).publicly_reported,
                    )
                    for code, finding in sorted(findings.items())
                ],
            ),
            country=assessment["country"],
        )
    await uow.commit()
    return with_overdue({**assessment, **changes})


async def transitions(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> list[dict[str, Any]]:
    assessment = await _load(uow, assessment_id)
    if not principal.is_staff_of(assessment["country"]):
        raise NotFound(f"No assessment {assessment_id}.")
    rows = await uow.session.execute(
        select(TRANSITION).where(TRANSITION.c.assessment_id == assessment_id).order_by(TRANSITION.c.id)
    )
    return [dict(r) for r in rows.mappings()]


@dataclass(frozen=True)
class FindingIn:
    question_code: str
    result: Result
    evidence: str | None
    workers_affected: int | None


async def record_findings(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, findings: Sequence[FindingIn]
) -> dict[str, Any]:
    """Record one or many findings at once (all or none). A non-compliance on a zero-tolerance question
    opens a case and publishes `zero_tolerance.case_opened` in the same transaction."""
    assessment = await _load(uow, assessment_id, for_update=True)
    check_staff(principal, assessment["country"])
    try:
        rules.check_finding_edit(Status(assessment["status"]))
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment["status"]) from exc
    _, tool = await tools.load_tool(uow, assessment["tool_version_id"])
    problems = []
    seen: set[str] = set()
    for i, finding in enumerate(findings):
        if finding.question_code not in tool.questions:
            problems.append({"pointer": f"#/body/findings/{i}/question_code", "detail": f"not in tool {tool.label}"})
        elif finding.question_code in seen:
            problems.append({"pointer": f"#/body/findings/{i}/question_code", "detail": "appears twice"})
        seen.add(finding.question_code)
        try:
            rules.check_workers_affected(finding.result, finding.workers_affected)
        except LifecycleError as exc:
            problems.append({"pointer": f"#/body/findings/{i}/workers_affected", "detail": str(exc)})
    if problems:
        raise Unprocessable(f"{len(problems)} finding(s) cannot be recorded; nothing was.", errors=problems)
    now = _now()
    stmt = insert(FINDING)
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["assessment_id", "question_code"],
            set_={
                "result": stmt.excluded.result,
                "evidence": stmt.excluded.evidence,
                "workers_affected": stmt.excluded.workers_affected,
                "recorded_at": stmt.excluded.recorded_at,
                "recorded_by": stmt.excluded.recorded_by,
            },
        ),
        [
            {
                "assessment_id": assessment_id,
                "question_code": f.question_code,
                "result": f.result.value,
                "evidence": f.evidence,
                "workers_affected": f.workers_affected,
                "revision": 1,
                "recorded_at": now,
                "recorded_by": principal.subject,
            }
            for f in findings
        ],
    )
    opened = []
    protocol: Protocol | None = None
    for finding in findings:
        question = tool.question(finding.question_code)
        if question.zero_tolerance and finding.result is Result.NON_COMPLIANT:
            protocol = protocol or await protocol_of(uow, assessment["country"])
            case_id = await open_case(
                uow,
                principal=principal,
                factory_id=assessment["factory_id"],
                country=assessment["country"],
                category=str(question.zero_tolerance_category),
                source="assessment",
                assessment_id=assessment_id,
                question_code=question.code,
                details=None,
                now=now,
                protocol=protocol,
            )
            if case_id is not None:
                opened.append(case_id)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="assessment.findings_recorded",
        entity_type="assessment",
        entity_id=str(assessment_id),
        details={"questions": [f.question_code for f in findings][:50], "count": len(findings)},
    )
    await uow.commit()
    return {"recorded": len(findings), "zero_tolerance_cases_opened": opened}


async def protocol_of(uow: UnitOfWork, country: str) -> Protocol:
    protocol = await tools.load_protocol(uow, country)
    if protocol is None:
        raise Conflict(
            f"No zero-tolerance protocol is loaded for {country}; load one (PUT /v1/zero-tolerance-protocol)."
        )
    return protocol


async def open_case(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID,
    country: str,
    category: str,
    source: str,
    assessment_id: uuid.UUID | None,
    question_code: str | None,
    details: str | None,
    now: datetime,
    protocol: Protocol | None = None,
) -> uuid.UUID | None:
    """Open a case (None if this finding opened one already); the event goes out with the transaction."""
    rule = (protocol or await protocol_of(uow, country)).rule(category)
    case_id = uuid.uuid4()
    stmt = (
        insert(ZT_CASE)
        .values(
            id=case_id,
            factory_id=factory_id,
            country=country,
            category=category,
            source=source,
            assessment_id=assessment_id,
            question_code=question_code,
            status=CaseStatus.OPENED.value,
            details=details,
            notify=list(rule.notify),
            deadlines=deadlines_for(rule, now),
            opened_at=now,
            opened_by=principal.subject,
            updated_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["assessment_id", "question_code"], index_where=ZT_CASE.c.assessment_id.is_not(None)
        )
        .returning(ZT_CASE.c.id)
    )
    if (await uow.session.execute(stmt)).first() is None:
        return None
    await uow.session.execute(
        ZT_CASE_STEP.insert().values(
            case_id=case_id, from_status=None, to_status="opened", at=now, by_subject=principal.subject, note=None
        )
    )
    opened = {
        "case_id": case_id,
        "factory_id": factory_id,
        "country": country,
        "category": category,
        "source": source,
        "opened_at": now,
        "notify": list(rule.notify),
    }
    uow.emit(ZeroToleranceCaseOpened.model_validate(opened), country=country)
    return case_id


async def list_findings(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> list[dict[str, Any]]:
    assessment = await _load(uow, assessment_id)
    if not principal.is_staff_of(assessment["country"]):
        raise NotFound(f"No assessment {assessment_id}.")
    return sorted((await _findings(uow, assessment_id)).values(), key=lambda f: f["question_code"])


async def revise(
    uow: UnitOfWork,
    *,
    principal: Principal,
    assessment_id: uuid.UUID,
    question_code: str,
    result: Result,
    evidence: str | None,
    workers_affected: int | None,
    reason: str,
) -> dict[str, Any]:
    """Correct a finalised finding: a new revision with author and reason; the earlier ones stay readable."""
    assessment = await _load(uow, assessment_id, for_update=True)
    check_staff(principal, assessment["country"])
    try:
        rules.check_revision(Status(assessment["status"]), reason)
        rules.check_workers_affected(result, workers_affected)
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment["status"]) from exc
    current = (
        (
            await uow.session.execute(
                select(FINDING)
                .where(FINDING.c.assessment_id == assessment_id, FINDING.c.question_code == question_code)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if current is None:
        raise NotFound(f"Assessment {assessment_id} has no finding on {question_code}.")
    now = _now()
    if current["revision"] == 1:
        has_history = await uow.session.scalar(
            select(func.count())
            .select_from(FINDING_REVISION)
            .where(FINDING_REVISION.c.assessment_id == assessment_id, FINDING_REVISION.c.question_code == question_code)
        )
        if not has_history:
            await uow.session.execute(
                FINDING_REVISION.insert().values(
                    assessment_id=assessment_id,
                    question_code=question_code,
                    revision=1,
                    result=current["result"],
                    evidence=current["evidence"],
                    workers_affected=current["workers_affected"],
                    reason=None,
                    author=current["recorded_by"],
                    at=current["recorded_at"],
                )
            )
    revision = current["revision"] + 1
    await uow.session.execute(
        FINDING_REVISION.insert().values(
            assessment_id=assessment_id,
            question_code=question_code,
            revision=revision,
            result=result.value,
            evidence=evidence,
            workers_affected=workers_affected,
            reason=reason,
            author=principal.subject,
            at=now,
        )
    )
    await uow.session.execute(
        FINDING.update()
        .where(FINDING.c.assessment_id == assessment_id, FINDING.c.question_code == question_code)
        .values(
            result=result.value,
            evidence=evidence,
            workers_affected=workers_affected,
            revision=revision,
            recorded_at=now,
            recorded_by=principal.subject,
        )
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="finding.revised",
        entity_type="assessment",
        entity_id=str(assessment_id),
        reason=reason,
        details={"question_code": question_code, "revision": revision, "from": current["result"], "to": result.value},
    )
    uow.emit(
        AssessmentRevised(
            assessment_id=assessment_id,
            factory_id=assessment["factory_id"],
            country=assessment["country"],
            cycle=assessment["cycle"],
            question_code=question_code,
            revision=revision,
            result=result.value,
            previous_result=current["result"],
            revised_at=now,
        ),
        country=assessment["country"],
    )
    await uow.commit()
    return {"question_code": question_code, "revision": revision, "result": result.value, "reason": reason}


async def revisions(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, question_code: str
) -> list[dict[str, Any]]:
    assessment = await _load(uow, assessment_id)
    if not principal.is_staff_of(assessment["country"]):
        raise NotFound(f"No assessment {assessment_id}.")
    rows = await uow.session.execute(
        select(FINDING_REVISION)
        .where(FINDING_REVISION.c.assessment_id == assessment_id, FINDING_REVISION.c.question_code == question_code)
        .order_by(FINDING_REVISION.c.revision)
    )
    return [dict(r) for r in rows.mappings()]


# ---- reports and figures ----------------------------------------------------------------------------------------


def _results(findings: dict[str, dict[str, Any]]) -> dict[str, Result]:
    return {code: Result(f["result"]) for code, f in findings.items()}


async def report(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> dict[str, Any]:
    """Findings grouped by cluster and compliance point, with the figures; evidence for staff and the factory."""
    assessment = await _load(uow, assessment_id)
    if not await may_read_report(uow, principal, assessment):
        raise NotFound(f"No assessment {assessment_id}.")
    show_evidence = principal.is_staff_of(assessment["country"]) or (
        Role.FACTORY in principal.roles and principal.organisation_id == str(assessment["factory_id"])
    )
    tool_row, tool = await tools.load_tool(uow, assessment["tool_version_id"])
    findings = await _findings(uow, assessment_id)
    figures = agg.assessment_aggregates(tool, _results(findings))
    factory = (
        await uow.session.execute(
            select(FACTORY_REF.c.name).where(FACTORY_REF.c.factory_id == assessment["factory_id"])
        )
    ).scalar()
    clusters = []
    for cluster in tool.clusters.values():
        points = []
        for cp_code in cluster.compliance_points:
            questions = []
            for question in tool.questions.values():
                if question.compliance_point != cp_code:
                    continue
                finding = findings.get(question.code)
                entry: dict[str, Any] = {
                    "code": question.code,
                    "text": question.text,
                    "legal_reference": question.legal_reference,
                    "publicly_reported": question.publicly_reported,
                    "zero_tolerance": question.zero_tolerance,
                    "result": finding["result"] if finding else None,
                    "workers_affected": finding["workers_affected"] if finding else None,
                    "revision": finding["revision"] if finding else None,
                }
                if show_evidence:
                    entry["evidence"] = finding["evidence"] if finding else None
                questions.append(entry)
            if questions:
                points.append(
                    {
                        "code": cp_code,
                        "name": tool.compliance_points[cp_code].name,
                        "non_compliance": figures.by_compliance_point[cp_code].as_dict(),
                        "questions": questions,
                    }
                )
        clusters.append(
            {
                "code": cluster.code,
                "name": cluster.name,
                "category": cluster.category,
                "non_compliance": figures.by_cluster[cluster.code].as_dict(),
                "compliance_points": points,
            }
        )
    return {
        "assessment": with_overdue(assessment),
        "factory": {"id": assessment["factory_id"], "name": factory},
        "tool": {"id": tool_row["id"], "label": tool.label, "country": tool.country, "sector": tool.sector},
        "non_compliance": figures.overall.as_dict(),
        "publicly_reported_non_compliance": figures.publicly_reported.as_dict(),
        "clusters": clusters,
    }


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
    "evidence",
)


def report_rows(document: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for cluster in document["clusters"]:
        for point in cluster["compliance_points"]:
            for q in point["questions"]:
                rows.append(
                    [
                        cluster["code"],
                        point["code"],
                        q["code"],
                        q["text"]["en"],
                        "yes" if q["publicly_reported"] else "no",
                        "yes" if q["zero_tolerance"] else "no",
                        q["result"] or "",
                        "" if q["workers_affected"] is None else q["workers_affected"],
                        q["revision"] or "",
                        q.get("evidence") or "",
                    ]
                )
    return rows


async def factory_results(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID) -> list[dict[str, Any]]:
    """The factory's released and finalised assessments, cycle by cycle, with their figures."""
    rows = (
        (
            await uow.session.execute(
                select(ASSESSMENT)
                .where(
                    ASSESSMENT.c.factory_id == factory_id,
                    ASSESSMENT.c.status.in_(["released", "comment_period", "finalised"]),
                )
                .order_by(ASSESSMENT.c.cycle, ASSESSMENT.c.start_date)
            )
        )
        .mappings()
        .all()
    )
    readable = [dict(row) for row in rows if await may_read_report(uow, principal, dict(row))]
    results = await _results_of(uow, [a["id"] for a in readable])
    out = []
    for assessment in readable:
        _, tool = await tools.load_tool(uow, assessment["tool_version_id"])
        figures = agg.assessment_aggregates(tool, results[assessment["id"]])
        out.append(
            {
                "assessment_id": assessment["id"],
                "cycle": assessment["cycle"],
                "assessment_type": assessment["assessment_type"],
                "status": assessment["status"],
                "end_date": assessment["end_date"],
                "non_compliance": figures.overall.as_dict(),
                "publicly_reported_non_compliance": figures.publicly_reported.as_dict(),
                "by_cluster": {k: v.as_dict() for k, v in figures.by_cluster.items()},
            }
        )
    if not out and not principal.is_admin:
        known = await uow.session.scalar(
            select(func.count()).select_from(FACTORY_REF).where(FACTORY_REF.c.factory_id == factory_id)
        )
        if not known:
            raise NotFound(f"No factory {factory_id}.")
    return out


async def public_non_compliance(
    uow: UnitOfWork, *, principal: Principal, country: str, start: date, end: date
) -> dict[str, Any]:
    """Average non-compliance on publicly reported questions for a country and period: each factory's latest
    finalised assessment whose last visit day falls in the period, the factory's rate, then the mean."""
    check_staff(principal, country)
    latest = (
        select(ASSESSMENT)
        .where(
            ASSESSMENT.c.country == country,
            ASSESSMENT.c.status == "finalised",
            ASSESSMENT.c.end_date >= start,
            ASSESSMENT.c.end_date <= end,
        )
        .order_by(ASSESSMENT.c.factory_id, ASSESSMENT.c.end_date.desc(), ASSESSMENT.c.id)
        .ext(distinct_on(ASSESSMENT.c.factory_id))
    )
    rows = (await uow.session.execute(latest)).mappings().all()
    results = await _results_of(uow, [row["id"] for row in rows])
    per_factory = []
    for row in rows:
        _, tool = await tools.load_tool(uow, row["tool_version_id"])
        figures = agg.assessment_aggregates(tool, results[row["id"]])
        per_factory.append((row["factory_id"], figures.publicly_reported))
    mean, counted = agg.mean_per_factory_then_averaged(rate for _, rate in per_factory)
    return {
        "country": country,
        "from": start,
        "to": end,
        "factories": counted,
        "average_rate": mean,
        "method": "mean per factory, then averaged (each factory's latest finalised assessment in the period)",
        "per_factory": [{"factory_id": fid, **rate.as_dict()} for fid, rate in per_factory],
    }
