"""Zero-tolerance cases: opened the moment a zero-tolerance finding is recorded (`open_case`) or reported by
staff from outside an assessment, then followed step by step under the country protocol."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from assessments.adapters.audit import audit
from assessments.adapters.cases import CaseFilters, CaseRepository
from assessments.domain import zero_tolerance as rules
from assessments.domain.zero_tolerance import Case, CaseError, CaseStatus, CaseStep, Channel, Protocol, Referral, Source
from assessments.service import tools
from assessments.service.factory_refs import staff_factory
from betterwork_contracts.events.assessments import (
    ZeroToleranceCaseNotConfirmed,
    ZeroToleranceCaseOpened,
    ZeroToleranceCaseUpdated,
)
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
    referrals: list[Referral] = field(default_factory=list)


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
    factory = await staff_factory(uow, principal, factory_id)
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
    return CaseWithSteps(case, await cases.steps(case_id), await cases.referrals(case_id))


async def list_cases(
    uow: UnitOfWork,
    *,
    principal: Principal,
    status: CaseStatus | None,
    factory_id: uuid.UUID | None,
    overdue: bool | None,
    page: PageParams,
) -> tuple[list[Case], str | None]:
    """The cases of the staff's country; `overdue`: only those with (or without) a step past its deadline, chosen
    in the query so that every page is full and its cursor right."""
    check_staff(principal)
    country = None if principal.is_admin else principal.country
    filters = CaseFilters(country=country, status=status, factory_id=factory_id, overdue=overdue, now=_now())
    return await CaseRepository(uow.session).search(filters, page)


async def move_case(
    uow: UnitOfWork, *, principal: Principal, case_id: uuid.UUID, to: CaseStatus, note: str | None
) -> CaseWithSteps:
    """One step on, or not_confirmed (with its reason) before remediation (409 otherwise); `case_updated` (or
    `case_not_confirmed`) goes out with the transaction."""
    cases = CaseRepository(uow.session)
    case = await _locked(cases, principal, case_id)
    await _move(uow, cases, principal, case, to, note, _now())
    await uow.commit()
    return await get_case(uow, principal=principal, case_id=case_id)


async def _locked(cases: CaseRepository, principal: Principal, case_id: uuid.UUID) -> Case:
    case = await cases.load(case_id, for_update=True)
    if case is None or not principal.is_staff_of(case.country):
        raise NotFound(f"No zero-tolerance case {case_id}.")
    check_staff(principal, case.country)
    return case


async def _move(
    uow: UnitOfWork,
    cases: CaseRepository,
    principal: Principal,
    case: Case,
    to: CaseStatus,
    note: str | None,
    now: datetime,
) -> Case:
    try:
        moved, step = rules.move_case(case, to, note=note, by=principal.subject, now=now)
    except CaseError as exc:
        raise Conflict(str(exc), current_status=case.status.value) from exc
    await cases.save(moved)
    await cases.add_step(case.id, step)
    await audit(
        uow.session,
        principal,
        action=f"zero_tolerance.{to.value}",
        entity_type="zero_tolerance_case",
        entity_id=str(case.id),
        reason=note,
    )
    common = {"case_id": case.id, "factory_id": case.factory_id, "country": case.country, "category": case.category}
    if to is CaseStatus.NOT_CONFIRMED:
        event: ZeroToleranceCaseNotConfirmed | ZeroToleranceCaseUpdated = ZeroToleranceCaseNotConfirmed.model_validate(
            {**common, "previous_status": case.status.value, "decided_at": step.at}
        )
    else:
        event = ZeroToleranceCaseUpdated.model_validate(
            {**common, "status": to.value, "previous_status": case.status.value, "updated_at": step.at}
        )
    uow.emit(event, country=case.country)
    return moved


async def refer(
    uow: UnitOfWork,
    *,
    principal: Principal,
    case_id: uuid.UUID,
    party: str,
    channel: Channel,
    referred_at: datetime | None,
    reference: str | None,
) -> Referral:
    """Record that a party the protocol names was told (when, how); the first referral of an opened case moves
    it to referred."""
    cases = CaseRepository(uow.session)
    case = await _locked(cases, principal, case_id)
    now = _now()
    try:
        referral = rules.refer(
            case,
            party=party,
            channel=channel,
            referred_at=referred_at or now,
            reference=reference,
            by=principal.subject,
            now=now,
        )
    except CaseError as exc:
        raise Conflict(str(exc), current_status=case.status.value) from exc
    await cases.add_referral(referral)
    await audit(
        uow.session,
        principal,
        action="zero_tolerance.referral_recorded",
        entity_type="zero_tolerance_case",
        entity_id=str(case_id),
        details={"party": party, "channel": channel.value, "referred_at": referral.referred_at.isoformat()},
    )
    if case.status is CaseStatus.OPENED:
        await _move(uow, cases, principal, case, CaseStatus.REFERRED, f"referred to {party} by {channel.value}", now)
    await uow.commit()
    return referral


async def acknowledge_referral(
    uow: UnitOfWork,
    *,
    principal: Principal,
    case_id: uuid.UUID,
    referral_id: uuid.UUID,
    at: datetime | None,
    note: str | None,
) -> Referral:
    """Record when the party acknowledged the referral (once)."""
    cases = CaseRepository(uow.session)
    await _locked(cases, principal, case_id)
    referral = await cases.referral(referral_id, for_update=True)
    if referral is None or referral.case_id != case_id:
        raise NotFound(f"No referral {referral_id} of case {case_id}.")
    now = _now()
    try:
        acknowledged = rules.acknowledge(referral, at=at or now, note=note, by=principal.subject, now=now)
    except CaseError as exc:
        raise Conflict(str(exc)) from exc
    await cases.save_referral(acknowledged)
    await audit(
        uow.session,
        principal,
        action="zero_tolerance.referral_acknowledged",
        entity_type="zero_tolerance_case",
        entity_id=str(case_id),
        details={"party": referral.party, "referral_id": str(referral_id)},
    )
    await uow.commit()
    return acknowledged
