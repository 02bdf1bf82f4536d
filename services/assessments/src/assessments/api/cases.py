"""Zero-tolerance cases over HTTP: report one from outside an assessment, list and read them, move one on."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from assessments.api.case_schemas import AcknowledgementIn, CaseMove, CaseOut, CaseReport, ReferralIn, ReferralOut
from assessments.domain.zero_tolerance import CaseStatus, Source
from assessments.service import cases
from servicekit.edge import StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)


@router.post(
    "/v1/zero-tolerance-cases", status_code=201, tags=["zero tolerance"], summary="Report a zero-tolerance issue"
)
async def report_case(body: CaseReport, uow: UnitOfWorkDep, staff: StaffPrincipal) -> CaseOut:
    """From outside an assessment (advisory visit, hotline, brand): the case opens and
    `zero_tolerance.case_opened` is published at once."""
    found = await cases.report_case(
        uow,
        principal=staff,
        factory_id=body.factory_id,
        category=body.category,
        source=Source(body.source),
        details=body.details,
    )
    return CaseOut.of(found.case, found.steps, found.referrals)


@router.get("/v1/zero-tolerance-cases", tags=["zero tolerance"], summary="Zero-tolerance cases of the staff's country")
async def list_cases(
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    page: PageQuery,
    status: CaseStatus | None = None,
    factory_id: uuid.UUID | None = None,
    overdue: bool | None = None,
) -> Page[CaseOut]:
    found, cursor = await cases.list_cases(
        uow, principal=staff, status=status, factory_id=factory_id, overdue=overdue, page=page
    )
    return Page[CaseOut](items=[CaseOut.of(c) for c in found], next_cursor=cursor)


@router.get("/v1/zero-tolerance-cases/{case_id}", tags=["zero tolerance"], summary="One case with its steps")
async def get_case(case_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> CaseOut:
    found = await cases.get_case(uow, principal=staff, case_id=case_id)
    return CaseOut.of(found.case, found.steps, found.referrals)


@router.post("/v1/zero-tolerance-cases/{case_id}/transitions", tags=["zero tolerance"], summary="Move a case on")
async def move_case(case_id: uuid.UUID, body: CaseMove, uow: UnitOfWorkDep, staff: StaffPrincipal) -> CaseOut:
    """opened → referred → acknowledged → remediation → closed, one step at a time (`zero_tolerance.case_updated`);
    `not_confirmed` with its reason from any step before remediation (`zero_tolerance.case_not_confirmed`)."""
    found = await cases.move_case(uow, principal=staff, case_id=case_id, to=CaseStatus(body.to), note=body.note)
    return CaseOut.of(found.case, found.steps, found.referrals)


@router.post(
    "/v1/zero-tolerance-cases/{case_id}/referrals",
    status_code=201,
    tags=["zero tolerance"],
    summary="Record a referral to a party",
)
async def refer_case(case_id: uuid.UUID, body: ReferralIn, uow: UnitOfWorkDep, staff: StaffPrincipal) -> ReferralOut:
    """To a party the protocol tells of this case (409 otherwise), with time and channel; the first referral of
    an opened case moves it to referred."""
    referral = await cases.refer(
        uow,
        principal=staff,
        case_id=case_id,
        party=body.party,
        channel=body.channel,
        referred_at=body.referred_at,
        reference=body.reference,
    )
    return ReferralOut.of(referral)


@router.post(
    "/v1/zero-tolerance-cases/{case_id}/referrals/{referral_id}/acknowledgement",
    tags=["zero tolerance"],
    summary="Record that the party acknowledged a referral",
)
async def acknowledge_referral(
    case_id: uuid.UUID, referral_id: uuid.UUID, body: AcknowledgementIn, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> ReferralOut:
    referral = await cases.acknowledge_referral(
        uow, principal=staff, case_id=case_id, referral_id=referral_id, at=body.acknowledged_at, note=body.note
    )
    return ReferralOut.of(referral)
