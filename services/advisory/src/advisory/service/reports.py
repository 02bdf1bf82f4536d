"""Progress reports PR1 and PR2: generated from the plan, the advisory visits, committee meetings and trainings
of the period; issued once as JSON and PDF and never changed; read by staff, the factory, and buyers to whom
partnerships granted the cycle."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Any

from advisory.adapters import pdf, references
from advisory.adapters import reports as store
from advisory.adapters.plans import PlanRepository
from advisory.adapters.reports import IssuedReport
from advisory.domain import plan as rules
from advisory.domain import report as report_rules
from advisory.domain.plan import Item, Plan
from advisory.domain.report import ReportKind
from advisory.service.access import may_manage
from advisory.service.plans import now, readable_plan
from betterwork_contracts.events.advisory import ProgressReportIssued
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound
from servicekit.pagination import PageParams

TITLES = {ReportKind.PR1: "Progress report 1", ReportKind.PR2: "Progress report 2"}


def _item_line(item: Item, today: date) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "title": item.title,
        "source": item.source.value,
        "question_code": item.question_code,
        "compliance_point": item.compliance_point,
        "cluster": item.cluster,
        "severity": item.severity.value,
        "status": item.status.value,
        "due_date": item.due_date.isoformat(),
        "overdue": item.overdue(today),
        "publicly_reported": item.publicly_reported,
        "zero_tolerance": item.zero_tolerance,
        "gender_sensitive": item.gender_sensitive,
        "workers_affected": item.workers_affected,
        "recurring": item.recurring,
        "root_cause_category": item.root_cause_category,
        "root_cause": item.root_cause,
        "corrective_action": item.corrective_action,
        "preventive_action": item.preventive_action,
        "owner": item.owner,
        "verified_by": item.verified_by,
        "counts_as_fixed": item.counts_as_fixed,
    }


async def compose(uow: UnitOfWork, plan: Plan, kind: ReportKind, *, report_id: uuid.UUID, by: str) -> dict[str, Any]:
    """The report's content as it would be issued now: plan, progress, and the period's activity."""
    if plan.released_on is None:
        raise Conflict("The plan's assessment report is not released yet: progress reports follow a release.")
    issued = await store.of_plan(uow.session, plan.id)
    if kind in issued:
        raise Conflict(f"{TITLES[kind]} of this plan was issued already; an issued report never changes.")
    if kind is ReportKind.PR2 and ReportKind.PR1 not in issued:
        raise Conflict("Progress report 2 follows progress report 1.")
    at = now()
    today = at.date()
    pr1 = issued.get(ReportKind.PR1)
    period = report_rules.period(kind, plan.released_on, pr1.issued_at.date() if pr1 else None, today)
    factory = await references.factory(uow.session, plan.factory_id)
    items = await PlanRepository(uow.session).items_of(plan.id)
    figures = rules.progress(items, today)
    due = report_rules.due_date(kind, plan.released_on)
    return {
        "report": {
            "id": str(report_id),
            "kind": kind.value,
            "title": TITLES[kind],
            "cycle": plan.cycle,
            "issued_on": today.isoformat(),
            "issued_at": at.isoformat(),
            "issued_by": by,
            "due_date": due.isoformat(),
            "on_time": today <= due,
            "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        },
        "factory": {
            "id": str(plan.factory_id),
            "name": factory.name if factory else str(plan.factory_id),
            "country": plan.country,
        },
        "plan": {
            "id": str(plan.id),
            "assessment_id": str(plan.assessment_id) if plan.assessment_id else None,
            "released_on": plan.released_on.isoformat(),
        },
        "progress": {
            "items": figures.items,
            "weight": figures.weight,
            "reported_fixed_share": figures.reported_fixed,
            "verified_fixed_share": figures.verified_fixed,
            "fixed_share": figures.fixed,
            "overdue": figures.overdue,
            "behind_schedule": figures.behind_schedule,
            "recurring": figures.recurring,
        },
        "items": [_item_line(i, today) for i in items],
        "advisory_visits": await store.visits(uow.session, plan.factory_id, period.start, period.end),
        "committee_meetings": await store.meetings(uow.session, plan.factory_id, period.start, period.end),
        "trainings": await store.trainings(uow.session, plan.factory_id, period.start, period.end),
    }


async def issue(uow: UnitOfWork, *, principal: Principal, plan_id: uuid.UUID, kind: ReportKind) -> IssuedReport:
    """Staff of the country issue PR1 or PR2 of a plan: JSON and PDF stored with the PDF's SHA-256, then frozen."""
    plan = await readable_plan(uow, principal, plan_id)
    if not principal.is_staff_of(plan.country):
        raise Forbidden("Progress reports are issued by the programme's staff.")
    await PlanRepository(uow.session).plan_of(plan.factory_id, plan.cycle, for_update=True)  # one issue at a time
    report_id = uuid.uuid4()
    content = await compose(uow, plan, kind, report_id=report_id, by=principal.subject)
    document = pdf.render(content)
    report = IssuedReport(
        id=report_id,
        plan_id=plan.id,
        factory_id=plan.factory_id,
        country=plan.country,
        cycle=plan.cycle,
        kind=kind.value,
        due_date=date.fromisoformat(content["report"]["due_date"]),
        issued_at=now(),
        issued_by=principal.subject,
        sha256=hashlib.sha256(document).hexdigest(),
    )
    await store.add(uow.session, report, content, document)
    await PlanRepository(uow.session).audit(
        principal,
        action="progress_report.issued",
        entity_type="progress_report",
        entity_id=report.id,
        details={"plan_id": str(plan.id), "kind": kind.value, "sha256": report.sha256},
    )
    progress = content["progress"]
    uow.emit(
        ProgressReportIssued(
            report_id=report.id,
            plan_id=plan.id,
            factory_id=plan.factory_id,
            country=plan.country,
            cycle=plan.cycle,
            kind=kind.value,
            due_date=report.due_date,
            on_time=content["report"]["on_time"],
            reported_fixed_share=progress["reported_fixed_share"],
            verified_fixed_share=progress["verified_fixed_share"],
            issued_at=report.issued_at,
        ),
        country=plan.country,
    )
    await uow.commit()
    return report


