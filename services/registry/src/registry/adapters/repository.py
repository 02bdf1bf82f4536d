"""SQL of the registry: load and save factories, their names, their status history; find match candidates.

Core statements (no ORM identity map): a factory is read into the domain record and written back
whole, which keeps the hot paths (GET by id, register) to a handful of round trips.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.tables import (
    FACTORY,
    SCHEMA,
    FactoryKeyRow,
    FactoryNameRow,
    StatusChangeRow,
    blocking_keys_of,
    factory_from_row,
    factory_values,
    name_keys,
)
from registry.domain.enrolment import StatusChange, SuspensionReason
from registry.domain.factory import EXTERNAL_ID_FIELDS, Factory
from registry.domain.matching import Candidate, normalise_name, search_keys
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.database import Database
from servicekit.pagination import PageParams, SortOrder, paginate, resolve_sort

NAMES = FactoryNameRow.__table__  # type: ignore[attr-defined]
KEYS = FactoryKeyRow.__table__  # type: ignore[attr-defined]
STATUS_CHANGES = StatusChangeRow.__table__  # type: ignore[attr-defined]


async def load(session: AsyncSession, factory_id: uuid.UUID, *, for_update: bool = False) -> Factory | None:
    stmt = select(FACTORY).where(FACTORY.c.id == factory_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return factory_from_row(row) if row is not None else None


_BY_ID = "SELECT * FROM registry.factory WHERE id = $1"


async def read(database: Database, factory_id: uuid.UUID) -> Factory | None:
    """One factory for a read-only request: one statement on a read connection, no transaction."""
    row = await database.read_one(_BY_ID, factory_id)
    return factory_from_row(row) if row is not None else None


async def insert_factories(session: AsyncSession, factories: Sequence[Factory]) -> None:
    """New records and their name keys (one statement each, whatever the count)."""
    if not factories:
        return
    await session.execute(insert(FACTORY), [factory_values(f) for f in factories])
    await _insert_rows(
        session,
        NAMES,
        [{"factory_id": f.id, "name_key": k, "country": f.country} for f in factories for k in name_keys(f)],
    )
    await _insert_rows(  # filed for candidate search (before, only a change of names filed them)
        session,
        KEYS,
        [{"factory_id": f.id, "key": k, "country": f.country} for f in factories for k in blocking_keys_of(f)],
    )


async def _insert_rows(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`, if any: an empty list would insert one row of defaults (a name with no key, say "& Co")."""
    if rows:
        await session.execute(insert(table), rows)


async def save(session: AsyncSession, factory: Factory, *, names_changed: bool) -> None:
    """Write a changed record back; its name keys too when names changed."""
    values = factory_values(factory)
    del values["id"]
    await session.execute(update(FACTORY).where(FACTORY.c.id == factory.id).values(**values))
    if names_changed:
        await session.execute(delete(NAMES).where(NAMES.c.factory_id == factory.id))
        await session.execute(delete(KEYS).where(KEYS.c.factory_id == factory.id))
        if factory.merged_into is None:  # a merged record is no candidate any more
            await _insert_rows(
                session,
                NAMES,
                [{"factory_id": factory.id, "name_key": k, "country": factory.country} for k in name_keys(factory)],
            )
            await _insert_rows(
                session,
                KEYS,
                [{"factory_id": factory.id, "key": k, "country": factory.country} for k in blocking_keys_of(factory)],
            )


async def holder_of_external_id(
    session: AsyncSession, field: str, value: str, country: str, *, excluding: uuid.UUID | None = None
) -> uuid.UUID | None:
    """The live factory carrying an external id, as its own or as one gained by a merge."""
    column = FACTORY.c[field]
    condition = or_(column == value, FACTORY.c.former_external_ids.contains([[field, value]]))
    if field == "national_registration":
        condition = (FACTORY.c.country == country) & condition
    stmt = select(FACTORY.c.id).where(condition, FACTORY.c.merged_into.is_(None))
    if excluding is not None:
        stmt = stmt.where(FACTORY.c.id != excluding)
    return (await session.execute(stmt.limit(1))).scalar()


