"""Zero-tolerance cases: opened the moment a zero-tolerance finding is recorded (`open_case`) or reported by
staff from outside an assessment, then followed step by step under the country protocol."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from assessments.adapters.audit import audit
from assessments.adapters.cases import CaseFilters, CaseRepository
from assessments.domain import zero_tolerance as rules
from assessments.domain.zero_tolerance import Case, CaseError, CaseStatus, CaseStep, Protocol, Source
from assessments.service import tools
from assessments.service.factory_refs import known_factory
from betterwork_contracts.events.assessments import ZeroToleranceCaseOpened, ZeroToleranceCaseUpdated
from servicekit.auth import Principal, check_staff
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound
from servicekit.pagination import PageParams


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CaseWithSteps:
    case: Case
    steps: list[CaseStep]


async def open_case(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID,
    country: str,
    category: str,
    source: Source,
    assessment_id: uuid.UUID | None,
    question_code: str | None,
    details: str | None,
    now: datetime,
    protocol: Protocol | None = None,
) -> uuid.UUID | None:
    """Open a case (None if this finding opened one already); `case_opened` goes out with the transaction,
    on its own topic, carrying no evidence and no details."""
    case, first_step = rules.open_case(
        protocol or await tools.protocol_of(uow, country),
        factory_id=factory_id,
        category=category,
        source=source,
        assessment_id=assessment_id,
        question_code=question_code,
        details=details,
        by=principal.subject,
        now=now,
    )
    if not await CaseRepository(uow.session).add(case, first_step):
        return None
    uow.emit(
        ZeroToleranceCaseOpened.model_validate(
            {
                "case_id": case.id,
                "factory_id": factory_id,
                "country": country,
                "category": category,
                "source": source.value,
                "opened_at": now,
                "notify": list(case.notify),
            }
        ),
        country=country,
    )
    return case.id


async def report_case(
    uow: UnitOfWork,
    *,
    principal: Principal,
    factory_id: uuid.UUID,
    category: str,
    source: Source,
    details: str | None,
) -> CaseWithSteps:
    """Staff report a zero-tolerance issue found outside an assessment (advisory visit, hotline, brand)."""
    factory = await known_factory(uow, factory_id)
    check_staff(principal, factory.country)
    try:
        case_id = await open_case(
            uow,
            principal=principal,
            factory_id=factory_id,
            country=factory.country,
            category=category,
            source=source,
            assessment_id=None,
            question_code=None,
            details=details,
            now=_now(),
        )
    except CaseError as exc:
        raise Conflict(str(exc)) from exc
    assert case_id is not None
    await audit(
        uow.session,
        principal,
        action="zero_tolerance.case_opened",
        entity_type="zero_tolerance_case",
        entity_id=str(case_id),
        details={"category": category, "source": source.value},
    )
    await uow.commit()
    return await get_case(uow, principal=principal, case_id=case_id)


async def get_case(uow: UnitOfWork, *, principal: Principal, case_id: uuid.UUID) -> CaseWithSteps:
    cases = CaseRepository(uow.session)
    case = await cases.load(case_id)
    if case is None or not principal.is_staff_of(case.country):
        raise NotFound(f"No zero-tolerance case {case_id}.")
    return CaseWithSteps(case, await cases.steps(case_id))


async def list_cases(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: CaseStatus | None,
    factory_id: uuid.UUID | None,
    overdue: bool | None,
    page: PageParams,
) -> tuple[list[Case], str | None]:
    """The cases of the staff's country; `overdue` filters the page (steps past their deadline)."""
    check_staff(principal)
    country = None if principal.is_admin else principal.country
    filters = CaseFilters(country=country, status=status, factory_id=factory_id)
    cases, cursor = await CaseRepository(uow.session).search(filters, page)
    if overdue is not None:
        now = _now()
        cases = [c for c in cases if bool(c.overdue_steps(now)) is overdue]
    return cases, cursor


async def move_case(
    uow: UnitOfWork, *, principal: Principal, case_id: uuid.UUID, to: CaseStatus, note: str | None
) -> CaseWithSteps:
    """One step on (409 otherwise); `case_updated` goes out with the transaction."""
    cases = CaseRepository(uow.session)
    case = await cases.load(case_id, for_update=True)
    if case is None or not principal.is_staff_of(case.country):
        raise NotFound(f"No zero-tolerance case {case_id}.")
    check_staff(principal, case.country)
    try:
        moved, step = rules.move_case(case, to, note=note, by=principal.subject, now=_now())
    except CaseError as exc:
        raise Conflict(str(exc), current_status=case.status.value) from exc
    await cases.save(moved)
    await cases.add_step(case_id, step)
    await audit(
        uow.session,
        principal,
        action=f"zero_tolerance.{to.value}",
        entity_type="zero_tolerance_case",
        entity_id=str(case_id),
        reason=note,
    )
    uow.emit(
        ZeroToleranceCaseUpdated.model_validate(
            {
                "case_id": case_id,
                "factory_id": case.factory_id,
                "country": case.country,
                "category": case.category,
                "status": to.value,
                "previous_status": case.status.value,
                "updated_at": step.at,
            }
        ),
        country=case.country,
    )
    await uow.commit()
    return await get_case(uow, principal=principal, case_id=case_id)