async def may_read(uow: UnitOfWork, principal: Principal, report: IssuedReport) -> bool:
    """Staff of the country, the factory itself, and a buyer partnerships granted the factory's cycle."""
    if may_manage(principal, factory_id=report.factory_id, country=report.country):
        return True
    buyer = principal.organisation(Role.BUYER)
    if buyer is None:
        return False
    return await references.access_granted(
        uow.session, buyer_id=buyer, factory_id=report.factory_id, cycle=report.cycle
    )


async def readable(uow: UnitOfWork, *, principal: Principal, report_id: uuid.UUID) -> IssuedReport:
    report = await store.load(uow.session, report_id)
    if report is None or not await may_read(uow, principal, report):
        raise NotFound(f"No progress report {report_id}.")
    return report


async def content_of(uow: UnitOfWork, *, principal: Principal, report_id: uuid.UUID) -> dict[str, Any]:
    await readable(uow, principal=principal, report_id=report_id)
    return await store.content(uow.session, report_id)


async def pdf_of(uow: UnitOfWork, *, principal: Principal, report_id: uuid.UUID) -> tuple[IssuedReport, bytes]:
    report = await readable(uow, principal=principal, report_id=report_id)
    return report, await store.pdf(uow.session, report_id)


async def list_reports(
    uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID | None, page: PageParams
) -> tuple[list[IssuedReport], str | None]:
    """Staff: their country's; a factory: its own; a buyer: those of cycles granted to it; others: none."""
    if principal.is_admin:
        return await store.search(uow.session, country=None, factory_id=factory_id, cycles=None, page=page)
    if principal.staff_country:
        return await store.search(
            uow.session, country=principal.staff_country, factory_id=factory_id, cycles=None, page=page
        )
    own = principal.organisation(Role.FACTORY)
    if own is not None:
        if factory_id not in (None, own):
            return [], None
        return await store.search(uow.session, country=None, factory_id=own, cycles=None, page=page)
    buyer = principal.organisation(Role.BUYER)
    if buyer is not None:
        cycles = await references.granted_cycles(uow.session, buyer)
        return await store.search(uow.session, country=None, factory_id=factory_id, cycles=cycles, page=page)
    return [], None


async def preview(uow: UnitOfWork, *, principal: Principal, plan_id: uuid.UUID, kind: ReportKind) -> dict[str, Any]:
    """What the report would say if issued now (staff and the factory; nothing is stored)."""
    plan = await readable_plan(uow, principal, plan_id)
    return await compose(uow, plan, kind, report_id=uuid.uuid4(), by=principal.subject)
