"""Use cases of an assessment's life: schedule it, move it through the lifecycle, read it and its history."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Protocol

from assessments.adapters.assessments import AssessmentFilters, AssessmentRepository
from assessments.adapters.findings import FindingRepository
from assessments.domain import assessment as rules
from assessments.domain.assessment import Assessment, Finding, Plan, Transition
from assessments.domain.lifecycle import ALLOWED, VISIBLE_TO_FACTORY, LifecycleError, Status
from assessments.domain.tool import Tag, Tool, ToolStatus
from assessments.service import tools
from assessments.service.country_pack import CountryProgramme
from assessments.service.factory_refs import staff_factory
from assessments.service.report_access import is_own_factory, may_read_report
from betterwork_contracts.events.assessments import (
    AssessmentCancelled,
    AssessmentFinalised,
    AssessmentReleased,
    AssessmentRescheduled,
    AssessmentScheduled,
    AssessmentStatusChanged,
    NonCompliance,
    QuestionResult,
)
from servicekit.auth import Principal, Role
from servicekit.database import Database, UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound, Unprocessable
from servicekit.pagination import PageParams

__all__ = ["AssessmentFilters", "AssessmentStore", "Plan"]


class AssessmentStore(Protocol):
    """What the use cases that change one assessment need of storage: `AssessmentRepository`, or a fake."""

    async def load(self, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment | None: ...

    async def save(self, assessment: Assessment) -> None: ...

    async def add_transition(self, transition: Transition) -> None: ...

    async def worked_on(self, assessment_id: uuid.UUID) -> frozenset[str]: ...

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        assessment_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None: ...


_log = logging.getLogger("assessments.scheduling")
# who finalises an assessment when the factory's comment period runs out
COMMENT_CLOCK = Principal(subject="system:comment-period", roles=frozenset({Role.ADMIN}))


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
    uow: UnitOfWork,
    *,
    principal: Principal,
    plan: Plan,
    sector: str,
    tool_version_id: uuid.UUID | None,
    programme: CountryProgramme | None = None,
) -> Assessment:
    """An assessment of an enrolled or active factory, pinned to a published tool version of its country (with a
    country pack: the pack's tool, its protocol loaded; see `tools.check_runs_pack`)."""
    factory = await staff_factory(uow, principal, plan.factory_id)
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
        version = await tools.current(uow, factory.country, sector, programme=programme)
    await tools.check_runs_pack(uow, programme=programme, country=factory.country, tool_version_id=version.id)
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
    """Move the assessment on (409 if the lifecycle does not allow it; 403 if the move is a team leader's and
    the caller is not one, or was on the team); history, audit and events follow.

    The assessment is locked while it moves, so of two moves sent at once the second waits and then is judged
    against the first one's result."""
    store = repository if repository is not None else AssessmentRepository(uow.session)
    assessment = await load(store, assessment_id, for_update=True)
    if not principal.is_staff_of(assessment.country):
        raise NotFound(f"No assessment {assessment_id}.")  # as for one that does not exist
    if assessment.status in ALLOWED.get(to, frozenset()):
        await _check_four_eyes(store, principal, assessment, to)
    return await _move(uow, store, principal, assessment, to, comment)


async def _check_four_eyes(store: AssessmentStore, principal: Principal, assessment: Assessment, to: Status) -> None:
    """403 unless a team leader's move is made by a team leader who was not on the team."""
    if not rules.needs_team_leader(assessment, to):
        return
    is_team_leader = principal.is_admin or principal.has_scopes(rules.TEAM_LEADER_SCOPE)
    team = assessment.team_members() | (await store.worked_on(assessment.id) if is_team_leader else frozenset())
    try:
        rules.check_four_eyes(assessment, to, by=principal.subject, is_team_leader=is_team_leader, team=team)
    except rules.FourEyesError as exc:
        raise Forbidden(str(exc)) from exc


async def _move(
    uow: UnitOfWork,
    store: AssessmentStore,
    principal: Principal,
    assessment: Assessment,
    to: Status,
    comment: str | None,
) -> Assessment:
    """The move itself, once the caller is known to be allowed it: save, history, audit, events, commit."""
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
        assessment_id=assessment.id,
        reason=comment,
        details={"from": assessment.status.value},
    )
    _emit_moved(uow, moved, record, tool, findings)
    await uow.commit()
    return moved


