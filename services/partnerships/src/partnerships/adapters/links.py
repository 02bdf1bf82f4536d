"""SQL of sourcing links: load and save a link, find the open one between a buyer and a factory, pages of links;
and which relationship rows a caller may see (links and consents alike)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import or_, select

from partnerships.adapters.audit import AuditTrail
from partnerships.adapters.factory_refs import of_country
from partnerships.adapters.tables import SOURCING_LINK
from partnerships.domain.relationships import LinkStatus, Side, SourcingLink
from servicekit.auth import Principal, Role
from servicekit.errors import Forbidden
from servicekit.pagination import PageParams, paginate, resolve_sort


def visible_rows(principal: Principal, table: sa.Table) -> Any:
    """Rows the caller may see: its own buyer's or factory's, or every one of a staff member's country."""
    if principal.is_admin:
        return sa.true()
    clauses = []
    buyer = principal.organisation(Role.BUYER)
    if buyer is not None:
        clauses.append(table.c.buyer_id == buyer)
    own_factory = principal.organisation(Role.FACTORY)
    if own_factory is not None:
        clauses.append(table.c.factory_id == own_factory)
    country = principal.staff_country
    if country:
        clauses.append(table.c.factory_id.in_(of_country(country)))
    if not clauses:
        raise Forbidden("Only staff, buyers and factories see sourcing links and consents.")
    return or_(*clauses)


def _link(row: Mapping[Any, Any]) -> SourcingLink:
    return SourcingLink(
        id=row["id"],
        buyer_id=row["buyer_id"],
        factory_id=row["factory_id"],
        status=LinkStatus(row["status"]),
        declared_by=Side(row["declared_by"]),
        declared_by_subject=row["declared_by_subject"],
        confirmed_by=Side(row["confirmed_by"]) if row["confirmed_by"] else None,
        confirmed_by_subject=row["confirmed_by_subject"],
        confirmed_at=row["confirmed_at"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _values(link: SourcingLink) -> dict[str, Any]:
    values = asdict(link)
    for name in ("status", "declared_by", "confirmed_by"):
        values[name] = values[name].value if values[name] is not None else None
    return values


class LinkRepository(AuditTrail):
    """The sourcing links of one unit of work (and the audit trail their changes write to)."""

    async def load(self, link_id: uuid.UUID, *, for_update: bool = False) -> SourcingLink | None:
        stmt = select(SOURCING_LINK).where(SOURCING_LINK.c.id == link_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _link(row) if row is not None else None

    async def open_between(self, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> uuid.UUID | None:
        """The link of the buyer and the factory that has not ended, if there is one."""
        found: uuid.UUID | None = (
            await self.session.execute(
                select(SOURCING_LINK.c.id).where(
                    SOURCING_LINK.c.buyer_id == buyer_id,
                    SOURCING_LINK.c.factory_id == factory_id,
                    SOURCING_LINK.c.status != LinkStatus.ENDED.value,
                )
            )
        ).scalar()
        return found

    async def add(self, link: SourcingLink) -> None:
        await self.session.execute(SOURCING_LINK.insert().values(**_values(link)))

    async def save(self, link: SourcingLink) -> None:
        values = _values(link)
        del values["id"]
        await self.session.execute(SOURCING_LINK.update().where(SOURCING_LINK.c.id == link.id).values(**values))

    async def page(
        self,
        principal: Principal,
        page: PageParams,
        *,
        buyer_id: uuid.UUID | None,
        factory_id: uuid.UUID | None,
        status: str | None,
    ) -> tuple[list[SourcingLink], str | None]:
        order = resolve_sort(page.sort, {"created_at": (SOURCING_LINK.c.created_at, SOURCING_LINK.c.id)}, "-created_at")
        conditions = [visible_rows(principal, SOURCING_LINK)]
        if buyer_id:
            conditions.append(SOURCING_LINK.c.buyer_id == buyer_id)
        if factory_id:
            conditions.append(SOURCING_LINK.c.factory_id == factory_id)
        if status:
            conditions.append(SOURCING_LINK.c.status == status)
        rows, cursor = await paginate(self.session, select(SOURCING_LINK).where(*conditions), order, page)
        return [_link(r._mapping) for r in rows], cursor

    async def linked_buyers(self, factory_id: uuid.UUID, today: date) -> set[uuid.UUID]:
        """Buyers with a confirmed link to the factory that has started and not ended."""
        rows = await self.session.execute(
            select(SOURCING_LINK.c.buyer_id).where(
                SOURCING_LINK.c.factory_id == factory_id,
                SOURCING_LINK.c.status == LinkStatus.CONFIRMED.value,
                or_(SOURCING_LINK.c.start_date.is_(None), SOURCING_LINK.c.start_date <= today),
            )
        )
        return set(rows.scalars())
