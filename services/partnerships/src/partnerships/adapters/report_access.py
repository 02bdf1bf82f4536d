"""SQL of entitlements and of the access decisions last published per buyer, factory and cycle."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from partnerships.adapters.audit import AuditTrail
from partnerships.adapters.tables import ENTITLEMENT, REPORT_ACCESS
from partnerships.domain.relationships import AccessDecision, Entitlement, Scope
from servicekit.database import Database


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

    async def published(
        self, buyer_id: uuid.UUID, factory_id: uuid.UUID, scope: Scope = Scope.ASSESSMENT_REPORTS
    ) -> dict[int, bool]:
        """The decision last published per cycle for one scope."""
        column = _DECISION[scope]
        rows = await self.session.execute(
            select(REPORT_ACCESS.c.cycle, column.label("granted")).where(
                REPORT_ACCESS.c.buyer_id == buyer_id, REPORT_ACCESS.c.factory_id == factory_id
            )
        )
        return {r.cycle: r.granted for r in rows}

    async def publish(
        self, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int, granted: bool, now: datetime,
        scope: Scope = Scope.ASSESSMENT_REPORTS,
    ) -> None:  # fmt: skip
        """Record the decision of one scope; the other scope's decision of the cycle stays as it was (closed for a
        cycle seen for the first time)."""
        column = _DECISION[scope].name
        values = {"granted": False, "progress_granted": False, column: granted}
        stmt = insert(REPORT_ACCESS).values(
            buyer_id=buyer_id, factory_id=factory_id, cycle=cycle, decided_at=now, **values
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["buyer_id", "factory_id", "cycle"], set_={column: granted, "decided_at": now}
            )
        )

    async def buyers_granted(self, factory_id: uuid.UUID, cycle: int) -> list[uuid.UUID]:
        """Buyers whose published decision lets them read the factory's assessment report of `cycle`."""
        rows = await self.session.execute(
            select(REPORT_ACCESS.c.buyer_id)
            .where(REPORT_ACCESS.c.factory_id == factory_id, REPORT_ACCESS.c.cycle == cycle, REPORT_ACCESS.c.granted)
            .order_by(REPORT_ACCESS.c.buyer_id)
        )
        return list(rows.scalars())

    async def decisions(self, buyer_id: uuid.UUID, factory_id: uuid.UUID) -> list[AccessDecision]:
        rows = await self.session.execute(
            select(REPORT_ACCESS)
            .where(REPORT_ACCESS.c.buyer_id == buyer_id, REPORT_ACCESS.c.factory_id == factory_id)
            .order_by(REPORT_ACCESS.c.cycle)
        )
        return [
            AccessDecision(
                buyer_id=r.buyer_id, factory_id=r.factory_id, cycle=r.cycle, granted=bool(r.granted),
                decided_at=r.decided_at, progress_reports_granted=r.progress_granted,
            )
            for r in rows
        ]  # fmt: skip


_DECISION = {
    Scope.ASSESSMENT_REPORTS: REPORT_ACCESS.c.granted,
    Scope.PROGRESS_REPORTS: REPORT_ACCESS.c.progress_granted,
}


# One read-only statement (prepared once per read connection): the factory's country, which decides whether
# staff may ask, and the pair's decisions by cycle as parallel arrays (one row, whatever the number of cycles).
_DECISIONS_WITH_COUNTRY = """
SELECT (SELECT country FROM factory_ref WHERE factory_id = $2) AS country,
       array_agg(cycle ORDER BY cycle) AS cycles,
       array_agg(granted ORDER BY cycle) AS granted,
       array_agg(decided_at ORDER BY cycle) AS decided_at,
       array_agg(progress_granted ORDER BY cycle) AS progress_granted
  FROM report_access
 WHERE buyer_id = $1 AND factory_id = $2
"""


async def decisions_with_country(
    database: Database, buyer_id: uuid.UUID, factory_id: uuid.UUID
) -> tuple[str | None, list[AccessDecision]]:
    """The factory's country (None if unknown) and the decisions last published for the pair, by cycle."""
    row = await database.read_one(_DECISIONS_WITH_COUNTRY, buyer_id, factory_id)
    assert row is not None  # an aggregate without GROUP BY always answers one row
    cycles = row["cycles"] or []
    decisions = [
        AccessDecision(
            buyer_id=buyer_id, factory_id=factory_id, cycle=cycle, granted=bool(granted), decided_at=decided_at,
            progress_reports_granted=progress,
        )
        for cycle, granted, decided_at, progress in zip(
            cycles, row["granted"] or [], row["decided_at"] or [], row["progress_granted"] or [], strict=True
        )
    ]  # fmt: skip
    return row["country"], decisions