async def cancel(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, reason: str) -> Assessment:
    """Call an assessment off before fieldwork ends, with its reason; it counts for no cycle (409 otherwise)."""
    assessments = AssessmentRepository(uow.session)
    assessment = await _staff_locked(assessments, principal, assessment_id)
    now = _now()
    try:
        cancelled, record = rules.cancel(assessment, reason=reason, by=principal.subject, now=now)
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment.status.value) from exc
    await assessments.save(cancelled)
    await assessments.add_transition(record)
    await assessments.audit(
        principal,
        action="assessment.cancelled",
        assessment_id=assessment_id,
        reason=reason,
        details={"from": assessment.status.value},
    )
    uow.emit(
        AssessmentCancelled(
            assessment_id=assessment.id,
            factory_id=assessment.factory_id,
            country=assessment.country,
            cycle=assessment.cycle,
            previous_status=assessment.status.value,  # type: ignore[arg-type]  # scheduled or in_progress
            reason=reason,
            cancelled_at=now,
        ),
        country=assessment.country,
    )
    await uow.commit()
    return cancelled


async def reschedule(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, start: date, end: date, reason: str
) -> Assessment:
    """Move the visit before fieldwork ends, with its reason; the report's due date is recomputed (409 otherwise,
    422 for dates in the wrong order)."""
    assessments = AssessmentRepository(uow.session)
    assessment = await _staff_locked(assessments, principal, assessment_id)
    now = _now()
    try:
        moved = rules.reschedule(assessment, start=start, end=end, reason=reason, now=now)
    except LifecycleError as exc:
        raise Conflict(str(exc), current_status=assessment.status.value) from exc
    await assessments.save(moved)
    await assessments.audit(
        principal,
        action="assessment.rescheduled",
        assessment_id=assessment_id,
        reason=reason,
        details={
            "from": [assessment.start_date.isoformat(), assessment.end_date.isoformat()],
            "to": [start.isoformat(), end.isoformat()],
            "report_due": moved.report_due.isoformat(),
        },
    )
    uow.emit(
        AssessmentRescheduled(
            assessment_id=assessment.id,
            factory_id=assessment.factory_id,
            country=assessment.country,
            cycle=assessment.cycle,
            start_date=start,
            end_date=end,
            due_date=moved.report_due,
            previous_start_date=assessment.start_date,
            previous_end_date=assessment.end_date,
            reason=reason,
            rescheduled_at=now,
        ),
        country=assessment.country,
    )
    await uow.commit()
    return moved


async def _staff_locked(
    assessments: AssessmentRepository, principal: Principal, assessment_id: uuid.UUID
) -> Assessment:
    """The assessment locked for a change by staff of its country (404 for anyone else)."""
    assessment = await load(assessments, assessment_id, for_update=True)
    if not principal.is_staff_of(assessment.country):
        raise NotFound(f"No assessment {assessment_id}.")
    return assessment


