"""The review queue (possible duplicates) and factories' change proposals over HTTP."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from registry.api.schemas import Decision, ProposalIn, ProposalOut, ReviewOut
from registry.service import reviews
from registry.settings import RegistrySettings
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.edge import StaffPrincipal, UnitOfWorkDep, principal_with, settings_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["review queue"], responses=PROBLEM_RESPONSES)

# A factory's own users propose changes and follow their proposals; staff decide them.
StaffOrFactory = Annotated[Principal, principal_with(Role.STAFF, Role.FACTORY)]


@router.get("/v1/match-reviews", summary="Possible duplicates waiting for a person")
async def list_reviews(
    request: Request,
    uow: UnitOfWorkDep,
    staff: StaffPrincipal,
    page: PageQuery,
    status: Literal["open", "confirmed", "rejected"] | None = "open",
    import_job_id: uuid.UUID | None = None,
) -> Page[ReviewOut]:
    rows, cursor = await reviews.list_reviews(
        uow,
        principal=staff,
        settings=settings_of(request, RegistrySettings),
        status=status,
        import_job_id=import_job_id,
        page=page,
    )
    return Page[ReviewOut](items=[ReviewOut(**r) for r in rows], next_cursor=cursor)


@router.get("/v1/match-reviews/{review_id}", summary="One review item")
async def get_review(review_id: uuid.UUID, uow: UnitOfWorkDep, staff: StaffPrincipal) -> ReviewOut:
    return ReviewOut(**await reviews.get_review(uow, principal=staff, review_id=review_id))


@router.post("/v1/match-reviews/{review_id}/confirm", summary="It is the candidate factory: link it")
async def confirm_review(
    review_id: uuid.UUID, body: Decision, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> ReviewOut:
    return await _decide_review(request, uow, staff, review_id, body, same_factory=True)


@router.post("/v1/match-reviews/{review_id}/reject", summary="It is a different factory: create it")
async def reject_review(
    review_id: uuid.UUID, body: Decision, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> ReviewOut:
    return await _decide_review(request, uow, staff, review_id, body, same_factory=False)


@router.post(
    "/v1/factories/{factory_id}/change-proposals",
    status_code=201,
    tags=["factories"],
    summary="Propose a new name or address (a factory's own users)",
)
async def propose_change(
    factory_id: uuid.UUID, body: ProposalIn, uow: UnitOfWorkDep, principal: StaffOrFactory
) -> ProposalOut:
    values = {k: getattr(body, k) for k in body.model_fields_set if k != "note"}
    row = await reviews.propose(uow, principal=principal, factory_id=factory_id, values=values, note=body.note)
    return ProposalOut(**row)


@router.get("/v1/change-proposals", summary="Change proposals (staff: their country; a factory: its own)")
async def list_proposals(
    uow: UnitOfWorkDep,
    principal: StaffOrFactory,
    page: PageQuery,
    status: Literal["open", "approved", "rejected"] | None = None,
    factory_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[ProposalOut]:
    rows, cursor = await reviews.list_proposals(
        uow, principal=principal, status=status, factory_id=factory_id, page=page
    )
    return Page[ProposalOut](items=[ProposalOut(**r) for r in rows], next_cursor=cursor)


@router.post("/v1/change-proposals/{proposal_id}/approve", summary="Apply a proposed change")
async def approve_proposal(
    proposal_id: uuid.UUID, body: Decision, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> ProposalOut:
    return await _decide_proposal(request, uow, staff, proposal_id, body, approve=True)


@router.post("/v1/change-proposals/{proposal_id}/reject", summary="Refuse a proposed change")
async def reject_proposal(
    proposal_id: uuid.UUID, body: Decision, request: Request, uow: UnitOfWorkDep, staff: StaffPrincipal
) -> ProposalOut:
    return await _decide_proposal(request, uow, staff, proposal_id, body, approve=False)


async def _decide_review(
    request: Request, uow: UnitOfWork, staff: Principal, review_id: uuid.UUID, body: Decision, *, same_factory: bool
) -> ReviewOut:
    decided = await reviews.decide_review(
        uow,
        principal=staff,
        settings=settings_of(request, RegistrySettings),
        review_id=review_id,
        same_factory=same_factory,
        note=body.note,
    )
    return ReviewOut(**decided)


async def _decide_proposal(
    request: Request, uow: UnitOfWork, staff: Principal, proposal_id: uuid.UUID, body: Decision, *, approve: bool
) -> ProposalOut:
    row = await reviews.decide_proposal(
        uow,
        principal=staff,
        settings=settings_of(request, RegistrySettings),
        proposal_id=proposal_id,
        approve=approve,
        note=body.note,
    )
    return ProposalOut(**row)
