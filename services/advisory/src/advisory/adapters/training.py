"""SQL of the training catalogue, sessions, pseudonymous participants, enrolments and xAPI statements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, cast, extract, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from advisory.adapters.tables import COURSE, ENROLMENT, PARTICIPANT, TRAINING_SESSION, XAPI_STATEMENT


async def add_course(session: AsyncSession, row: dict[str, Any]) -> bool:
    stmt = insert(COURSE).values(**row).on_conflict_do_nothing(index_elements=["country", "code"])
    return (await session.execute(stmt.returning(COURSE.c.id))).first() is not None


async def courses(session: AsyncSession, country: str) -> list[dict[str, Any]]:
    stmt = select(COURSE).where(COURSE.c.country == country).order_by(COURSE.c.code)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def course(session: AsyncSession, course_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(COURSE).where(COURSE.c.id == course_id))).mappings().first()
    return dict(row) if row is not None else None


async def add_session(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(TRAINING_SESSION.insert().values(**row))


async def training_session(
    session: AsyncSession, session_id: uuid.UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The session with its course's title, hours, completion rule and pass score."""
    stmt = (
        select(
            TRAINING_SESSION,
            COURSE.c.code.label("course_code"),
            COURSE.c.title.label("course_title"),
            COURSE.c.hours,
            COURSE.c.completion_rule,
            COURSE.c.pass_score,
        )
        .join(COURSE, COURSE.c.id == TRAINING_SESSION.c.course_id)
        .where(TRAINING_SESSION.c.id == session_id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=TRAINING_SESSION)
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row is not None else None


async def sessions_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    stmt = (
        select(TRAINING_SESSION.c.id, TRAINING_SESSION.c.country, COURSE.c.pass_score)
        .join(COURSE, COURSE.c.id == TRAINING_SESSION.c.course_id)
        .where(TRAINING_SESSION.c.id.in_(list(ids)))
    )
    return {r["id"]: dict(r) for r in (await session.execute(stmt)).mappings()}


async def mark_delivered(session: AsyncSession, session_id: uuid.UUID, at: datetime) -> None:
    await session.execute(TRAINING_SESSION.update().where(TRAINING_SESSION.c.id == session_id).values(delivered_at=at))


async def add_participant(session: AsyncSession, row: dict[str, Any]) -> bool:
    stmt = insert(PARTICIPANT).values(**row).on_conflict_do_nothing(index_elements=["country", "account"])
    return (await session.execute(stmt.returning(PARTICIPANT.c.id))).first() is not None


async def participants(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    rows = await session.execute(select(PARTICIPANT).where(PARTICIPANT.c.id.in_(list(ids))))
    return {r["id"]: dict(r) for r in rows.mappings()}


async def participants_by_account(session: AsyncSession, country: str, accounts: Sequence[str]) -> dict[str, uuid.UUID]:
    if not accounts:
        return {}
    rows = await session.execute(
        select(PARTICIPANT.c.account, PARTICIPANT.c.id).where(
            PARTICIPANT.c.country == country, PARTICIPANT.c.account.in_(list(set(accounts)))
        )
    )
    return {r[0]: r[1] for r in rows}


async def enrol(
    session: AsyncSession, session_id: uuid.UUID, participant_ids: Sequence[uuid.UUID], at: datetime
) -> int:
    if not participant_ids:
        return 0
    stmt = (
        insert(ENROLMENT)
        .values(
            [
                {"session_id": session_id, "participant_id": p, "attended": False, "completed": False, "updated_at": at}
                for p in participant_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["session_id", "participant_id"])
        .returning(ENROLMENT.c.participant_id)
    )
    return len((await session.execute(stmt)).all())


async def enrolled_ids(session: AsyncSession, session_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.execute(select(ENROLMENT.c.participant_id).where(ENROLMENT.c.session_id == session_id))
    return {r[0] for r in rows}


async def record_outcomes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert outcomes (session, participant): enrolling whoever is not enrolled yet."""
    if not rows:
        return
    stmt = insert(ENROLMENT).values(list(rows))
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["session_id", "participant_id"],
            set_={
                c: getattr(stmt.excluded, c)
                for c in ("attended", "completed", "passed", "score", "evaluation", "waived_reason", "updated_at")
            },
        )
    )


async def enrolments(session: AsyncSession, session_id: uuid.UUID) -> list[dict[str, Any]]:
    stmt = (
        select(
            ENROLMENT,
            PARTICIPANT.c.account,
            PARTICIPANT.c.sex,
            PARTICIPANT.c.role,
            PARTICIPANT.c.migrant,
            PARTICIPANT.c.nationality,
            PARTICIPANT.c.factory_id,
            PARTICIPANT.c.buyer_id,
        )
        .join(PARTICIPANT, PARTICIPANT.c.id == ENROLMENT.c.participant_id)
        .where(ENROLMENT.c.session_id == session_id)
        .order_by(PARTICIPANT.c.account)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def add_statements(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert statements not seen before (by statement id); the ids of those that were new."""
    if not rows:
        return set()
    stmt = insert(XAPI_STATEMENT).values(list(rows)).on_conflict_do_nothing(index_elements=["id"])
    return {r[0] for r in await session.execute(stmt.returning(XAPI_STATEMENT.c.id))}


async def statements_of(session: AsyncSession, session_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """participant id -> the id of the last statement received for them in the session."""
    rows = await session.execute(
        select(XAPI_STATEMENT.c.participant_id, XAPI_STATEMENT.c.id)
        .where(XAPI_STATEMENT.c.session_id == session_id)
        .order_by(XAPI_STATEMENT.c.stored_at, XAPI_STATEMENT.c.at)
    )
    return {r[0]: r[1] for r in rows}


async def factory_year(session: AsyncSession, factory_id: uuid.UUID, year: int) -> dict[str, Any]:
    """In-factory training days used in `year` (delivered sessions at the factory) and its people trained."""
    hours = await session.scalar(
        select(func.coalesce(func.sum(COURSE.c.hours), 0))
        .join(COURSE, COURSE.c.id == TRAINING_SESSION.c.course_id)
        .where(
            TRAINING_SESSION.c.factory_id == factory_id,
            TRAINING_SESSION.c.delivered_at.is_not(None),
            extract("year", TRAINING_SESSION.c.session_date) == year,
        )
    )

    def of_sex(sex: str, condition: Any = True) -> Any:
        return func.coalesce(func.sum(cast((PARTICIPANT.c.sex == sex) & condition, Integer)), 0)

    people = (
        (
            await session.execute(
                select(
                    of_sex("female", ENROLMENT.c.attended).label("attended_women"),
                    of_sex("male", ENROLMENT.c.attended).label("attended_men"),
                    of_sex("other", ENROLMENT.c.attended).label("attended_other"),
                )
                .select_from(ENROLMENT)
                .join(PARTICIPANT, PARTICIPANT.c.id == ENROLMENT.c.participant_id)
                .join(TRAINING_SESSION, TRAINING_SESSION.c.id == ENROLMENT.c.session_id)
                .where(
                    PARTICIPANT.c.factory_id == factory_id,
                    TRAINING_SESSION.c.delivered_at.is_not(None),
                    extract("year", TRAINING_SESSION.c.session_date) == year,
                )
            )
        )
        .mappings()
        .one()
    )
    return {"hours": Decimal(hours or 0), **dict(people)}


async def country_outcomes(session: AsyncSession, country: str, year: int) -> list[dict[str, Any]]:
    """Every enrolment in the country's sessions delivered in `year`, with the course's topic, rule and the
    participant's sex (no identities): what the country's training figures are counted from."""
    stmt = (
        select(
            COURSE.c.topic,
            COURSE.c.completion_rule,
            TRAINING_SESSION.c.id.label("session_id"),
            PARTICIPANT.c.sex,
            ENROLMENT.c.attended,
            ENROLMENT.c.completed,
            ENROLMENT.c.passed,
            ENROLMENT.c.waived_reason,
        )
        .select_from(ENROLMENT)
        .join(TRAINING_SESSION, TRAINING_SESSION.c.id == ENROLMENT.c.session_id)
        .join(COURSE, COURSE.c.id == TRAINING_SESSION.c.course_id)
        .join(PARTICIPANT, PARTICIPANT.c.id == ENROLMENT.c.participant_id)
        .where(
            TRAINING_SESSION.c.country == country,
            TRAINING_SESSION.c.delivered_at.is_not(None),
            extract("year", TRAINING_SESSION.c.session_date) == year,
        )
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]
