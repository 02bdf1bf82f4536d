"""Use cases of improvement plans: built from released assessments without anyone typing the items, opened by
hand for a self-diagnosis, items worked through their lifecycle, and the progress figures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from advisory.adapters import merges, references
from advisory.adapters.plans import PlanRepository
from advisory.domain import plan as rules
from advisory.domain.plan import Actor, Item, ItemStatus, Move, Plan, Progress, Severity, Source
from advisory.service.access import actor_of, may_manage
from betterwork_contracts.events.advisory import ImprovementItemStatusChanged, ImprovementPlanCreated
from betterwork_contracts.events.assessments import NonCompliance
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.pagination import PageParams

ASSESSMENT_EVENTS = Principal(subject="advisory:assessment-events", roles=frozenset({Role.SERVICE}))
REGISTRY_EVENTS = Principal(subject="advisory:registry-events", roles=frozenset({Role.SERVICE}))


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


@dataclass(frozen=True)
class ReleasedFindings:
    """What an `assessment.released` (or `finalised`) event tells advisory."""

    assessment_id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    released_on: date
    non_compliances: list[NonCompliance]


# ---- from assessments' events ----------------------------------------------------------------------------------


async def plan_from_findings(uow: UnitOfWork, findings: ReleasedFindings) -> Plan:
    """The factory's plan for the cycle, with one item per non-compliance (created at most once per question).

    A question an earlier item already follows is a recurrence: a closed item of the same plan reopens, marked
    recurring; an item of an earlier cycle reopens too, and the new plan's item says it recurs."""
    repo = PlanRepository(uow.session)
    at = now()
    plan, created = await _plan_for(repo, findings.factory_id, findings.country, findings.cycle, findings, at)
    codes = [nc.question_code for nc in findings.non_compliances]
    earlier = await repo.latest_for_questions(findings.factory_id, codes, for_update=True)
    new_items: list[Item] = []
    changed: list[tuple[Item, Move]] = []
    for nc in findings.non_compliances:
        previous = earlier.get(nc.question_code)
        if previous is not None:
            recurred = rules.recur(previous, assessment_id=findings.assessment_id, now=at)
            if recurred is not None:
                changed.append(recurred)
            if previous.plan_id == plan.id:
                continue
        new_items.append(_item_of(plan, nc, findings, at, previous))
    await repo.add_items(new_items)
    for item, _ in changed:
        await repo.save_item(item)
    await repo.add_moves([m for _, m in changed if m.from_status is not m.to_status])
    case_items = await _attach_waiting_cases(uow, plan, at) if created else []
    if created:
        await repo.audit(
            ASSESSMENT_EVENTS,
            action="improvement_plan.created",
            entity_type="improvement_plan",
            entity_id=plan.id,
            details={"assessment_id": str(findings.assessment_id), "items": len(new_items) + len(case_items)},
            country=plan.country,
        )
        uow.emit(
            ImprovementPlanCreated(
                plan_id=plan.id,
                factory_id=plan.factory_id,
                country=plan.country,
                cycle=plan.cycle,
                assessment_id=findings.assessment_id,
                item_count=len(new_items) + len(case_items),
                created_at=at,
            ),
            country=plan.country,
        )
    for item, move in changed:
        await repo.audit(
            ASSESSMENT_EVENTS,
            action="improvement_item.recurred",
            entity_type="improvement_item",
            entity_id=item.id,
            reason=move.reason,
            details={"from": move.from_status.value, "to": item.status.value},
            country=item.country,
        )
        _emit_item(uow, item, move)
    return plan


async def _plan_for(
    repo: PlanRepository,
    factory_id: uuid.UUID,
    country: str,
    cycle: int,
    findings: ReleasedFindings | None,
    at: datetime,
) -> tuple[Plan, bool]:
    """The plan of the cycle, locked; created when there is none (True then)."""
    existing = await repo.plan_of(factory_id, cycle, for_update=True)
    if existing is not None:
        if findings is not None and existing.assessment_id is None:
            await repo.set_release(existing.id, findings.assessment_id, findings.released_on)
            existing = replace(existing, assessment_id=findings.assessment_id, released_on=findings.released_on)
        return existing, False
    plan = Plan(
        id=uuid.uuid4(),
        factory_id=factory_id,
        country=country,
        cycle=cycle,
        assessment_id=findings.assessment_id if findings else None,
        released_on=findings.released_on if findings else None,
        created_at=at,
        created_by=ASSESSMENT_EVENTS.subject,
    )
    if not await repo.add_plan(plan):  # created meanwhile by a concurrent transaction
        found = await repo.plan_of(factory_id, cycle, for_update=True)
        assert found is not None
        return found, False
    return plan, True


