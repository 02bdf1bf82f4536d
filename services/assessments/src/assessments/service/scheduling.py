"""Use cases of an assessment's life: schedule it, move it through the lifecycle, read it and its history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from assessments.adapters.assessments import AssessmentFilters, AssessmentRepository
from assessments.adapters.findings import FindingRepository
from assessments.domain import assessment as rules
from assessments.domain.assessment import Assessment, Plan, Transition
from assessments.domain.lifecycle import LifecycleError, Status
from assessments.domain.tool import Tool, ToolStatus
from assessments.service import tools
from assessments.service.factory_refs import known_factory
from assessments.service.report_access import may_read_report
from betterwork_contracts.events.assessments import (
    AssessmentFinalised,
    AssessmentReleased,
    AssessmentScheduled,
    AssessmentStatusChanged,
    QuestionResult,
)
from servicekit.auth import Principal, Role, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.pagination import PageParams

__all__ = ["AssessmentFilters", "AssessmentStore", "Plan"]


class AssessmentStore(Protocol):
    """What the use cases that change one assessment need of storage: `AssessmentRepository`, or a fake."""

    async def load(self, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment | None: ...

    async def save(self, assessment: Assessment) -> None: ...

    async def add_transition(self, transition: Transition) -> None: ...

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        assessment_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


async def load(store: AssessmentStore, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment:
    """The assessment (404 if there is none); `for_update` locks it until the transaction ends, so a second
    change of it waits and then sees this one's result."""
    assessment = await store.load(assessment_id, for_update=for_update)
    if assessment is None:
        raise NotFound(f"No assessment {assessment_id}.")
    return assessment


async def schedule(
    uow: UnitOfWork, *, principal: Principal, plan: Plan, sector: str, tool_version_id: uuid.UUID | None
) -> Assessment:
    """An assessment of an enrolled or active factory, pinned to a published tool version of its country."""
    factory = await known_factory(uow, plan.factory_id)
    check_staff(principal, factory.country)
    if factory.status not in rules.ASSESSABLE:
        raise Conflict(
            f"Factory {plan.factory_id} is {factory.status}; only enrolled or active factories are assessed.",
            factory_status=factory.status,
        )
    try:
        rules.check_plan(plan)
    except LifecycleError as exc:
        raise Unprocessable(str(exc)) from exc
    if tool_version_id is not None:
        version, _ = await tools.load_tool(uow, tool_version_id)
        if version.status is not ToolStatus.PUBLISHED or version.country != factory.country:
            raise Conflict("Assessments use a published tool version of the factory's country.")
    else:
        version = await tools.current(uow, factory.country, sector)
    assessments = AssessmentRepository(uow.session)
    try:
        cycle = rules.next_cycle(plan.assessment_type, await assessments.last_cycle(plan.factory_id))
    except LifecycleError as exc:
        raise Conflict(str(exc)) from exc
    now = _now()
    assessment = rules.schedule(
        plan, country=factory.country, cycle=cycle, tool_version_id=version.id, by=principal.subject, now=now
    )
    await assessments.add(assessment)
    await assessments.audit(
        principal,
        action="assessment.scheduled",
        assessment_id=assessment.id,
        details={"factory_id": str(plan.factory_id), "cycle": cycle},
    )
    uow.emit(
        AssessmentScheduled(
            assessment_id=assessment.id,
            factory_id=plan.factory_id,
            country=factory.country,
            cycle=cycle,
            assessment_type=plan.assessment_type.value,
            mode=plan.mode.value,
            joint=plan.joint,
            tool_version_id=version.id,
            start_date=plan.start_date,
            end_date=plan.end_date,
            scheduled_at=now,
        ),
        country=factory.country,
    )
    await uow.commit()
    return assessment


async def readable(uow: UnitOfWork, principal: Principal, assessment_id: uuid.UUID) -> Assessment:
    """The assessment if the caller may read its report; anyone else is told it does not exist."""
    assessment = await load(AssessmentRepository(uow.session), assessment_id)
    if not await may_read_report(uow, principal, assessment):
        raise NotFound(f"No assessment {assessment_id}.")
    return assessment


async def staff_only(uow: UnitOfWork, principal: Principal, assessment_id: uuid.UUID) -> Assessment:
    """The assessment if the caller is staff of its country (404 for anyone else)."""
    assessment = await load(AssessmentRepository(uow.session), assessment_id)
    if not principal.is_staff_of(assessment.country):
        raise NotFound(f"No assessment {assessment_id}.")
    return assessment


