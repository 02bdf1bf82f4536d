"""The review queue (possible duplicates) and factories' change proposals over HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from registry.api.factories import settings_of
from registry.service import reviews
from servicekit.auth import Principal, Role, require
from servicekit.database import database_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery

router = APIRouter(tags=["review queue"], responses=PROBLEM_RESPONSES)

StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]
StaffOrFactory = Annotated[Principal, Depends(require(Role.STAFF, Role.FACTORY))]


class ReviewOut(BaseModel):
    id: uuid.UUID
    country: str
    status: Literal["open", "confirmed", "rejected"]
    submitted: dict[str, Any] = Field(description="The record as submitted (not yet a factory).")
    candidate_id: uuid.UUID = Field(description="The existing factory it may be.")
    score: float
    alternatives: list[dict[str, Any]] = Field(description="Other candidates above the review threshold.")
    source: Literal["api", "import"]
    import_job_id: uuid.UUID | None
    import_line: int | None
    created_at: datetime
    created_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    factory_id: uuid.UUID | None = Field(description="After a decision: the factory the submission became.")


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


@router.get("/v1/match-reviews", summary="Possible duplicates waiting for a person")
async def list_reviews(
    request: Request,
    principal: StaffPrincipal,
    page: PageQuery,
    status: Literal["open", "confirmed", "rejected"] | None = "open",
    import_job_id: uuid.UUID | None = None,
) -> Page[ReviewOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await reviews.list_reviews(
            uow,
            principal=principal,
            settings=settings_of(request),
            status=status,
            import_job_id=import_job_id,
            page=page,
        )
    return Page[ReviewOut](items=[ReviewOut(**r) for r in rows], next_cursor=cursor)


@router.get("/v1/match-reviews/{review_id}", summary="One review item")
async def get_review(review_id: uuid.UUID, request: Request, principal: StaffPrincipal) -> ReviewOut:
    async with database_of(request).unit_of_work() as uow:
        return ReviewOut(**await reviews.get_review(uow, principal=principal, review_id=review_id))


@router.post("/v1/match-reviews/{review_id}/confirm", summary="It is the candidate factory: link it")
async def confirm_review(
    review_id: uuid.UUID, body: Decision, request: Request, principal: StaffPrincipal
) -> ReviewOut:
    return await _decide_review(request, principal, review_id, body, same_factory=True)


@router.post("/v1/match-reviews/{review_id}/reject", summary="It is a different factory: create it")
async def reject_review(review_id: uuid.UUID, body: Decision, request: Request, principal: StaffPrincipal) -> ReviewOut:
    return await _decide_review(request, principal, review_id, body, same_factory=False)


class ProposalIn(BaseModel):
    """New values a factory proposes for its own name and address; staff approve them."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=300)
    local_name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, min_length=1, max_length=1000)
    province: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=1000, description="Why (shown to staff).")


class ProposalOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    status: Literal["open", "approved", "rejected"]
    proposed: dict[str, Any]
    based_on_version: int
    note: str | None
    proposed_at: datetime
    proposed_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None


@router.post(
    "/v1/factories/{factory_id}/change-proposals",
    status_code=201,
    tags=["factories"],
    summary="Propose a new name or address (a factory's own users)",
)
async def propose_change(
    factory_id: uuid.UUID, body: ProposalIn, request: Request, principal: StaffOrFactory
) -> ProposalOut:
    values = {k: getattr(body, k) for k in body.model_fields_set if k != "note"}
    async with database_of(request).unit_of_work() as uow:
        row = await reviews.propose(uow, principal=principal, factory_id=factory_id, values=values, note=body.note)
    return ProposalOut(**row)


@router.get("/v1/change-proposals", summary="Change proposals (staff: their country; a factory: its own)")
async def list_proposals(
    request: Request,
    principal: StaffOrFactory,
    page: PageQuery,
    status: Literal["open", "approved", "rejected"] | None = None,
    factory_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[ProposalOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await reviews.list_proposals(
            uow, principal=principal, status=status, factory_id=factory_id, page=page
        )
    return Page[ProposalOut](items=[ProposalOut(**r) for r in rows], next_cursor=cursor)


@router.post("/v1/change-proposals/{proposal_id}/approve", summary="Apply a proposed change")
async def approve_proposal(
    proposal_id: uuid.UUID, body: Decision, request: Request, principal: StaffPrincipal
) -> ProposalOut:
    return await _decide_proposal(request, principal, proposal_id, body, approve=True)


@router.post("/v1/change-proposals/{proposal_id}/reject", summary="Refuse a proposed change")
async def reject_proposal(
    proposal_id: uuid.UUID, body: Decision, request: Request, principal: StaffPrincipal
) -> ProposalOut:
    return await _decide_proposal(request, principal, proposal_id, body, approve=False)


async def _decide_review(
    request: Request, principal: Principal, review_id: uuid.UUID, body: Decision, *, same_factory: bool
) -> ReviewOut:
    async with database_of(request).unit_of_work() as uow:
        decided = await reviews.decide_review(
            uow,
            principal=principal,
            settings=settings_of(request),
            review_id=review_id,
            same_factory=same_factory,
            note=body.note,
        )
    return ReviewOut(**decided)


async def _decide_proposal(
    request: Request, principal: Principal, proposal_id: uuid.UUID, body: Decision, *, approve: bool
) -> ProposalOut:
    async with database_of(request).unit_of_work() as uow:
        row = await reviews.decide_proposal(
            uow,
            principal=principal,
            settings=settings_of(request),
            proposal_id=proposal_id,
            approve=approve,
            note=body.note,
        )
    return ProposalOut(**row)
