"""Buyers, sourcing links, consent, entitlements, the access decision and alerts over HTTP."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import any_, literal, select

from betterwork_contracts.countries import is_country
from partnerships.adapters.tables import ALERT
from partnerships.domain.relationships import Scope, Tier
from partnerships.service import relationships as service
from servicekit.auth import CurrentPrincipal, Principal, Role, require
from servicekit.database import database_of
from servicekit.errors import PROBLEM_RESPONSES, NotFound
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)
StaffPrincipal = Annotated[Principal, Depends(require(Role.STAFF))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contact(_Strict):
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BuyerFields(_Strict):
    agreement_signed_on: date | None = Field(default=None, description="Partnership agreement signed.")
    agreement_commitments: list[Annotated[str, Field(min_length=1, max_length=500)]] | None = Field(
        default=None, max_length=50
    )
    agreement_review_date: date | None = None
    contacts: list[Contact] | None = Field(default=None, max_length=20)


class BuyerIn(BuyerFields):
    name: str = Field(min_length=1, max_length=300)
    headquarters_country: str = Field(description="ISO 3166-1 alpha-2.")
    tier: Tier = Tier.PARTICIPANT

    @field_validator("headquarters_country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not is_country(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value.upper()


class BuyerPatch(BuyerFields):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    tier: Tier | None = Field(default=None, description="Upgrade to partner, or downgrade to participant.")
    tier_reason: str | None = Field(default=None, max_length=1000)


class TierChange(BaseModel):
    from_tier: Tier | None
    to_tier: Tier
    at: datetime
    by_subject: str
    reason: str | None


class BuyerOut(BaseModel):
    id: uuid.UUID
    name: str
    headquarters_country: str
    tier: Tier
    agreement_signed_on: date | None
    agreement_commitments: list[str]
    agreement_review_date: date | None
    contacts: list[dict[str, Any]]
    version: int
    created_at: datetime
    updated_at: datetime
    tier_history: list[TierChange] | None = None


@router.post("/v1/buyers", status_code=201, tags=["buyers"], summary="Register a buyer")
async def register_buyer(body: BuyerIn, request: Request, principal: StaffPrincipal) -> BuyerOut:
    """Its users are those whose token carries `org` = the buyer id and the role `buyer`."""
    async with database_of(request).unit_of_work() as uow:
        row = await service.register_buyer(uow, principal=principal, values=body.model_dump(mode="python"))
    return BuyerOut.model_validate(row)


@router.get("/v1/buyers", tags=["buyers"], summary="Buyers (a buyer sees only itself)")
async def list_buyers(
    request: Request, principal: CurrentPrincipal, page: PageQuery, tier: Tier | None = None
) -> Page[BuyerOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await service.list_buyers(uow, principal=principal, tier=tier.value if tier else None, page=page)
    return Page[BuyerOut](items=[BuyerOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/v1/buyers/{buyer_id}", tags=["buyers"], summary="One buyer with its tier history")
async def get_buyer(buyer_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> BuyerOut:
    async with database_of(request).unit_of_work() as uow:
        return BuyerOut.model_validate(await service.get_buyer(uow, principal=principal, buyer_id=buyer_id))


@router.patch("/v1/buyers/{buyer_id}", tags=["buyers"], summary="Change a buyer (agreement, contacts, tier)")
async def update_buyer(buyer_id: uuid.UUID, body: BuyerPatch, request: Request, principal: StaffPrincipal) -> BuyerOut:
    """A tier change is kept in the history and published (`buyer.tier_changed`)."""
    values = body.model_dump(mode="python", exclude_unset=True)
    async with database_of(request).unit_of_work() as uow:
        return BuyerOut.model_validate(
            await service.update_buyer(uow, principal=principal, buyer_id=buyer_id, values=values)
        )


class LinkIn(_Strict):
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    start_date: date | None = None


class LinkOut(BaseModel):
    id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    status: Literal["declared", "confirmed", "ended"]
    declared_by: Literal["buyer", "factory", "staff"]
    confirmed_by: Literal["buyer", "factory", "staff"] | None
    confirmed_at: datetime | None
    start_date: date | None
    end_date: date | None
    created_at: datetime


@router.post("/v1/sourcing-links", status_code=201, tags=["sourcing links"], summary="Declare a sourcing link")
async def declare_link(body: LinkIn, request: Request, principal: CurrentPrincipal) -> LinkOut:
    """Declared by the buyer or the factory, confirmed by the other side or by staff (staff's own are confirmed)."""
    async with database_of(request).unit_of_work() as uow:
        row = await service.declare_link(
            uow, principal=principal, buyer_id=body.buyer_id, factory_id=body.factory_id, start_date=body.start_date
        )
    return LinkOut.model_validate(row)


@router.get("/v1/sourcing-links", tags=["sourcing links"], summary="Sourcing links the caller may see")
async def list_links(
    request: Request,
    principal: CurrentPrincipal,
    page: PageQuery,
    buyer_id: uuid.UUID | None = None,
    factory_id: uuid.UUID | None = None,
    status: Literal["declared", "confirmed", "ended"] | None = None,
) -> Page[LinkOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await service.list_links(
            uow, principal=principal, buyer_id=buyer_id, factory_id=factory_id, status=status, page=page
        )
    return Page[LinkOut](items=[LinkOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("/v1/sourcing-links/{link_id}/confirm", tags=["sourcing links"], summary="Confirm a declared link")
async def confirm_link(link_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> LinkOut:
    async with database_of(request).unit_of_work() as uow:
        return LinkOut.model_validate(await service.confirm_link(uow, principal=principal, link_id=link_id))


class LinkEnd(_Strict):
    end_date: date


@router.post("/v1/sourcing-links/{link_id}/end", tags=["sourcing links"], summary="End a link")
async def end_link(link_id: uuid.UUID, body: LinkEnd, request: Request, principal: CurrentPrincipal) -> LinkOut:
    async with database_of(request).unit_of_work() as uow:
        return LinkOut.model_validate(
            await service.end_link(uow, principal=principal, link_id=link_id, end_date=body.end_date)
        )


class ConsentIn(_Strict):
    buyer_id: uuid.UUID
    scopes: list[Scope] = Field(min_length=1, description="assessment_reports, progress_reports, zero_tolerance_alerts")
    expires_at: datetime | None = Field(default=None, description="Default: until revoked.")


class ConsentOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    buyer_id: uuid.UUID
    scopes: list[Scope]
    granted_at: datetime
    granted_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: Literal["revoked", "expired"] | None


@router.post(
    "/v1/factories/{factory_id}/consents",
    status_code=201,
    tags=["consent"],
    summary="The factory grants a buyer access",
)
async def grant_consent(
    factory_id: uuid.UUID, body: ConsentIn, request: Request, principal: CurrentPrincipal
) -> ConsentOut:
    """By the factory's own users (or staff on its behalf). Access opens only with an entitlement as well."""
    async with database_of(request).unit_of_work() as uow:
        row = await service.grant_consent(
            uow,
            principal=principal,
            factory_id=factory_id,
            buyer_id=body.buyer_id,
            scopes=body.scopes,
            expires_at=body.expires_at,
        )
    return ConsentOut.model_validate(row)


@router.get("/v1/consents", tags=["consent"], summary="Consents and their history")
async def list_consents(
    request: Request,
    principal: CurrentPrincipal,
    page: PageQuery,
    factory_id: uuid.UUID | None = None,
    buyer_id: uuid.UUID | None = None,
    current: bool | None = None,
) -> Page[ConsentOut]:
    async with database_of(request).unit_of_work() as uow:
        rows, cursor = await service.list_consents(
            uow, principal=principal, factory_id=factory_id, buyer_id=buyer_id, current=current, page=page
        )
    return Page[ConsentOut](items=[ConsentOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("/v1/consents/{consent_id}/revoke", tags=["consent"], summary="Revoke a consent (at once)")
async def revoke_consent(consent_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> ConsentOut:
    async with database_of(request).unit_of_work() as uow:
        return ConsentOut.model_validate(await service.revoke_consent(uow, principal=principal, consent_id=consent_id))


class EntitlementIn(_Strict):
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int = Field(ge=1, description="The factory's reporting cycle (assessment report and two progress reports).")


class EntitlementOut(BaseModel):
    id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int
    source: Literal["staff", "credit", "payment"]
    granted_at: datetime
    granted_by: str


@router.post("/v1/entitlements", status_code=201, tags=["access"], summary="Unlock a reporting cycle for a buyer")
async def grant_entitlement(body: EntitlementIn, request: Request, principal: StaffPrincipal) -> EntitlementOut:
    """Staff grant one; credits and payments arrive as `entitlement.purchased` from invoicing."""
    async with database_of(request).unit_of_work() as uow:
        row = await service.grant_entitlement(
            uow, principal=principal, buyer_id=body.buyer_id, factory_id=body.factory_id, cycle=body.cycle
        )
    return EntitlementOut.model_validate(row)


class AccessOut(BaseModel):
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int
    granted: bool
    decided_at: datetime


@router.get("/v1/report-access", tags=["access"], summary="May this buyer read this factory's cycles?")
async def report_access(
    buyer_id: uuid.UUID, factory_id: uuid.UUID, request: Request, principal: CurrentPrincipal
) -> list[AccessOut]:
    """The decision per cycle as last published (a current consent and an entitlement)."""
    async with database_of(request).unit_of_work() as uow:
        rows = await service.access(uow, principal=principal, buyer_id=buyer_id, factory_id=factory_id)
    return [AccessOut.model_validate(r) for r in rows]


class AlertOut(BaseModel):
    id: uuid.UUID
    kind: str
    case_id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    category: str
    status: str
    buyer_ids: list[uuid.UUID]
    parties: list[str]
    endpoints: int = Field(description="Webhook endpoints the alert was sent to.")
    raised_at: datetime


@router.get("/v1/alerts", tags=["alerts"], summary="Alerts raised (staff: their country; a buyer: its own)")
async def list_alerts(
    request: Request, principal: CurrentPrincipal, factory_id: uuid.UUID | None = None
) -> list[AlertOut]:
    stmt = select(ALERT).order_by(ALERT.c.raised_at.desc()).limit(200)
    if factory_id:
        stmt = stmt.where(ALERT.c.factory_id == factory_id)
    if not principal.is_admin:
        country, buyer = principal.staff_country, principal.organisation(Role.BUYER)
        if country:
            stmt = stmt.where(ALERT.c.country == country)
        elif buyer:
            stmt = stmt.where(literal(buyer) == any_(ALERT.c.buyer_ids))
        else:
            raise NotFound("No alerts.")
    async with database_of(request).unit_of_work() as uow:
        rows = (await uow.session.execute(stmt)).mappings().all()
    return [AlertOut.model_validate(dict(r)) for r in rows]
