"""Buyers, sourcing links, consent, entitlements, the access decision and alerts over HTTP."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from partnerships.api.relationship_models import (
    AccessOut,
    AlertOut,
    BuyerIn,
    BuyerOut,
    BuyerPatch,
    ConsentIn,
    ConsentOut,
    EntitlementIn,
    EntitlementOut,
    LinkEnd,
    LinkIn,
    LinkOut,
)
from partnerships.domain.relationships import Buyer, Tier, TierChange
from partnerships.service import alerts, buyers, consents, links
from partnerships.service import report_access as access_decisions
from servicekit.auth import Principal
from servicekit.database import Database, database_of
from servicekit.edge import AnyPrincipal, StaffPrincipal, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.hot import HotRead
from servicekit.pagination import Page, PageQuery

router = APIRouter(responses=PROBLEM_RESPONSES)
_ACCESS_LIST = TypeAdapter(list[AccessOut])
AlertKind = Literal["zero_tolerance.case_opened", "zero_tolerance.case_updated", "industry_alert"]


def _buyer(buyer: Buyer, history: list[TierChange] | None = None) -> BuyerOut:
    out = asdict(buyer)
    if history is not None:
        out["tier_history"] = [asdict(h) for h in history]
    return BuyerOut.model_validate(out)


@router.post("/v1/buyers", status_code=201, tags=["buyers"], summary="Register a buyer")
async def register_buyer(body: BuyerIn, uow: UnitOfWorkDep, principal: StaffPrincipal) -> BuyerOut:
    """Its users are those whose token carries `org` = the buyer id and the role `buyer`."""
    return _buyer(await buyers.register_buyer(uow, principal=principal, values=body.model_dump(mode="python")))


@router.get("/v1/buyers", tags=["buyers"], summary="Buyers (a buyer sees only itself)")
async def list_buyers(
    uow: UnitOfWorkDep, principal: AnyPrincipal, page: PageQuery, tier: Tier | None = None
) -> Page[BuyerOut]:
    found, cursor = await buyers.list_buyers(uow, principal=principal, tier=tier.value if tier else None, page=page)
    return Page[BuyerOut](items=[_buyer(b) for b in found], next_cursor=cursor)


@router.get("/v1/buyers/{buyer_id}", tags=["buyers"], summary="One buyer with its tier history")
async def get_buyer(buyer_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> BuyerOut:
    return _buyer(*await buyers.get_buyer(uow, principal=principal, buyer_id=buyer_id))


@router.patch("/v1/buyers/{buyer_id}", tags=["buyers"], summary="Change a buyer (agreement, contacts, tier)")
async def update_buyer(
    buyer_id: uuid.UUID, body: BuyerPatch, uow: UnitOfWorkDep, principal: StaffPrincipal
) -> BuyerOut:
    """Staff of the buyer's home programme (`home_country`) or an admin; other staff 403. A tier change is kept
    in the history and published (`buyer.tier_changed`)."""
    values = body.model_dump(mode="python", exclude_unset=True)
    return _buyer(*await buyers.update_buyer(uow, principal=principal, buyer_id=buyer_id, values=values))


@router.post("/v1/sourcing-links", status_code=201, tags=["sourcing links"], summary="Declare a sourcing link")
async def declare_link(body: LinkIn, uow: UnitOfWorkDep, principal: AnyPrincipal) -> LinkOut:
    """Declared by the buyer or the factory, confirmed by the other side or by staff (staff's own are confirmed)."""
    link = await links.declare_link(
        uow, principal=principal, buyer_id=body.buyer_id, factory_id=body.factory_id, start_date=body.start_date
    )
    return LinkOut.model_validate(link, from_attributes=True)


@router.get("/v1/sourcing-links", tags=["sourcing links"], summary="Sourcing links the caller may see")
async def list_links(
    uow: UnitOfWorkDep,
    principal: AnyPrincipal,
    page: PageQuery,
    buyer_id: uuid.UUID | None = None,
    factory_id: uuid.UUID | None = None,
    status: Literal["declared", "confirmed", "ended"] | None = None,
) -> Page[LinkOut]:
    found, cursor = await links.list_links(
        uow, principal=principal, buyer_id=buyer_id, factory_id=factory_id, status=status, page=page
    )
    return Page[LinkOut](items=[LinkOut.model_validate(r, from_attributes=True) for r in found], next_cursor=cursor)


@router.post("/v1/sourcing-links/{link_id}/confirm", tags=["sourcing links"], summary="Confirm a declared link")
async def confirm_link(link_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> LinkOut:
    link = await links.confirm_link(uow, principal=principal, link_id=link_id)
    return LinkOut.model_validate(link, from_attributes=True)


@router.post("/v1/sourcing-links/{link_id}/end", tags=["sourcing links"], summary="End a link")
async def end_link(link_id: uuid.UUID, body: LinkEnd, uow: UnitOfWorkDep, principal: AnyPrincipal) -> LinkOut:
    link = await links.end_link(uow, principal=principal, link_id=link_id, end_date=body.end_date)
    return LinkOut.model_validate(link, from_attributes=True)


@router.post(
    "/v1/factories/{factory_id}/consents",
    status_code=201,
    tags=["consent"],
    summary="The factory grants a buyer access",
)
async def grant_consent(
    factory_id: uuid.UUID, body: ConsentIn, uow: UnitOfWorkDep, principal: AnyPrincipal
) -> ConsentOut:
    """By the factory's own users (or staff on its behalf). Access opens only with an entitlement as well."""
    consent = await consents.grant_consent(
        uow,
        principal=principal,
        factory_id=factory_id,
        buyer_id=body.buyer_id,
        scopes=body.scopes,
        expires_at=body.expires_at,
    )
    return ConsentOut.model_validate(consent, from_attributes=True)


@router.get("/v1/consents", tags=["consent"], summary="Consents and their history")
async def list_consents(
    uow: UnitOfWorkDep,
    principal: AnyPrincipal,
    page: PageQuery,
    factory_id: uuid.UUID | None = None,
    buyer_id: uuid.UUID | None = None,
    current: bool | None = None,
) -> Page[ConsentOut]:
    found, cursor = await consents.list_consents(
        uow, principal=principal, factory_id=factory_id, buyer_id=buyer_id, current=current, page=page
    )
    items = [ConsentOut.model_validate(c, from_attributes=True) for c in found]
    return Page[ConsentOut](items=items, next_cursor=cursor)


@router.post("/v1/consents/{consent_id}/revoke", tags=["consent"], summary="Revoke a consent (at once)")
async def revoke_consent(consent_id: uuid.UUID, uow: UnitOfWorkDep, principal: AnyPrincipal) -> ConsentOut:
    consent = await consents.revoke_consent(uow, principal=principal, consent_id=consent_id)
    return ConsentOut.model_validate(consent, from_attributes=True)


@router.post("/v1/entitlements", status_code=201, tags=["access"], summary="Unlock a reporting cycle for a buyer")
async def grant_entitlement(body: EntitlementIn, uow: UnitOfWorkDep, principal: StaffPrincipal) -> EntitlementOut:
    """Staff grant one; credits and payments arrive as `entitlement.purchased` from invoicing."""
    entitlement = await access_decisions.grant_entitlement(
        uow, principal=principal, buyer_id=body.buyer_id, factory_id=body.factory_id, cycle=body.cycle
    )
    return EntitlementOut.model_validate(entitlement, from_attributes=True)


@router.get(
    "/v1/report-access",
    tags=["access"],
    summary="May this buyer read this factory's cycles?",
    response_model=list[AccessOut],
)
async def report_access(
    buyer_id: uuid.UUID, factory_id: uuid.UUID, request: Request, principal: AnyPrincipal
) -> Response:
    """The decision per cycle as last published (a current consent and an entitlement)."""
    return await access_answer(database_of(request), principal, buyer_id, factory_id)


async def access_answer(
    database: Database, principal: Principal, buyer_id: uuid.UUID, factory_id: uuid.UUID
) -> Response:
    """`GET /v1/report-access`, answered by the route above and by the edge (`HOT_READS`): one read-only
    statement (`Database.read_one`), no unit of work; the body is serialised once, here."""
    found = await access_decisions.access(database, principal=principal, buyer_id=buyer_id, factory_id=factory_id)
    decisions = [AccessOut.model_validate(d, from_attributes=True) for d in found]
    return Response(_ACCESS_LIST.dump_json(decisions), media_type="application/json")


# Asked before every report a buyer or an integration opens: the edge answers it without FastAPI's routing.
HOT_READS = [
    HotRead(
        "/v1/report-access",
        lambda call: access_answer(
            call.database, call.principal, call.query_uuid("buyer_id"), call.query_uuid("factory_id")
        ),
    )
]


@router.get("/v1/alerts", tags=["alerts"], summary="Alerts raised (staff: their country; a buyer: its own)")
async def list_alerts(
    uow: UnitOfWorkDep,
    principal: AnyPrincipal,
    page: PageQuery,
    factory_id: uuid.UUID | None = None,
    kind: Annotated[AlertKind | None, Query(description="Only alerts of this kind.")] = None,
) -> Page[AlertOut]:
    """Newest first (`sort=raised_at` for oldest first); cursor pages. A page since this release: it was a list
    of the latest 200 (see the README)."""
    found, cursor = await alerts.list_alerts(uow, principal=principal, page=page, factory_id=factory_id, kind=kind)
    return Page[AlertOut](items=[AlertOut.model_validate(a, from_attributes=True) for a in found], next_cursor=cursor)
