"""SQL of zero-tolerance cases and their steps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, and_, false, func, not_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from assessments.adapters.tables import ZT_CASE, ZT_CASE_STEP, ZT_REFERRAL
from assessments.domain.zero_tolerance import FINISHED, ORDER, Case, CaseStatus, CaseStep, Channel, Referral, Source
from servicekit.pagination import PageParams, paginate, resolve_sort


def _case_of(row: Any) -> Case:
    return Case(
        id=row["id"],
        factory_id=row["factory_id"],
        country=row["country"],
        category=row["category"],
        source=Source(row["source"]),
        assessment_id=row["assessment_id"],
        question_code=row["question_code"],
        status=CaseStatus(row["status"]),
        details=row["details"],
        notify=tuple(row["notify"] or ()),
        deadlines=dict(row["deadlines"] or {}),
        opened_at=row["opened_at"],
        opened_by=row["opened_by"],
        updated_at=row["updated_at"],
    )


@dataclass(frozen=True)
class CaseFilters:
    country: str | None = None
    status: CaseStatus | None = None
    factory_id: uuid.UUID | None = None
    overdue: bool | None = None  # with a step past its deadline at `now` (or not)
    now: datetime | None = None


def _overdue_at(now: datetime) -> ColumnElement[bool]:
    """`Case.overdue_steps(now)` is not empty, in SQL: the case is unfinished and a step after its status is due
    before `now` (a step without a deadline is never late)."""
    late = []
    for reached, status in enumerate(ORDER):
        if status in FINISHED:
            continue
        due = [
            ZT_CASE.c.deadlines[step.value].astext.cast(DateTime(timezone=True)) < now for step in ORDER[reached + 1 :]
        ]
        late.append(and_(ZT_CASE.c.status == status.value, or_(*due)))
    return func.coalesce(or_(*late), false())  # a missing deadline compares as NULL: not late


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, case: Case, first_step: CaseStep) -> bool:
        """Store a new case and its first step; False (nothing stored) when its finding opened one already."""
        stmt = (
            insert(ZT_CASE)
            .values(
                id=case.id,
                factory_id=case.factory_id,
                country=case.country,
                category=case.category,
                source=case.source.value,
                assessment_id=case.assessment_id,
                question_code=case.question_code,
                status=case.status.value,
                details=case.details,
                notify=list(case.notify),
                deadlines=case.deadlines,
                opened_at=case.opened_at,
                opened_by=case.opened_by,
                updated_at=case.updated_at,
            )
            .on_conflict_do_nothing(
                index_elements=["assessment_id", "question_code"], index_where=ZT_CASE.c.assessment_id.is_not(None)
            )
            .returning(ZT_CASE.c.id)
        )
        if (await self.session.execute(stmt)).first() is None:
            return False
        await self.add_step(case.id, first_step)
        return True

    async def load(self, case_id: uuid.UUID, *, for_update: bool = False) -> Case | None:
        stmt = select(ZT_CASE).where(ZT_CASE.c.id == case_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _case_of(row) if row is not None else None

    async def save(self, case: Case) -> None:
        await self.session.execute(
            ZT_CASE.update().where(ZT_CASE.c.id == case.id).values(status=case.status.value, updated_at=case.updated_at)
        )

    async def add_step(self, case_id: uuid.UUID, step: CaseStep) -> None:
        await self.session.execute(
            ZT_CASE_STEP.insert().values(
                case_id=case_id,
                from_status=step.from_status.value if step.from_status else None,
                to_status=step.to_status.value,
                at=step.at,
                by_subject=step.by_subject,
                note=step.note,
            )
        )

    async def steps(self, case_id: uuid.UUID) -> list[CaseStep]:
        rows = await self.session.execute(
            select(ZT_CASE_STEP).where(ZT_CASE_STEP.c.case_id == case_id).order_by(ZT_CASE_STEP.c.id)
        )
        return [
            CaseStep(
                from_status=CaseStatus(r["from_status"]) if r["from_status"] else None,
                to_status=CaseStatus(r["to_status"]),
                at=r["at"],
                by_subject=r["by_subject"],
                note=r["note"],
            )
            for r in rows.mappings()
        ]

    async def search(self, filters: CaseFilters, page: PageParams) -> tuple[list[Case], str | None]:
        """One page of cases, latest opened first."""
        order = resolve_sort(page.sort, {"opened_at": (ZT_CASE.c.opened_at, ZT_CASE.c.id)}, "-opened_at")
        conditions = []
        if filters.country:
            conditions.append(ZT_CASE.c.country == filters.country)
        if filters.status:
            conditions.append(ZT_CASE.c.status == filters.status.value)
        if filters.factory_id:
            conditions.append(ZT_CASE.c.factory_id == filters.factory_id)
        if filters.overdue is not None and filters.now is not None:
            late = _overdue_at(filters.now)
            conditions.append(late if filters.overdue else not_(late))
        rows, cursor = await paginate(self.session, select(ZT_CASE).where(*conditions), order, page)
        return [_case_of(r._mapping) for r in rows], cursor

    async def add_referral(self, referral: Referral) -> None:
        await self.session.execute(ZT_REFERRAL.insert().values(**_referral_values(referral)))

    async def save_referral(self, referral: Referral) -> None:
        values = _referral_values(referral)
        await self.session.execute(ZT_REFERRAL.update().where(ZT_REFERRAL.c.id == referral.id).values(**values))

    async def referral(self, referral_id: uuid.UUID, *, for_update: bool = False) -> Referral | None:
        stmt = select(ZT_REFERRAL).where(ZT_REFERRAL.c.id == referral_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _referral_of(row) if row is not None else None

    async def referrals(self, case_id: uuid.UUID) -> list[Referral]:
        rows = await self.session.execute(
            select(ZT_REFERRAL)
            .where(ZT_REFERRAL.c.case_id == case_id)
            .order_by(ZT_REFERRAL.c.referred_at, ZT_REFERRAL.c.id)
        )
        return [_referral_of(r) for r in rows.mappings()]


def _referral_values(referral: Referral) -> dict[str, Any]:
    return {
        "id": referral.id,
        "case_id": referral.case_id,
        "party": referral.party,
        "channel": referral.channel.value,
        "referred_at": referral.referred_at,
        "recorded_by": referral.recorded_by,
        "reference": referral.reference,
        "acknowledged_at": referral.acknowledged_at,
        "acknowledged_by": referral.acknowledged_by,
        "acknowledgement_note": referral.acknowledgement_note,
    }


def _referral_of(row: Any) -> Referral:
    return Referral(
        id=row["id"],
        case_id=row["case_id"],
        party=row["party"],
        channel=Channel(row["channel"]),
        referred_at=row["referred_at"],
        recorded_by=row["recorded_by"],
        reference=row["reference"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        acknowledgement_note=row["acknowledgement_note"],
    )