async def exact_key_holder(session: AsyncSession, field: str, value: str, country: str) -> uuid.UUID | None:
    """For matching: the one live factory of `country` carrying an external id (its own or gained by a merge).

    Every exact key is looked up within the country, as a name is: an OS ID or customs entry held by a factory of
    another country says nothing about this one. A key two factories of the country share (a customs entry covering
    two units) decides nothing: None, and name and address decide."""
    column = FACTORY.c[field]
    stmt = (
        select(FACTORY.c.id)
        .where(
            FACTORY.c.country == country,
            or_(column == value, FACTORY.c.former_external_ids.contains([[field, value]])),
            FACTORY.c.merged_into.is_(None),
        )
        .limit(2)
    )
    holders = (await session.execute(stmt)).scalars().all()
    return holders[0] if len(holders) == 1 else None


async def external_id_conflicts(session: AsyncSession, factory: Factory) -> dict[str, uuid.UUID]:
    """External ids of `factory` that another live factory already carries: {field: that factory's id}."""
    found = {}
    for field in EXTERNAL_ID_FIELDS:
        value = getattr(factory, field)
        if value and field != "customs_list_entry":
            holder = await holder_of_external_id(session, field, value, factory.country, excluding=factory.id)
            if holder is not None:
                found[field] = holder
    return found


# Candidates: the factories filed under the query's keys (names and address, `domain.matching.search_keys`),
# skipping keys with `cap` or more factories of the country (a key half the registry shares tells nothing), ranked
# by the keys they share, each weighing 1 / its factory count (a rare key says more), plus any factory with exactly
# the query's cleaned name, ranked first. bench/matching_quality.py runs the same search in memory.
_CANDIDATES = text(
    """WITH q AS (SELECT DISTINCT unnest(CAST(:keys AS text[])) AS key),
       postings AS (
         SELECT q.key, p.factory_id FROM q CROSS JOIN LATERAL (
           SELECT k.factory_id FROM registry.factory_key k
           WHERE k.country = :country AND k.key = q.key LIMIT :cap) p),
       usable AS (SELECT key, count(*) AS df FROM postings GROUP BY key HAVING count(*) < :cap),
       hits AS (
         SELECT p.factory_id, 1.0 / u.df AS weight FROM postings p JOIN usable u USING (key)
         UNION ALL
         SELECT n.factory_id, :exact_weight FROM registry.factory_name n
         WHERE n.country = :country AND n.name_key = :name_key),
       ranked AS (
         SELECT factory_id, sum(weight) AS weight FROM hits
         GROUP BY factory_id ORDER BY weight DESC, factory_id LIMIT :limit)
       SELECT f.id, f.name, f.address, f.country, f.local_name, f.aliases
       FROM ranked JOIN registry.factory f ON f.id = ranked.factory_id
       WHERE f.merged_into IS NULL
       ORDER BY ranked.weight DESC, f.id"""
)
KEY_CAP = 300  # a key filed under this many factories of a country is too common to search by
EXACT_NAME_WEIGHT = 1000.0  # the same cleaned name outranks any number of shared keys


async def candidates(
    session: AsyncSession, *, country: str, name: str, limit: int, address: str | None = None
) -> list[Candidate]:
    """Factories of `country` that could be `name` at `address`: sharing a key, most and rarest keys first."""
    params = {
        "country": country,
        "keys": list(search_keys(name, address)),
        "name_key": normalise_name(name),
        "exact_weight": EXACT_NAME_WEIGHT,
        "cap": KEY_CAP,
        "limit": limit,
    }
    rows = (await session.execute(_CANDIDATES, params)).mappings().all()
    return [
        Candidate(
            id=str(row["id"]),
            name=row["name"],
            address=row["address"],
            country=row["country"],
            aliases=tuple(n for n in (row["local_name"], *(row["aliases"] or ())) if n),
        )
        for row in rows
    ]


def candidate_of(factory: Factory) -> Candidate:
    return Candidate(
        id=str(factory.id),
        name=factory.name,
        address=factory.address,
        country=factory.country,
        aliases=tuple(n for n in (factory.local_name, *factory.aliases) if n),
    )


async def add_status_change(session: AsyncSession, factory_id: uuid.UUID, record: StatusChange) -> None:
    await session.execute(
        insert(STATUS_CHANGES).values(
            factory_id=factory_id,
            change=record.change.value,
            from_status=record.from_status.value,
            to_status=record.to_status.value,
            at=record.at,
            by_subject=record.by,
            reason=record.reason,
            suspension_reason=record.suspension_reason.value if record.suspension_reason else None,
            service_package=record.service_package,
            start_date=record.start_date,
        )
    )


