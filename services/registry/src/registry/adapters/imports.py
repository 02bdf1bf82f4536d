"""SQL of factory lists: jobs, their rows and outcomes, and the advisory lock a worker holds on a job."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.tables import IMPORT_JOBS, IMPORT_ROWS, REVIEWS
from servicekit.database import Database
from servicekit.pagination import PageParams, paginate, resolve_sort


async def insert_job(session: AsyncSession, job: dict[str, Any], rows: Sequence[dict[str, str]]) -> None:
    """A new job and its rows (line numbers as in the file: the header is line 1)."""
    await session.execute(IMPORT_JOBS.insert().values(**job))
    await session.execute(
        IMPORT_ROWS.insert(), [{"job_id": job["id"], "line": i + 2, "raw": row} for i, row in enumerate(rows)]
    )


async def load_job(session: AsyncSession, job_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(IMPORT_JOBS).where(IMPORT_JOBS.c.id == job_id))).first()
    return dict(row._mapping) if row is not None else None


async def job_page(
    session: AsyncSession, *, country: str | None, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """Jobs uploaded by staff of `country` (None: all), newest first unless `page.sort` says otherwise."""
    order = resolve_sort(
        page.sort or "-created_at", {"created_at": (IMPORT_JOBS.c.created_at, IMPORT_JOBS.c.id)}, "-created_at"
    )
    stmt = select(IMPORT_JOBS)
    if country is not None:
        stmt = stmt.where(IMPORT_JOBS.c.principal["country"].astext == country)
    rows, cursor = await paginate(session, stmt, order, page)
    return [dict(r._mapping) for r in rows], cursor


async def result_rows(session: AsyncSession, job_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every row of a job in file order, with the status of its review item when it has one."""
    rows = await session.execute(
        select(IMPORT_ROWS, REVIEWS.c.status.label("review_status"))
        .select_from(IMPORT_ROWS.outerjoin(REVIEWS, REVIEWS.c.id == IMPORT_ROWS.c.review_id))
        .where(IMPORT_ROWS.c.job_id == job_id)
        .order_by(IMPORT_ROWS.c.line)
    )
    return [dict(row) for row in rows.mappings()]


async def link_row(session: AsyncSession, job_id: uuid.UUID, line: int, factory_id: uuid.UUID) -> None:
    """A row sent to review now names the factory the review decided it is."""
    await session.execute(
        IMPORT_ROWS.update()
        .where(IMPORT_ROWS.c.job_id == job_id, IMPORT_ROWS.c.line == line)
        .values(factory_id=factory_id)
    )


# ---- the worker's statements --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def claim_job(database: Database) -> AsyncIterator[uuid.UUID | None]:
    """The oldest unfinished job no other process holds, locked for as long as the block runs (else None).

    The lock is a session-level advisory lock on a connection of its own: if the process dies, the lock
    goes with the connection and another process claims the job at once.
    """
    async with database.engine.connect() as conn:
        pending = await conn.execute(
            text("SELECT id FROM registry.import_job WHERE status IN ('queued', 'running') ORDER BY created_at")
        )
        await conn.commit()
        for (job_id,) in pending.all():
            key = _lock_key(job_id)
            locked = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
            await conn.commit()
            if not locked:
                continue
            try:
                yield job_id
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
            return
        yield None


def _lock_key(job_id: uuid.UUID) -> int:
    """A signed 64-bit advisory lock key for a job."""
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)


async def mark_running(session: AsyncSession, job: Mapping[str, Any]) -> None:
    """One more run of `job` begins (its first start time is kept)."""
    await session.execute(
        IMPORT_JOBS.update()
        .where(IMPORT_JOBS.c.id == job["id"])
        .values(
            status="running",
            started_at=job["started_at"] or datetime.now(UTC),
            attempts=IMPORT_JOBS.c.attempts + 1,
        )
    )


async def mark_completed(session: AsyncSession, job_id: uuid.UUID) -> None:
    await session.execute(
        IMPORT_JOBS.update().where(IMPORT_JOBS.c.id == job_id).values(status="completed", finished_at=datetime.now(UTC))
    )


async def pending_rows(session: AsyncSession, job_id: uuid.UUID, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """The next `limit` rows without an outcome, in file order: (line, raw cells)."""
    rows = await session.execute(
        select(IMPORT_ROWS.c.line, IMPORT_ROWS.c.raw)
        .where(and_(IMPORT_ROWS.c.job_id == job_id, IMPORT_ROWS.c.outcome.is_(None)))
        .order_by(IMPORT_ROWS.c.line)
        .limit(limit)
    )
    return [(line, raw) for line, raw in rows.all()]


async def record_outcomes(
    session: AsyncSession, job_id: uuid.UUID, results: Sequence[Mapping[str, Any]], counts: Mapping[str, int]
) -> None:
    """Each row's outcome (one statement for the batch) and the job's running totals."""
    await session.execute(
        IMPORT_ROWS.update()
        .where(and_(IMPORT_ROWS.c.job_id == bindparam("j"), IMPORT_ROWS.c.line == bindparam("l")))
        .values(
            outcome=bindparam("outcome"),
            factory_id=bindparam("factory_id"),
            review_id=bindparam("review_id"),
            score=bindparam("score"),
            reason=bindparam("reason"),
        ),
        [
            {
                "j": job_id,
                "l": r["line"],
                "outcome": r["outcome"],
                "factory_id": r["factory_id"],
                "review_id": r["review_id"],
                "score": r["score"],
                "reason": r["reason"],
            }
            for r in results
        ],
    )
    await session.execute(
        IMPORT_JOBS.update()
        .where(IMPORT_JOBS.c.id == job_id)
        .values(
            processed=IMPORT_JOBS.c.processed + len(results),
            created=IMPORT_JOBS.c.created + counts["created"],
            matched=IMPORT_JOBS.c.matched + counts["matched"],
            needs_review=IMPORT_JOBS.c.needs_review + counts["needs_review"],
            rejected=IMPORT_JOBS.c.rejected + counts["rejected"],
        )
    )