async def get(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> Assessment:
    return await readable(uow, principal, assessment_id)


async def list_assessments(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID | None,
    status: Status | None,
    overdue: bool | None,
    page: PageParams,
) -> tuple[list[Assessment], str | None]:
    """Staff see their country's, a factory its own released ones, an admin all; anyone else nothing."""
    filters = AssessmentFilters(factory_id=factory_id, status=status, overdue=overdue)
    if not principal.is_admin:
        if Role.STAFF in principal.roles and principal.country:
            filters = AssessmentFilters(
                country=principal.country, factory_id=factory_id, status=status, overdue=overdue
            )
        elif Role.FACTORY in principal.roles and principal.organisation_id:
            try:
                own = uuid.UUID(principal.organisation_id)
            except ValueError:
                return [], None
            if factory_id and factory_id != own:
                return [], None
            filters = AssessmentFilters(factory_id=own, status=status, overdue=overdue, visible_to_factory=True)
        else:
            return [], None
    return await AssessmentRepository(uow.session).search(filters, page)


async def transition(
    uow: UnitOfWork,
    *,
    principal: Principal,
    assessment_id: uuid.UUID,
    to: Status,
    comment: str | None,
    repository: AssessmentStore | None = None,
) -> Assessment:
    """Move the assessment on (409 if the lifecycle does not allow it); history, audit and events follow.

    The assessment is locked while it moves, so of two moves sent at once the second waits and then is judged
    against the first one's result."""
    store = repository if repository is not None else AssessmentRepository(uow.session)
    assessment = await load(store, assessment_id, for_update=True)
    check_staff(principal, assessment.country)
    tool, findings = await _tool_and_results(uow, assessment, to)
    missing = len(set(tool.questions) - set(findings)) if tool is not None and to is Status.DRAFT_SUBMITTED else 0
    now = _now()
    try:
        moved, record = rules.move(
            assessment, to, comment=comment, missing_findings=missing, by=principal.subject, now=now
        )
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment.status.value) from exc
    await store.save(moved)
    await store.add_transition(record)
    await store.audit(
        principal,
        action=f"assessment.{to.value}",
        assessment_id=assessment_id,
        reason=comment,
        details={"from": assessment.status.value},
    )
    _emit_moved(uow, moved, record, tool, findings)
    await uow.commit()
    return moved


async def _tool_and_results(uow: UnitOfWork, assessment: Assessment, to: Status) -> tuple[Tool | None, dict[str, str]]:
    """What a submission (every question answered?) and a finalisation (the results event) need to know."""
    if to not in (Status.DRAFT_SUBMITTED, Status.FINALISED):
        return None, {}
    _, tool = await tools.load_tool(uow, assessment.tool_version_id)
    findings = await FindingRepository(uow.session).of(assessment.id)
    return tool, {code: finding.result.value for code, finding in findings.items()}


def _emit_moved(
    uow: UnitOfWork, moved: Assessment, record: Transition, tool: Tool | None, results: dict[str, str]
) -> None:
    """`status_changed` for every move; `released` and `finalised` (one line per question) besides."""
    now = record.at
    common: dict[str, Any] = {
        "assessment_id": moved.id,
        "factory_id": moved.factory_id,
        "country": moved.country,
        "cycle": moved.cycle,
    }
    uow.emit(
        AssessmentStatusChanged(
            **common, status=record.to_status.value, previous_status=record.from_status.value, changed_at=now
        ),
        country=moved.country,
    )
    if record.to_status is Status.RELEASED:
        uow.emit(
            AssessmentReleased(
                **common, released_at=now, due_date=moved.report_due, on_time=now.date() <= moved.report_due
            ),
            country=moved.country,
        )
    if record.to_status is Status.FINALISED and tool is not None:
        uow.emit(
            AssessmentFinalised(
                **common,
                tool_version_id=moved.tool_version_id,
                finalised_at=now,
                results=[
                    QuestionResult.model_validate(
                        {
                            "question_code": code,
                            "compliance_point": tool.question(code).compliance_point,
                            "cluster": tool.question(code).cluster,
                            "result": result,
                            "publicly_reported": tool.question(code).publicly_reported,
                        }
                    )
                    for code, result in sorted(results.items())
                ],
            ),
            country=moved.country,
        )


async def transitions(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> list[Transition]:
    """Who moved the assessment, when, with which comments (staff of its country)."""
    await staff_only(uow, principal, assessment_id)
    return await AssessmentRepository(uow.session).transitions(assessment_id)
