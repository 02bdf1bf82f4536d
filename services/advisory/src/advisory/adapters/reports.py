"""SQL of progress reports (insert once, read; the table refuses updates) and of the activity a report covers:
advisory visits, committee meetings and training sessions of a factory in a period."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from advisory.adapters.tables import (
    ADVISORY_VISIT,
    COMMITTEE_MEETING,
    COMMITTEE_MEMBER,
    COURSE,
    ENROLMENT,
    PARTICIPANT,
    PROGRESS_REPORT,
    TRAINING_SESSION,
)
from servicekit.pagination import PageParams, paginate, resolve_sort


@dataclass(frozen=True)
class IssuedReport:
    id: uuid.UUID
    plan_id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    kind: str
    due_date: date
    issued_at: datetime
    issued_by: str
    sha256: str


_COLUMNS = [c for c in PROGRESS_REPORT.c if c.name not in ("content", "pdf")]
_SORTS = {"issued_at": (PROGRESS_REPORT.c.issued_at, PROGRESS_REPORT.c.id)}


def _report(row: Mapping[Any, Any]) -> IssuedReport:
    return IssuedReport(**{k: row[k] for k in IssuedReport.__dataclass_fields__})


async def add(session: AsyncSession, report: IssuedReport, content: dict[str, Any], pdf: bytes) -> None:
    await session.execute(PROGRESS_REPORT.insert().values(**report.__dict__, content=content, pdf=pdf))


async def load(session: AsyncSession, report_id: uuid.UUID) -> IssuedReport | None:
    row = (await session.execute(select(*_COLUMNS).where(PROGRESS_REPORT.c.id == report_id))).mappings().first()
    return _report(row) if row is not None else None


async def of_plan(session: AsyncSession, plan_id: uuid.UUID) -> dict[str, IssuedReport]:
    rows = await session.execute(select(*_COLUMNS).where(PROGRESS_REPORT.c.plan_id == plan_id))
    return {r["kind"]: _report(r) for r in rows.mappings()}


async def content(session: AsyncSession, report_id: uuid.UUID) -> dict[str, Any]:
    found = await session.scalar(select(PROGRESS_REPORT.c.content).where(PROGRESS_REPORT.c.id == report_id))
    return dict(found or {})


async def pdf(session: AsyncSession, report_id: uuid.UUID) -> bytes:
    found = await session.scalar(select(PROGRESS_REPORT.c.pdf).where(PROGRESS_REPORT.c.id == report_id))
    return bytes(found or b"")


async def search(
    session: AsyncSession,
    *,
    country: str | None,
    factory_id: uuid.UUID | None,
    cycles: list[tuple[uuid.UUID, int]] | None,
    page: PageParams,
) -> tuple[list[IssuedReport], str | None]:
    """Reports filtered by country and factory; `cycles` (factory, cycle) pairs limit a buyer to what it may read."""
    stmt = select(*_COLUMNS)
    if country is not None:
        stmt = stmt.where(PROGRESS_REPORT.c.country == country)
    if factory_id is not None:
        stmt = stmt.where(PROGRESS_REPORT.c.factory_id == factory_id)
    if cycles is not None:
        if not cycles:
            return [], None
        stmt = stmt.where(
            or_(*(and_(PROGRESS_REPORT.c.factory_id == f, PROGRESS_REPORT.c.cycle == c) for f, c in cycles))
        )
    rows, cursor = await paginate(session, stmt, resolve_sort(page.sort, _SORTS, "issued_at"), page)
    return [_report(r._mapping) for r in rows], cursor


# ---- the activity of a period ------------------------------------------------------------------------------------


async def visits(session: AsyncSession, factory_id: uuid.UUID, start: date, end: date) -> list[dict[str, Any]]:
    stmt = (
        select(ADVISORY_VISIT.c.visit_date, ADVISORY_VISIT.c.mode, ADVISORY_VISIT.c.topics, ADVISORY_VISIT.c.item_ids)
        .where(ADVISORY_VISIT.c.factory_id == factory_id, ADVISORY_VISIT.c.visit_date.between(start, end))
        .order_by(ADVISORY_VISIT.c.visit_date)
    )
    return [
        {
            "visit_date": r["visit_date"].isoformat(),
            "mode": r["mode"],
            "topics": list(r["topics"]),
            "items_discussed": len(r["item_ids"]),
        }
        for r in (await session.execute(stmt)).mappings()
    ]


async def meetings(session: AsyncSession, factory_id: uuid.UUID, start: date, end: date) -> list[dict[str, Any]]:
    women = (
        select(func.count())
        .where(COMMITTEE_MEMBER.c.id == func.any(COMMITTEE_MEETING.c.attendee_ids), COMMITTEE_MEMBER.c.sex == "female")
        .scalar_subquery()
    )
    stmt = (
        select(
            COMMITTEE_MEETING.c.meeting_date,
            func.cardinality(COMMITTEE_MEETING.c.attendee_ids).label("attended"),
            women.label("attended_women"),
            COMMITTEE_MEETING.c.decisions,
        )
        .where(COMMITTEE_MEETING.c.factory_id == factory_id, COMMITTEE_MEETING.c.meeting_date.between(start, end))
        .order_by(COMMITTEE_MEETING.c.meeting_date)
    )
    return [
        {
            "meeting_date": r["meeting_date"].isoformat(),
            "attended": r["attended"],
            "attended_women": r["attended_women"],
            "decisions": r["decisions"],
        }
        for r in (await session.execute(stmt)).mappings()
    ]


async def trainings(session: AsyncSession, factory_id: uuid.UUID, start: date, end: date) -> list[dict[str, Any]]:
    """Delivered sessions with participants from the factory, counted by sex."""

    def of_sex(sex: str) -> Any:
        return func.coalesce(func.sum(cast(PARTICIPANT.c.sex == sex, Integer)), 0)

    stmt = (
        select(
            TRAINING_SESSION.c.session_date,
            COURSE.c.title.label("course_title"),
            func.count(PARTICIPANT.c.id).label("participants"),
            of_sex("female").label("participants_women"),
            of_sex("male").label("participants_men"),
        )
        .join(COURSE, COURSE.c.id == TRAINING_SESSION.c.course_id)
        .join(ENROLMENT, ENROLMENT.c.session_id == TRAINING_SESSION.c.id)
        .join(PARTICIPANT, PARTICIPANT.c.id == ENROLMENT.c.participant_id)
        .where(
            PARTICIPANT.c.factory_id == factory_id,
            ENROLMENT.c.attended.is_(True),
            TRAINING_SESSION.c.delivered_at.is_not(None),
            TRAINING_SESSION.c.session_date.between(start, end),
        )
        .group_by(TRAINING_SESSION.c.id, TRAINING_SESSION.c.session_date, COURSE.c.title)
        .order_by(TRAINING_SESSION.c.session_date)
    )
    return [
        {**dict(r), "session_date": r["session_date"].isoformat()} for r in (await session.execute(stmt)).mappings()
    ]
