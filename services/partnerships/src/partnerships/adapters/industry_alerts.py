"""SQL of industry alerts: who they reach (partners linked to a factory they concern), store one, read them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import any_, func, literal, or_, select

from partnerships.adapters.audit import AuditTrail
from partnerships.adapters.tables import BUYER, FACTORY_REF, INDUSTRY_ALERT, SOURCING_LINK
from partnerships.domain.industry_alerts import IndustryAlert
from partnerships.domain.relationships import LinkStatus
from servicekit.pagination import PageParams, paginate, resolve_sort

_FIELDS = [c.name for c in INDUSTRY_ALERT.c]


def _alert(row: Mapping[Any, Any]) -> IndustryAlert:
    values = {k: row[k] for k in _FIELDS}
    values["factory_ids"] = list(values["factory_ids"] or [])
    values["buyer_ids"] = list(values["buyer_ids"] or [])
    return IndustryAlert(**values)


class IndustryAlertRepository(AuditTrail):
    """Industry alerts of one unit of work (and the audit trail they write to)."""

    async def audience(
        self,
        *,
        country: str,
        tiers: Iterable[str],
        factory_ids: Iterable[uuid.UUID],
        province: str | None,
        today: date,
    ) -> dict[uuid.UUID, set[uuid.UUID]]:
        """Buyers of `tiers` with a current confirmed link to a live factory of `country` (among `factory_ids` or
        in `province` when given), each with the factories concerned it sources from."""
        wanted = [str(t) for t in tiers]
        if not wanted:
            return {}
        stmt = (
            select(SOURCING_LINK.c.buyer_id, SOURCING_LINK.c.factory_id)
            .join(FACTORY_REF, FACTORY_REF.c.factory_id == SOURCING_LINK.c.factory_id)
            .join(BUYER, BUYER.c.id == SOURCING_LINK.c.buyer_id)
            .where(
                FACTORY_REF.c.country == country,
                FACTORY_REF.c.merged_into.is_(None),
                SOURCING_LINK.c.status == LinkStatus.CONFIRMED.value,
                or_(SOURCING_LINK.c.start_date.is_(None), SOURCING_LINK.c.start_date <= today),
                BUYER.c.tier.in_(wanted),
            )
        )
        named = list(factory_ids)
        if named:
            stmt = stmt.where(SOURCING_LINK.c.factory_id.in_(named))
        if province:
            stmt = stmt.where(func.lower(FACTORY_REF.c.province) == province.strip().lower())
        found: dict[uuid.UUID, set[uuid.UUID]] = {}
        for buyer_id, factory_id in (await self.session.execute(stmt)).all():
            found.setdefault(buyer_id, set()).add(factory_id)
        return found

    async def sources_from(self, buyer_id: uuid.UUID, factory_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `factory_ids` the buyer has a link to that has not ended."""
        named = list(factory_ids)
        if not named:
            return set()
        rows = await self.session.execute(
            select(SOURCING_LINK.c.factory_id).where(
                SOURCING_LINK.c.buyer_id == buyer_id,
                SOURCING_LINK.c.factory_id.in_(named),
                SOURCING_LINK.c.status == LinkStatus.CONFIRMED.value,
            )
        )
        return set(rows.scalars())

    async def add(self, alert: IndustryAlert) -> None:
        await self.session.execute(INDUSTRY_ALERT.insert().values(**asdict(alert)))

    async def load(
        self, alert_id: uuid.UUID, *, country: str | None = None, buyer_id: uuid.UUID | None = None
    ) -> IndustryAlert | None:
        """The alert, if it is of `country` and was sent to `buyer_id` (each if given)."""
        stmt = select(INDUSTRY_ALERT).where(INDUSTRY_ALERT.c.id == alert_id, *_narrowed(country, buyer_id))
        row = (await self.session.execute(stmt)).mappings().first()
        return _alert(row) if row is not None else None

    async def page(
        self,
        page: PageParams,
        *,
        country: str | None = None,
        buyer_id: uuid.UUID | None = None,
        kind: str | None = None,
    ) -> tuple[list[IndustryAlert], str | None]:
        """Newest first by default, narrowed to a country, a buyer it was sent to and a kind (each if given)."""
        order = resolve_sort(page.sort, {"issued_at": (INDUSTRY_ALERT.c.issued_at, INDUSTRY_ALERT.c.id)}, "-issued_at")
        stmt = select(INDUSTRY_ALERT).where(*_narrowed(country, buyer_id))
        if kind:
            stmt = stmt.where(INDUSTRY_ALERT.c.kind == kind)
        rows, cursor = await paginate(self.session, stmt, order, page)
        return [_alert(r._mapping) for r in rows], cursor


def _narrowed(country: str | None, buyer_id: uuid.UUID | None) -> list[Any]:
    conditions: list[Any] = []
    if country:
        conditions.append(INDUSTRY_ALERT.c.country == country)
    if buyer_id:
        conditions.append(literal(buyer_id) == any_(INDUSTRY_ALERT.c.buyer_ids))
    return conditions