def _item_of(plan: Plan, nc: NonCompliance, findings: ReleasedFindings, at: datetime, previous: Item | None) -> Item:
    severity = rules.severity_of(zero_tolerance=nc.zero_tolerance, publicly_reported=nc.publicly_reported)
    return Item(
        id=uuid.uuid4(),
        plan_id=plan.id,
        factory_id=plan.factory_id,
        country=plan.country,
        source=Source.ASSESSMENT,
        title=f"{nc.question_code}: non-compliance on {nc.compliance_point}",
        severity=severity,
        due_date=rules.due_date(severity, findings.released_on),
        raised_on=findings.released_on,
        assessment_id=findings.assessment_id,
        question_code=nc.question_code,
        compliance_point=nc.compliance_point,
        cluster=nc.cluster,
        publicly_reported=nc.publicly_reported,
        gender_sensitive=nc.gender_sensitive,
        zero_tolerance=nc.zero_tolerance,
        workers_affected=nc.workers_affected,
        recurring=previous is not None,
        recurrences=(previous.recurrences + 1) if previous is not None else 0,
    )


async def _attach_waiting_cases(uow: UnitOfWork, plan: Plan, at: datetime) -> list[Item]:
    """Zero-tolerance cases opened before the factory had a plan become items of its first one."""
    cases = await references.waiting_cases(uow.session, plan.factory_id)
    items = [_case_item(plan, case, at) for case in cases]
    await PlanRepository(uow.session).add_items(items)
    for case, item in zip(cases, items, strict=True):
        await references.attach_case(uow.session, case.case_id, item.id)
    return items


def _case_item(plan: Plan, case: references.CaseRef, at: datetime) -> Item:
    raised = case.opened_at.date()
    return Item(
        id=uuid.uuid4(),
        plan_id=plan.id,
        factory_id=plan.factory_id,
        country=plan.country,
        source=Source.CASE,
        title=f"Zero-tolerance case: {case.category.replace('_', ' ')}",
        severity=Severity.ZERO_TOLERANCE,
        due_date=rules.due_date(Severity.ZERO_TOLERANCE, raised),
        raised_on=raised,
        case_id=case.case_id,
        zero_tolerance=True,
    )


async def case_opened(uow: UnitOfWork, case: references.CaseRef) -> None:
    """A zero-tolerance case becomes an item of the factory's latest plan (or waits for its first plan)."""
    if not await references.record_case(uow.session, case):
        return
    repo = PlanRepository(uow.session)
    plan = await repo.latest_plan(case.factory_id)
    if plan is None:
        return
    item = _case_item(plan, case, now())
    await repo.add_items([item])
    await references.attach_case(uow.session, case.case_id, item.id)
    await repo.audit(
        ASSESSMENT_EVENTS,
        action="improvement_item.raised",
        entity_type="improvement_item",
        entity_id=item.id,
        details={"case_id": str(case.case_id), "plan_id": str(plan.id)},
        country=plan.country,
    )


async def factory_merged(uow: UnitOfWork, *, retired: uuid.UUID, survivor: uuid.UUID, country: str) -> None:
    """Committee, visits, training and cases of the retired factory follow the survivor (plans and report access
    wait for the cycles assessments gives them: `cycles_renumbered`)."""
    moved = await merges.move_records(uow.session, retired, survivor)
    await PlanRepository(uow.session).audit(
        REGISTRY_EVENTS,
        action="factory.merged",
        entity_type="factory",
        entity_id=retired,
        details={"survivor_id": str(survivor), "other_records_moved": moved},
        country=country,
    )


async def cycles_renumbered(
    uow: UnitOfWork,
    *,
    retired: uuid.UUID,
    survivor: uuid.UUID,
    country: str,
    moves: dict[tuple[uuid.UUID, int], int],
) -> None:
    """Plans and report access of both factories under the survivor's new cycle numbers; what could not move (an
    item of a question the kept plan of the same cycle already follows) stays, and the audit says how much. A
    repeat changes nothing."""
    if await merges.renumbering_recorded(uow.session, retired):
        return
    result = await merges.renumber_plans(uow.session, retired, survivor, moves)
    await merges.renumber_access(uow.session, retired, survivor, moves)
    await PlanRepository(uow.session).audit(
        ASSESSMENT_EVENTS,
        action="factory.cycles_renumbered",
        entity_type="factory",
        entity_id=retired,
        details={"survivor_id": str(survivor), **result.__dict__,
                 "moves": [[str(f), old, new] for (f, old), new in moves.items()]},
        country=country,
    )  # fmt: skip


# ---- by hand ---------------------------------------------------------------------------------------------------


