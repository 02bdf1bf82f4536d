"""SQL of what people decide: review items (possible duplicates) and factories' change proposals."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.tables import PROPOSALS, REVIEWS
from servicekit.pagination import PageParams, paginate, resolve_sort

# ---- review items -------------------------------------------------------------------------------------------


async def insert_review(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(REVIEWS.insert().values(**values))


async def review_page(
    session: AsyncSession,
    *,
    country: str | None,
    status: str | None,
    import_job_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    """Review items, oldest first: of `country` (None: every country), by status and import job."""
    conditions = []
    if country is not None:
        conditions.append(REVIEWS.c.country == country)
    if status:
        conditions.append(REVIEWS.c.status == status)
    if import_job_id:
        conditions.append(REVIEWS.c.import_job_id == import_job_id)
    return await _page(session, REVIEWS, "created_at", conditions, page)


async def lock_review(session: AsyncSession, review_id: uuid.UUID) -> dict[str, Any] | None:
    """One review item, locked until the transaction ends (two people cannot decide it at once)."""
    row = (await session.execute(select(REVIEWS).where(REVIEWS.c.id == review_id).with_for_update())).first()
    return dict(row._mapping) if row is not None else None


async def record_review_decision(session: AsyncSession, review_id: uuid.UUID, **decision: Any) -> None:
    """Store a decision: `status`, `decided_at`, `decided_by`, `decision_note`, `factory_id`."""
    await session.execute(REVIEWS.update().where(REVIEWS.c.id == review_id).values(**decision))


# ---- change proposals ---------------------------------------------------------------------------------------


async def insert_proposal(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(PROPOSALS.insert().values(**values))


async def proposal_page(
    session: AsyncSession,
    *,
    country: str | None,
    of_factory: uuid.UUID | None,
    status: str | None,
    factory_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    """Change proposals, oldest first; `country` and `of_factory` limit them to what the caller may see."""
    conditions = []
    if country is not None:
        conditions.append(PROPOSALS.c.country == country)
    if of_factory is not None:
        conditions.append(PROPOSALS.c.factory_id == of_factory)
    if status:
        conditions.append(PROPOSALS.c.status == status)
    if factory_id:
        conditions.append(PROPOSALS.c.factory_id == factory_id)
    return await _page(session, PROPOSALS, "proposed_at", conditions, page)


async def lock_proposal(session: AsyncSession, proposal_id: uuid.UUID) -> dict[str, Any] | None:
    """One change proposal, locked until the transaction ends."""
    row = (await session.execute(select(PROPOSALS).where(PROPOSALS.c.id == proposal_id).with_for_update())).first()
    return dict(row._mapping) if row is not None else None


async def record_proposal_decision(session: AsyncSession, proposal_id: uuid.UUID, **decision: Any) -> None:
    """Store a decision: `status`, `decided_at`, `decided_by`, `decision_note`."""
    await session.execute(PROPOSALS.update().where(PROPOSALS.c.id == proposal_id).values(**decision))


async def _page(
    session: AsyncSession, table: Table, sort_by: str, conditions: list[ColumnElement[bool]], page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a table's rows, sorted by `sort_by` (then id; the only sort these lists offer)."""
    order = resolve_sort(page.sort, {sort_by: (table.c[sort_by], table.c.id)}, sort_by)
    rows, cursor = await paginate(session, select(table).where(*conditions), order, page)
    return [dict(r._mapping) for r in rows], cursor


# ---- after a merge ------------------------------------------------------------------------------------------


async def move_open_items(session: AsyncSession, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    """Open review items naming the duplicate, and its pending proposals, now concern the survivor."""
    await session.execute(
        REVIEWS.update()
        .where(REVIEWS.c.candidate_id == merged_id, REVIEWS.c.status == "open")
        .values(candidate_id=survivor_id)
    )
    await session.execute(
        PROPOSALS.update()
        .where(PROPOSALS.c.factory_id == merged_id, PROPOSALS.c.status == "open")
        .values(factory_id=survivor_id)
    )
