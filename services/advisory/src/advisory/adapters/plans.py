"""SQL of improvement plans, their items, the moves of items and their evidence: returns domain records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from advisory.adapters.tables import EVIDENCE, ITEM, ITEM_MOVE, PLAN, SCHEMA
from advisory.domain.plan import Item, ItemStatus, Move, Plan, Severity, Source
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.pagination import PageParams, paginate, resolve_sort

_PLAN_SORTS = {"created_at": (PLAN.c.created_at, PLAN.c.id)}
_ITEM_SORTS = {"due_date": (ITEM.c.due_date, ITEM.c.id)}


def _plan(row: Mapping[Any, Any]) -> Plan:
    return Plan(
        id=row["id"],
        factory_id=row["factory_id"],
        country=row["country"],
        cycle=row["cycle"],
        assessment_id=row["assessment_id"],
        released_on=row["released_on"],
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


def _item(row: Mapping[Any, Any]) -> Item:
    values = {k: row[k] for k in Item.__dataclass_fields__}
    values.update(source=Source(row["source"]), severity=Severity(row["severity"]), status=ItemStatus(row["status"]))
    return Item(**values)


def _item_row(item: Item) -> dict[str, Any]:
    row = asdict(item)
    row.update(source=item.source.value, severity=item.severity.value, status=item.status.value)
    return row


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- plans

    async def add_plan(self, plan: Plan) -> bool:
        """Insert the plan; False when the factory already has one for that cycle."""
        stmt = insert(PLAN).values(**asdict(plan)).on_conflict_do_nothing(index_elements=["factory_id", "cycle"])
        return (await self.session.execute(stmt.returning(PLAN.c.id))).first() is not None

    async def plan_of(self, factory_id: uuid.UUID, cycle: int, *, for_update: bool = False) -> Plan | None:
        stmt = select(PLAN).where(PLAN.c.factory_id == factory_id, PLAN.c.cycle == cycle)
        row = (await self.session.execute(stmt.with_for_update() if for_update else stmt)).mappings().first()
        return _plan(row) if row is not None else None

    async def load_plan(self, plan_id: uuid.UUID) -> Plan | None:
        row = (await self.session.execute(select(PLAN).where(PLAN.c.id == plan_id))).mappings().first()
        return _plan(row) if row is not None else None

    async def latest_plan(self, factory_id: uuid.UUID) -> Plan | None:
        stmt = select(PLAN).where(PLAN.c.factory_id == factory_id).order_by(PLAN.c.cycle.desc()).limit(1)
        row = (await self.session.execute(stmt)).mappings().first()
        return _plan(row) if row is not None else None

    async def set_release(self, plan_id: uuid.UUID, assessment_id: uuid.UUID, released_on: Any) -> None:
        """A plan opened by hand (self-diagnosis) learns the assessment of its cycle when it is released."""
        await self.session.execute(
            PLAN.update()
            .where(PLAN.c.id == plan_id, PLAN.c.assessment_id.is_(None))
            .values(assessment_id=assessment_id, released_on=released_on)
        )

    async def search_plans(
        self, *, country: str | None, factory_id: uuid.UUID | None, page: PageParams
    ) -> tuple[list[Plan], str | None]:
        stmt = select(PLAN)
        if country is not None:
            stmt = stmt.where(PLAN.c.country == country)
        if factory_id is not None:
            stmt = stmt.where(PLAN.c.factory_id == factory_id)
        rows, cursor = await paginate(self.session, stmt, resolve_sort(page.sort, _PLAN_SORTS, "created_at"), page)
        return [_plan(r._mapping) for r in rows], cursor

    # ---- items

    async def add_items(self, items: Sequence[Item]) -> None:
        if items:
            await self.session.execute(insert(ITEM), [_item_row(i) for i in items])

    async def save_item(self, item: Item) -> None:
        """Write the item's new version (the caller loaded it `for_update`, so no other change interleaves)."""
        row = _item_row(item)
        await self.session.execute(ITEM.update().where(ITEM.c.id == item.id).values(**row))

    async def load_item(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        stmt = select(ITEM).where(ITEM.c.id == item_id)
        row = (await self.session.execute(stmt.with_for_update() if for_update else stmt)).mappings().first()
        return _item(row) if row is not None else None

    async def items_of(self, plan_id: uuid.UUID) -> list[Item]:
        stmt = select(ITEM).where(ITEM.c.plan_id == plan_id).order_by(ITEM.c.due_date, ITEM.c.question_code, ITEM.c.id)
        return [_item(r) for r in (await self.session.execute(stmt)).mappings()]

    async def page_items(
        self, plan_id: uuid.UUID, *, status: ItemStatus | None, page: PageParams
    ) -> tuple[list[Item], str | None]:
        stmt = select(ITEM).where(ITEM.c.plan_id == plan_id)
        if status is not None:
            stmt = stmt.where(ITEM.c.status == status.value)
        rows, cursor = await paginate(self.session, stmt, resolve_sort(page.sort, _ITEM_SORTS, "due_date"), page)
        return [_item(r._mapping) for r in rows], cursor

    async def items_of_country(self, country: str) -> list[Item]:
        stmt = select(ITEM).where(ITEM.c.country == country)
        return [_item(r) for r in (await self.session.execute(stmt)).mappings()]

    async def latest_for_questions(
        self, factory_id: uuid.UUID, codes: Sequence[str], *, for_update: bool = False
    ) -> dict[str, Item]:
        """The factory's most recent item of each question (any plan), locked when `for_update`."""
        if not codes:
            return {}
        stmt = (
            select(ITEM)
            .join(PLAN, PLAN.c.id == ITEM.c.plan_id)
            .where(ITEM.c.factory_id == factory_id, ITEM.c.question_code.in_(list(codes)))
            .order_by(ITEM.c.question_code, PLAN.c.cycle.desc())
        )
        latest: dict[str, Item] = {}
        for row in (await self.session.execute(stmt.with_for_update(of=ITEM) if for_update else stmt)).mappings():
            latest.setdefault(row["question_code"], _item(row))
        return latest

    async def add_moves(self, moves: Sequence[Move]) -> None:
        if moves:
            await self.session.execute(
                insert(ITEM_MOVE),
                [
                    {
                        "item_id": m.item_id,
                        "from_status": m.from_status.value,
                        "to_status": m.to_status.value,
                        "at": m.at,
                        "by_subject": m.by,
                        "reason": m.reason,
                    }
                    for m in moves
                ],
            )

    async def moves(self, item_id: uuid.UUID) -> list[Move]:
        stmt = select(ITEM_MOVE).where(ITEM_MOVE.c.item_id == item_id).order_by(ITEM_MOVE.c.id)
        return [
            Move(
                r["item_id"],
                ItemStatus(r["from_status"]),
                ItemStatus(r["to_status"]),
                r["at"],
                r["by_subject"],
                r["reason"],
            )
            for r in (await self.session.execute(stmt)).mappings()
        ]

    async def moves_of(self, item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Move]]:
        """The recorded moves of many items at once, in order."""
        if not item_ids:
            return {}
        stmt = select(ITEM_MOVE).where(ITEM_MOVE.c.item_id.in_(list(item_ids))).order_by(ITEM_MOVE.c.id)
        found: dict[uuid.UUID, list[Move]] = {}
        for r in (await self.session.execute(stmt)).mappings():
            found.setdefault(r["item_id"], []).append(
                Move(
                    r["item_id"],
                    ItemStatus(r["from_status"]),
                    ItemStatus(r["to_status"]),
                    r["at"],
                    r["by_subject"],
                    r["reason"],
                )
            )
        return found

    # ---- evidence

    async def add_evidence(self, row: dict[str, Any]) -> None:
        await self.session.execute(insert(EVIDENCE).values(**row))

    async def evidence_of(self, item_id: uuid.UUID) -> list[dict[str, Any]]:
        columns = [c for c in EVIDENCE.c if c.name != "content"]
        stmt = select(*columns).where(EVIDENCE.c.item_id == item_id).order_by(EVIDENCE.c.uploaded_at)
        return [dict(r) for r in (await self.session.execute(stmt)).mappings()]

    async def evidence_file(self, item_id: uuid.UUID, evidence_id: uuid.UUID) -> dict[str, Any] | None:
        stmt = select(EVIDENCE).where(EVIDENCE.c.item_id == item_id, EVIDENCE.c.id == evidence_id)
        row = (await self.session.execute(stmt)).mappings().first()
        return dict(row) if row is not None else None

    async def evidence_bytes(self, item_id: uuid.UUID) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(EVIDENCE.c.size_bytes), 0)).where(EVIDENCE.c.item_id == item_id)
        )
        return int(total or 0)

    # ---- audit

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        country: str | None = None,
    ) -> None:
        """An audit row of the change; `country` is the record's (default: the actor's), which decides who reads it."""
        await record_audit(
            self.session,
            schema=SCHEMA,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            reason=reason,
            details=details,
            country=country,
        )