async def open_plan(uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID, cycle: int) -> Plan:
    """A plan opened before the assessment's release (a self-diagnosis); 409 if the cycle has one."""
    factory = await references.factory(uow.session, factory_id)
    if factory is None or not may_manage(principal, factory_id=factory.factory_id, country=factory.country):
        raise NotFound(f"No factory {factory_id}.")
    references.check_live(factory, factory_id)
    repo = PlanRepository(uow.session)
    at = now()
    plan = Plan(uuid.uuid4(), factory.factory_id, factory.country, cycle, None, None, at, principal.subject)
    if not await repo.add_plan(plan):
        raise Conflict(f"Factory {factory_id} already has a plan for cycle {cycle}.")
    items = await _attach_waiting_cases(uow, plan, at)
    await repo.audit(principal, action="improvement_plan.created", entity_type="improvement_plan", entity_id=plan.id)
    uow.emit(
        ImprovementPlanCreated(
            plan_id=plan.id,
            factory_id=plan.factory_id,
            country=plan.country,
            cycle=cycle,
            item_count=len(items),
            created_at=at,
        ),
        country=plan.country,
    )
    await uow.commit()
    return plan


@dataclass(frozen=True)
class ItemDetails:
    """What the factory and its advisors write on an item (None: leave as it is)."""

    root_cause_category: str | None = None
    root_cause: str | None = None
    corrective_action: str | None = None
    preventive_action: str | None = None
    owner: str | None = None
    due_date: date | None = None


async def add_self_diagnosis_item(
    uow: UnitOfWork,
    *,
    principal: Principal,
    plan_id: uuid.UUID,
    title: str,
    publicly_reported: bool,
    details: ItemDetails,
) -> Item:
    """An item the factory found itself; due by severity unless a date is given."""
    plan = await readable_plan(uow, principal, plan_id)
    severity = rules.severity_of(zero_tolerance=False, publicly_reported=publicly_reported)
    raised = today()
    item = Item(
        id=uuid.uuid4(),
        plan_id=plan.id,
        factory_id=plan.factory_id,
        country=plan.country,
        source=Source.SELF_DIAGNOSIS,
        title=title,
        severity=severity,
        due_date=details.due_date or rules.due_date(severity, raised),
        raised_on=raised,
        publicly_reported=publicly_reported,
        root_cause_category=details.root_cause_category,
        root_cause=details.root_cause,
        corrective_action=details.corrective_action,
        preventive_action=details.preventive_action,
        owner=details.owner,
    )
    repo = PlanRepository(uow.session)
    await repo.add_items([item])
    await repo.audit(principal, action="improvement_item.raised", entity_type="improvement_item", entity_id=item.id)
    await uow.commit()
    return item


async def describe_item(uow: UnitOfWork, *, principal: Principal, item_id: uuid.UUID, details: ItemDetails) -> Item:
    """Root cause, actions, owner; the due date only advisors move (a factory cannot buy itself time)."""
    repo = PlanRepository(uow.session)
    item = await _item_for(repo, principal, item_id, for_update=True)
    actor = actor_of(principal, factory_id=item.factory_id, country=item.country)
    if details.due_date is not None and actor is not Actor.ADVISOR and details.due_date != item.due_date:
        raise Conflict("Only the programme's advisors move an item's due date.")
    if item.status in (ItemStatus.VERIFIED, ItemStatus.WAIVED):
        raise Conflict(f"A {item.status.value} item is closed; reopen it first.")
    changes = {k: v for k, v in details.__dict__.items() if v is not None}
    if not changes:
        return item
    changed = replace(item, **changes, version=item.version + 1)
    await repo.save_item(changed)
    await repo.audit(
        principal,
        action="improvement_item.described",
        entity_type="improvement_item",
        entity_id=item.id,
        details={k: str(v) for k, v in changes.items()},
    )
    await uow.commit()
    return changed


async def move_item(
    uow: UnitOfWork, *, principal: Principal, item_id: uuid.UUID, to: ItemStatus, reason: str | None
) -> Item:
    """Move an item on (409 when the lifecycle or the caller's part forbids it); history, audit and event follow."""
    repo = PlanRepository(uow.session)
    item = await _item_for(repo, principal, item_id, for_update=True)
    actor = actor_of(principal, factory_id=item.factory_id, country=item.country)
    try:
        moved, record = rules.move(item, to, actor=actor, by=principal.subject, reason=reason, now=now())
    except rules.PlanRuleError as exc:
        raise Conflict(str(exc), current_status=item.status.value) from exc
    await repo.save_item(moved)
    await repo.add_moves([record])
    await repo.audit(
        principal,
        action=f"improvement_item.{to.value}",
        entity_type="improvement_item",
        entity_id=item.id,
        reason=reason,
        details={"from": item.status.value},
    )
    _emit_item(uow, moved, record)
    await uow.commit()
    return moved


