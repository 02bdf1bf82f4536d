"""SQL of buyers: load and save a buyer record, its tier history, pages of buyers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from partnerships.adapters.audit import AuditTrail
from partnerships.adapters.tables import BUYER, BUYER_TIER_CHANGE
from partnerships.domain.relationships import Buyer, Tier, TierChange
from servicekit.pagination import PageParams, paginate, resolve_sort


def _buyer(row: Mapping[Any, Any]) -> Buyer:
    return Buyer(
        id=row["id"],
        name=row["name"],
        headquarters_country=row["headquarters_country"],
        tier=Tier(row["tier"]),
        agreement_signed_on=row["agreement_signed_on"],
        agreement_commitments=list(row["agreement_commitments"] or []),
        agreement_review_date=row["agreement_review_date"],
        contacts=list(row["contacts"] or []),
        version=row["version"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
        home_country=row["home_country"],
    )


def _tier_change(row: Mapping[Any, Any]) -> TierChange:
    from_tier = Tier(row["from_tier"]) if row["from_tier"] else None
    return TierChange(from_tier, Tier(row["to_tier"]), row["at"], row["by_subject"], row["reason"])


def _values(buyer: Buyer) -> dict[str, Any]:
    values = asdict(buyer)
    values["tier"] = buyer.tier.value
    return values


class BuyerRepository(AuditTrail):
    """The buyers of one unit of work (and the audit trail their changes write to)."""

    async def load(self, buyer_id: uuid.UUID, *, for_update: bool = False) -> Buyer | None:
        stmt = select(BUYER).where(BUYER.c.id == buyer_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _buyer(row) if row is not None else None

    async def exists(self, buyer_id: uuid.UUID) -> bool:
        return (await self.session.execute(select(BUYER.c.id).where(BUYER.c.id == buyer_id))).first() is not None

    async def of_tiers(self, buyer_ids: Iterable[uuid.UUID], tiers: Iterable[str]) -> set[uuid.UUID]:
        """Those of `buyer_ids` whose current tier is one of `tiers`."""
        ids, wanted = list(buyer_ids), [str(t) for t in tiers]
        if not ids or not wanted:
            return set()
        rows = await self.session.execute(select(BUYER.c.id).where(BUYER.c.id.in_(ids), BUYER.c.tier.in_(wanted)))
        return set(rows.scalars())

    async def add(self, buyer: Buyer) -> None:
        await self.session.execute(BUYER.insert().values(**_values(buyer)))

    async def save(self, buyer: Buyer) -> None:
        """Write a changed buyer back (the caller holds its row lock: `load(for_update=True)`)."""
        values = _values(buyer)
        del values["id"]
        await self.session.execute(BUYER.update().where(BUYER.c.id == buyer.id).values(**values))

    async def add_tier_change(self, buyer_id: uuid.UUID, change: TierChange) -> None:
        await self.session.execute(
            BUYER_TIER_CHANGE.insert().values(
                buyer_id=buyer_id,
                from_tier=change.from_tier.value if change.from_tier else None,
                to_tier=change.to_tier.value,
                at=change.at,
                by_subject=change.by_subject,
                reason=change.reason,
            )
        )

    async def tier_history(self, buyer_id: uuid.UUID) -> list[TierChange]:
        rows = await self.session.execute(
            select(BUYER_TIER_CHANGE).where(BUYER_TIER_CHANGE.c.buyer_id == buyer_id).order_by(BUYER_TIER_CHANGE.c.id)
        )
        return [_tier_change(r) for r in rows.mappings()]

    async def page(
        self, page: PageParams, *, only: uuid.UUID | None = None, tier: str | None = None
    ) -> tuple[list[Buyer], str | None]:
        order = resolve_sort(page.sort, {"name": (BUYER.c.name, BUYER.c.id)}, "name")
        conditions = []
        if only is not None:
            conditions.append(BUYER.c.id == only)
        if tier:
            conditions.append(BUYER.c.tier == tier)
        rows, cursor = await paginate(self.session, select(BUYER).where(*conditions), order, page)
        return [_buyer(r._mapping) for r in rows], cursor