async def status_history(session: AsyncSession, factory_id: uuid.UUID) -> list[dict[str, Any]]:
    """The factory's status changes, with those of every factory merged into it, oldest first."""
    merged = select(FACTORY.c.id).where(FACTORY.c.merged_into == factory_id)
    rows = (
        await session.execute(
            select(STATUS_CHANGES)
            .where(or_(STATUS_CHANGES.c.factory_id == factory_id, STATUS_CHANGES.c.factory_id.in_(merged)))
            .order_by(STATUS_CHANGES.c.at, STATUS_CHANGES.c.id)
        )
    ).mappings()
    return [dict(row) for row in rows]


async def repoint_merged(session: AsyncSession, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    """Factories merged earlier into `merged_id` now redirect straight to the survivor (one hop, forever)."""
    await session.execute(update(FACTORY).where(FACTORY.c.merged_into == merged_id).values(merged_into=survivor_id))


@dataclass(frozen=True)
class FactoryFilters:
    """What a factory list is narrowed to (all optional; merged ids only when asked for)."""

    country: str | None = None
    sector: str | None = None
    status: str | None = None
    group: str | None = None
    external_id: str | None = None
    q: str | None = None
    include_merged: bool = False


_SORTS = {
    "name": (FACTORY.c.name, FACTORY.c.id),
    "registered_at": (FACTORY.c.registered_at, FACTORY.c.id),
    "updated_at": (FACTORY.c.updated_at, FACTORY.c.id),
}


async def search(
    session: AsyncSession, filters: FactoryFilters, page: PageParams, *, only: uuid.UUID | None = None
) -> tuple[list[Factory], str | None]:
    """One page of factories matching `filters` (and only the factory `only`, when given); text search over
    every name through the trigram index."""
    order: SortOrder = resolve_sort(page.sort, _SORTS, "name")
    conditions = []
    if not filters.include_merged:
        conditions.append(FACTORY.c.merged_into.is_(None))
    if filters.country:
        conditions.append(FACTORY.c.country == filters.country.upper())
    if filters.sector:
        conditions.append(FACTORY.c.sector == filters.sector)
    if filters.status:
        conditions.append(FACTORY.c.status == filters.status)
    if filters.group:
        conditions.append(FACTORY.c.group_name.ilike(filters.group))
    if filters.external_id:
        value = filters.external_id.strip()
        ids = [FACTORY.c[f] == value for f in EXTERNAL_ID_FIELDS]
        ids.append(or_(*[FACTORY.c.former_external_ids.contains([[f, value]]) for f in EXTERNAL_ID_FIELDS]))
        conditions.append(or_(*ids))
    if filters.q:
        needle = normalise_name(filters.q)
        if needle:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(FACTORY.c.search_text.like(f"%{escaped}%"))
    if only is not None:
        conditions.append(FACTORY.c.id == only)
    rows, cursor = await paginate(session, select(FACTORY).where(*conditions), order, page)
    return [factory_from_row(row._mapping) for row in rows], cursor


class FactoryRepository:
    """The factories of one unit of work, for the use cases that change one factory: load it, save it, record
    its status history and audit trail. A unit test hands those use cases a fake with the same methods."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, factory_id: uuid.UUID, *, for_update: bool = False) -> Factory | None:
        return await load(self.session, factory_id, for_update=for_update)

    async def save(self, factory: Factory, *, names_changed: bool) -> None:
        await save(self.session, factory, names_changed=names_changed)

    async def external_id_conflicts(self, factory: Factory) -> dict[str, uuid.UUID]:
        return await external_id_conflicts(self.session, factory)

    async def add_status_change(self, factory_id: uuid.UUID, record: StatusChange) -> None:
        await add_status_change(self.session, factory_id, record)

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        factory_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        country: str | None = None,
    ) -> None:
        """An audit row about the factory, in the same transaction as the change; `country` (the factory's)
        decides who reads it back."""
        await record_audit(
            self.session,
            schema=SCHEMA,
            actor=actor,
            action=action,
            entity_type="factory",
            entity_id=str(factory_id),
            reason=reason,
            details=details,
            country=country,
        )


async def last_suspension_reason(session: AsyncSession, factory_id: uuid.UUID) -> SuspensionReason | None:
    """Why the factory was last suspended (None if it never was)."""
    reason = (
        await session.execute(
            select(STATUS_CHANGES.c.suspension_reason)
            .where(STATUS_CHANGES.c.factory_id == factory_id, STATUS_CHANGES.c.change == "suspended")
            .order_by(STATUS_CHANGES.c.at.desc(), STATUS_CHANGES.c.id.desc())
            .limit(1)
        )
    ).scalar()
    return SuspensionReason(reason) if reason else None