def _emit_item(uow: UnitOfWork, item: Item, move: Move) -> None:
    uow.emit(
        ImprovementItemStatusChanged(
            plan_id=item.plan_id,
            item_id=item.id,
            factory_id=item.factory_id,
            country=item.country,
            source=item.source.value,
            question_code=item.question_code,
            publicly_reported=item.publicly_reported,
            zero_tolerance=item.zero_tolerance,
            status=item.status.value,
            previous_status=move.from_status.value,
            recurring=item.recurring,
            changed_at=move.at,
        ),
        country=item.country,
    )


# ---- reads -----------------------------------------------------------------------------------------------------


async def readable_plan(uow: UnitOfWork, principal: Principal, plan_id: uuid.UUID) -> Plan:
    """The plan, for staff of its country and the factory itself (404 for anyone else)."""
    plan = await PlanRepository(uow.session).load_plan(plan_id)
    if plan is None or not may_manage(principal, factory_id=plan.factory_id, country=plan.country):
        raise NotFound(f"No improvement plan {plan_id}.")
    return plan


async def _item_for(repo: PlanRepository, principal: Principal, item_id: uuid.UUID, *, for_update: bool) -> Item:
    item = await repo.load_item(item_id, for_update=for_update)
    if item is None or not may_manage(principal, factory_id=item.factory_id, country=item.country):
        raise NotFound(f"No improvement item {item_id}.")
    return item


async def get_item(uow: UnitOfWork, *, principal: Principal, item_id: uuid.UUID) -> tuple[Item, list[Move]]:
    repo = PlanRepository(uow.session)
    item = await _item_for(repo, principal, item_id, for_update=False)
    return item, await repo.moves(item_id)


async def list_plans(
    uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID | None, page: PageParams
) -> tuple[list[Plan], str | None]:
    """Staff see their country's plans, a factory its own, an admin all; anyone else none."""
    repo = PlanRepository(uow.session)
    if principal.is_admin:
        return await repo.search_plans(country=None, factory_id=factory_id, page=page)
    if principal.staff_country:
        return await repo.search_plans(country=principal.staff_country, factory_id=factory_id, page=page)
    own = principal.organisation(Role.FACTORY)
    if own is not None and factory_id in (None, own):
        return await repo.search_plans(country=None, factory_id=own, page=page)
    return [], None


async def plan_items(
    uow: UnitOfWork, *, principal: Principal, plan_id: uuid.UUID, status: ItemStatus | None, page: PageParams
) -> tuple[list[Item], str | None]:
    await readable_plan(uow, principal, plan_id)
    return await PlanRepository(uow.session).page_items(plan_id, status=status, page=page)


async def plan_progress(uow: UnitOfWork, *, principal: Principal, plan_id: uuid.UUID) -> tuple[Plan, Progress]:
    plan = await readable_plan(uow, principal, plan_id)
    return plan, rules.progress(await PlanRepository(uow.session).items_of(plan_id), today())


async def country_progress(uow: UnitOfWork, *, principal: Principal, country: str) -> Progress:
    """The country's figures over every plan: staff of it, and constituents of it (aggregates only)."""
    _check_country_reader(principal, country)
    return rules.progress(await PlanRepository(uow.session).items_of_country(country), today())


def _check_country_reader(principal: Principal, country: str) -> None:
    constituent = Role.CONSTITUENT in principal.roles and principal.country == country
    if not (principal.is_staff_of(country) or constituent):
        raise NotFound(f"No figures for {country}.")


MAX_POINTS = 104


def days_between(start: date, end: date, every_days: int) -> list[date]:
    """`start`, every `every_days` after it, and `end` (at most MAX_POINTS days; 422 beyond)."""
    if end < start:
        raise Unprocessable("The series ends before it starts.")
    days = [start + timedelta(days=n) for n in range(0, (end - start).days + 1, every_days)]
    if days[-1] != end:
        days.append(end)
    if len(days) > MAX_POINTS:
        raise Unprocessable(f"At most {MAX_POINTS} points; ask for a longer step.")
    return days


async def plan_progress_history(
    uow: UnitOfWork, *, principal: Principal, plan_id: uuid.UUID, days: list[date]
) -> list[tuple[date, Progress]]:
    """The plan's figures at the end of each day asked for, rebuilt from the items' recorded moves."""
    await readable_plan(uow, principal, plan_id)
    repo = PlanRepository(uow.session)
    items = await repo.items_of(plan_id)
    moves = await repo.moves_of([i.id for i in items])
    return list(zip(days, rules.progress_series(items, moves, days), strict=True))


async def country_progress_history(
    uow: UnitOfWork, *, principal: Principal, country: str, days: list[date]
) -> list[tuple[date, Progress]]:
    _check_country_reader(principal, country)
    repo = PlanRepository(uow.session)
    items = await repo.items_of_country(country)
    moves = await repo.moves_of([i.id for i in items])
    return list(zip(days, rules.progress_series(items, moves, days), strict=True))
