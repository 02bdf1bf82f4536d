"""SQL of entitlements and of the access decisions last published per buyer, factory and cycle."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from partnerships.adapters.audit import AuditTrail
from partnerships.adapters.tables import ENTITLEMENT, REPORT_ACCESS
from partnerships.domain.relationships import AccessDecision, Entitlement


class AccessRepository(AuditTrail):
    """Entitlements and published access decisions of one unit of work."""

    async def add_entitlement(self, entitlement: Entitlement) -> bool:
        """Store it unless the buyer holds that cycle already (then False: nothing changed)."""
        stmt = insert(ENTITLEMENT).values(**asdict(entitlement)).on_conflict_do_nothing().returning(ENTITLEMENT.c.id)
        return (await self.session.execute(stmt)).first() is not None

    async def entitled_cycles(self, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> set[int]:
        rows = await self.session.execute(
            select(ENTITLEMENT.c.cycle).where(
                ENTITLEMENT.c.buyer_id == buyer_id, ENTITLEMENT.c.factory_id == factory_id
            )
        )
        return set(rows.scalars())

    async def published(self, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> dict[int, bool]:
        """The decision last published per cycle."""
        rows = await self.session.execute(
            select(REPORT_ACCESS.c.cycle, REPORT_ACCESS.c.granted).where(
                REPORT_ACCESS.c.buyer_id == buyer_id, REPORT_ACCESS.c.factory_id == factory_id
            )
        )
        return {r.cycle: r.granted for r in rows}

    async def publish(self, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int, granted: bool,
                      now: datetime) -> None:  # fmt: skip
        stmt = insert(REPORT_ACCESS).values(
            buyer_id=buyer_id, factory_id=factory_id, cycle=cycle, granted=granted, decided_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["buyer_id", "factory_id", "cycle"], set_={"granted": granted, "decided_at": now}
            )
        )

    async def decisions(self, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> list[AccessDecision]:
        rows = await self.session.execute(
            select(REPORT_ACCESS)
            .where(REPORT_ACCESS.c.buyer_id == buyer_id, REPORT_ACCESS.c.factory_id == factory_id)
            .order_by(REPORT_ACCESS.c.cycle)
        )
        return [AccessDecision(**r) for r in rows.mappings()]