async def waive_comment_period(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> Assessment:
    """The factory gives up the rest of its comment period: the assessment is finalised at once."""
    assessments = AssessmentRepository(uow.session)
    assessment = await load(assessments, assessment_id, for_update=True)
    if not is_own_factory(principal, assessment) or assessment.status not in VISIBLE_TO_FACTORY:
        raise NotFound(f"No assessment {assessment_id}.")
    if assessment.status is not Status.COMMENT_PERIOD:
        raise Conflict(
            f"The assessment is {assessment.status.value}; a comment period can be waived only while it runs.",
            current_status=assessment.status.value,
        )
    waived = replace(assessment, comment_period_waived=True)
    return await _move(uow, assessments, principal, waived, Status.FINALISED, "comment period waived by the factory")


async def finalise_ended_comment_periods(database: Database, *, limit: int = 100) -> int:
    """The sweep: finalise every assessment whose factory comment period has run out (one transaction each, so
    one that fails leaves the others finalised); how many were."""
    async with database.unit_of_work() as uow:
        due = await AssessmentRepository(uow.session).comment_periods_ended(_now(), limit=limit)
    finalised = 0
    for assessment_id in due:
        try:
            async with database.unit_of_work() as uow:
                assessments = AssessmentRepository(uow.session)
                assessment = await load(assessments, assessment_id, for_update=True)
                if assessment.status is not Status.COMMENT_PERIOD or assessment.comment_period_open(_now()):
                    continue  # moved meanwhile
                await _move(uow, assessments, COMMENT_CLOCK, assessment, Status.FINALISED, "the comment period ended")
                finalised += 1
        except Exception:  # one that cannot be finalised must not hold up the others; the next round retries it
            _log.exception("could not finalise assessment %s at the end of its comment period", assessment_id)
    return finalised


async def _tool_and_results(
    uow: UnitOfWork, assessment: Assessment, to: Status
) -> tuple[Tool | None, dict[str, Finding]]:
    """What a submission (every question answered?), a release and a finalisation (the non-compliances and
    results their events carry) need to know."""
    if to not in (Status.DRAFT_SUBMITTED, Status.RELEASED, Status.FINALISED):
        return None, {}
    if assessment.status not in ALLOWED.get(to, frozenset()):
        return None, {}  # the lifecycle refuses the move: nothing to load
    _, tool = await tools.load_tool(uow, assessment.tool_version_id)
    return tool, await FindingRepository(uow.session).of(assessment.id)


def _non_compliances(tool: Tool, findings: dict[str, Finding]) -> list[NonCompliance]:
    """Each non-compliant question with its compliance point, cluster and tags, in question order."""
    lines = []
    for code, finding in sorted(findings.items()):
        if finding.result.value != "non_compliant" or code not in tool.questions:
            continue
        question = tool.question(code)
        lines.append(
            NonCompliance(
                question_code=code,
                compliance_point=question.compliance_point,
                cluster=question.cluster,
                publicly_reported=question.publicly_reported,
                gender_sensitive=Tag.GENDER_SENSITIVE in question.tags,
                zero_tolerance=question.zero_tolerance,
                workers_affected=finding.workers_affected,
            )
        )
    return lines


def _emit_moved(
    uow: UnitOfWork, moved: Assessment, record: Transition, tool: Tool | None, findings: dict[str, Finding]
) -> None:
    """`status_changed` for every move; `released` and `finalised` (one line per question) besides, both with
    the non-compliances, the last visit day and the cycle."""
    now = record.at
    common: dict[str, Any] = {
        "assessment_id": moved.id,
        "factory_id": moved.factory_id,
        "country": moved.country,
        "cycle": moved.cycle,
    }
    uow.emit(
        AssessmentStatusChanged(
            **common,
            status=record.to_status.value,  # type: ignore[arg-type]  # never `cancelled`: that has its own event
            previous_status=record.from_status.value,  # type: ignore[arg-type]
            changed_at=now,
        ),
        country=moved.country,
    )
    if record.to_status is Status.RELEASED:
        uow.emit(
            AssessmentReleased(
                **common,
                released_at=now,
                due_date=moved.report_due,
                on_time=now.date() <= moved.report_due,
                last_visit_day=moved.end_date,
                tool_version_id=moved.tool_version_id,
                non_compliances=_non_compliances(tool, findings) if tool is not None else [],
            ),
            country=moved.country,
        )
    if record.to_status is Status.FINALISED and tool is not None:
        uow.emit(
            AssessmentFinalised(
                **common,
                tool_version_id=moved.tool_version_id,
                finalised_at=now,
                last_visit_day=moved.end_date,
                non_compliances=_non_compliances(tool, findings),
                results=[
                    QuestionResult.model_validate(
                        {
                            "question_code": code,
                            "compliance_point": tool.question(code).compliance_point,
                            "cluster": tool.question(code).cluster,
                            "result": finding.result.value,
                            "publicly_reported": tool.question(code).publicly_reported,
                            "gender_sensitive": Tag.GENDER_SENSITIVE in tool.question(code).tags,
                            "zero_tolerance": tool.question(code).zero_tolerance,
                        }
                    )
                    for code, finding in sorted(findings.items())
                ],
            ),
            country=moved.country,
        )


async def transitions(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> list[Transition]:
    """Who moved the assessment, when, with which comments (staff of its country)."""
    await staff_only(uow, principal, assessment_id)
    return await AssessmentRepository(uow.session).transitions(assessment_id)
