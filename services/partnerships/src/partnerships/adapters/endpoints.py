"""SQL of webhook endpoints: which ones a caller may see, load and save one, pages of them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import Text, and_, cast, false, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from partnerships.adapters.audit import AuditTrail
from partnerships.adapters.tables import BUYER, WEBHOOK_ENDPOINT
from partnerships.domain.endpoints import BUYER_OWNER, DELETED, SERVICE_OWNER, Endpoint
from servicekit.auth import Principal, Role
from servicekit.pagination import PageParams, paginate, resolve_sort

ENDPOINTS = WEBHOOK_ENDPOINT
_FIELDS = [c.name for c in ENDPOINTS.c]


def buyer_of(principal: Principal) -> str | None:
    """The caller's buyer id as endpoints store it (canonical UUID text), whatever case the token used."""
    buyer = principal.organisation(Role.BUYER)
    return str(buyer) if buyer is not None else None


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Endpoints the caller may see: its own (buyer organisation or service client), staff their country's."""
    live = ENDPOINTS.c.status != DELETED
    if principal.is_admin:
        return live
    mine: list[ColumnElement[bool]] = []
    if (buyer := buyer_of(principal)) is not None:
        mine.append(and_(ENDPOINTS.c.owner_type == BUYER_OWNER, ENDPOINTS.c.owner_id == buyer))
    if Role.SERVICE in principal.roles:
        mine.append(and_(ENDPOINTS.c.owner_type == SERVICE_OWNER, ENDPOINTS.c.owner_id == principal.subject))
    if (country := principal.staff_country) is not None:
        # Staff see their country's service clients' endpoints and those of the buyers their programme manages
        # (the buyer's home country); another programme's endpoints answer 404 like ids that exist nowhere.
        managed = select(cast(BUYER.c.id, Text)).where(BUYER.c.home_country == country)
        mine.append(ENDPOINTS.c.country == country)
        mine.append(and_(ENDPOINTS.c.owner_type == BUYER_OWNER, ENDPOINTS.c.owner_id.in_(managed)))
    return and_(live, or_(*mine)) if mine else false()


def _endpoint(row: Mapping[Any, Any]) -> Endpoint:
    values = {k: row[k] for k in _FIELDS}
    values["secrets"] = list(values["secrets"] or [])
    values["event_types"] = list(values["event_types"] or [])
    return Endpoint(**values)


class EndpointRepository(AuditTrail):
    """The webhook endpoints of one unit of work (and the audit trail their changes write to)."""

    async def visible(self, principal: Principal, endpoint_id: uuid.UUID, *, lock: bool = False) -> Endpoint | None:
        """The endpoint if the caller may see it; `lock` takes FOR NO KEY UPDATE (enqueue's inserts still pass)."""
        stmt = select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id, _visible(principal))
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        row = (await self.session.execute(stmt)).mappings().first()
        return _endpoint(row) if row is not None else None

    async def with_secrets_for_update(self) -> list[Endpoint]:
        """Every endpoint that stores signing secrets (deleted ones too), locked for a re-seal, in id order."""
        stmt = (
            select(ENDPOINTS)
            .where(func.jsonb_array_length(func.coalesce(ENDPOINTS.c.secrets, func.jsonb_build_array())) > 0)
            .order_by(ENDPOINTS.c.id)
            .with_for_update(key_share=True)
        )
        return [_endpoint(row) for row in (await self.session.execute(stmt)).mappings()]

    async def count_live(self, owner_type: str, owner_id: str) -> int:
        """The owner's endpoints not deleted, counted under a transaction lock per owner (two registrations
        at once cannot both pass the cap)."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"webhook-owner:{owner_id}"))))
        stmt = select(func.count()).where(
            ENDPOINTS.c.owner_type == owner_type, ENDPOINTS.c.owner_id == owner_id, ENDPOINTS.c.status != DELETED
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def add(self, endpoint: Endpoint) -> None:
        await self.session.execute(ENDPOINTS.insert().values(**asdict(endpoint)))

    async def save(self, endpoint: Endpoint) -> None:
        values = asdict(endpoint)
        del values["id"]
        await self.session.execute(ENDPOINTS.update().where(ENDPOINTS.c.id == endpoint.id).values(**values))

    async def page(
        self, principal: Principal, page: PageParams, *, status: str | None
    ) -> tuple[list[Endpoint], str | None]:
        order = resolve_sort(page.sort, {"created_at": (ENDPOINTS.c.created_at, ENDPOINTS.c.id)}, "-created_at")
        stmt = select(ENDPOINTS).where(_visible(principal))
        if status is not None:
            stmt = stmt.where(ENDPOINTS.c.status == status)
        rows, cursor = await paginate(self.session, stmt, order, page)
        return [_endpoint(r._mapping) for r in rows], cursor

    async def _home_country_of_owner(self, endpoint_id: uuid.UUID) -> str | None:
        """The home programme of the buyer owning the endpoint (None for a service client's endpoint)."""
        stmt = (
            select(BUYER.c.home_country)
            .select_from(ENDPOINTS.join(BUYER, ENDPOINTS.c.owner_id == cast(BUYER.c.id, Text)))
            .where(ENDPOINTS.c.id == endpoint_id, ENDPOINTS.c.owner_type == BUYER_OWNER)
        )
        home: str | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return home

    async def audit(
        self,
        actor: Principal,
        action: str,
        endpoint_id: uuid.UUID,
        details: dict[str, Any],
        country: str | None = None,
    ) -> None:
        """`country`: a service client's endpoint's country; a buyer's endpoint has none of its own, so its rows
        take the buyer's home programme (whose staff may see the endpoint), else the actor's country."""
        if country is None:
            country = await self._home_country_of_owner(endpoint_id)
        await self.record(
            actor,
            action=action,
            entity_type="webhook_endpoint",
            entity_id=endpoint_id,
            details=details,
            country=country,
        )
