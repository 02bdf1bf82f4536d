"""Routes every service has: who the caller is, and the service's audit history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, BeforeValidator
from sqlalchemy import false

from servicekit.audit import COUNTRY_KEY, AuditEventPublic, audit_table
from servicekit.auth import CurrentPrincipal, Principal, Role, require
from servicekit.database import database_of
from servicekit.errors import PROBLEM_RESPONSES
from servicekit.pagination import Page, PageQuery, apply_filters, paginate, resolve_sort

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


def _iso_8601_only(value: Any) -> Any:
    """Refuse numbers (pydantic reads `0.5` as seconds since 1970): a time in a query is ISO 8601 text."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("give a date or time in ISO 8601 (2027-01-31 or 2027-01-31T08:00:00Z), not a number")
    return value


# A date-time query parameter: ISO 8601 only.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601_only)]


class PrincipalPublic(BaseModel):
    subject: str
    roles: list[str]
    organisation_id: str | None
    country: str | None
    scopes: list[str]
    service: str


@router.get("/me", tags=["platform"], summary="The caller as this service sees it")
async def get_current_principal(request: Request, principal: CurrentPrincipal) -> PrincipalPublic:
    """Echo the verified identity: a quick check that a token is accepted here."""
    return PrincipalPublic(**principal.as_public_dict(), service=request.app.state.service_name)


@router.get("/audit-events", tags=["platform"], summary="Audit history of this service")
async def list_audit_events(
    request: Request,
    page: PageQuery,
    principal: Annotated[Principal, Depends(require(Role.STAFF))],
    entity_type: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    actor: Annotated[str | None, Query(max_length=256)] = None,
    since: Annotated[IsoDateTime | None, Query(description="Only events at or after this time (ISO 8601).")] = None,
) -> Page[AuditEventPublic]:
    """Staff read who changed what and why in their own country's programme, newest first by default; admins
    read everything."""
    database = database_of(request)
    table = audit_table(database.schema)
    order = resolve_sort(
        page.sort,
        {"occurred_at": (table.c.occurred_at, table.c.id)},
        default="-occurred_at",
    )
    stmt: Any = apply_filters(
        table.select(),
        {table.c.entity_type: entity_type, table.c.entity_id: entity_id, table.c.actor: actor},
    )
    if since is not None:
        stmt = stmt.where(table.c.occurred_at >= since)
    if not principal.is_admin:
        country = principal.staff_country
        stmt = stmt.where(table.c.details[COUNTRY_KEY].astext == country if country else false())
    async with database.unit_of_work() as uow:
        rows, next_cursor = await paginate(uow.session, stmt, order, page)
    return Page(items=[AuditEventPublic.of_row(row._mapping) for row in rows], next_cursor=next_cursor)
