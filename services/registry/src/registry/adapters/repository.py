"""SQL of the registry: load and save factories, their names, their status history; find match candidates.

Core statements (no ORM identity map): a factory is read into the domain record and written back
whole, which keeps the hot paths (GET by id, register) to a handful of round trips.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.tables import (
    FACTORY,
    GROUPS,
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
from registry.domain.groups import GroupMembership, ManufacturingGroup, group_key
from registry.domain.matching import Candidate, Profile, normalise_name, search_keys
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.database import Database, Statement
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


async def insert_factories(
    session: AsyncSession, factories: Sequence[Factory], *, audit: Sequence[dict[str, Any]] = ()
) -> None:
    """New records, their cleaned names and their search keys, and the audit rows given (`servicekit.audit.
    audit_rows`): one statement, one round trip, whatever the count (a registration is mostly round trips to
    Postgres once its candidates are no longer cleaned per request)."""
    if not factories:
        return
    await ensure_groups(session, factories)
    rows = [factory_values(f) for f in factories]
    names = [(f.id, k, f.country) for f in factories for k in name_keys(f)]
    keys = [(f.id, k, f.country) for f in factories for k in blocking_keys_of(f)]
    await _filing(tuple(rows[0])).execute(
        session,
        factories=json.dumps(rows, default=str),
        name_ids=[n[0] for n in names],
        names=[n[1] for n in names],
        name_countries=[n[2] for n in names],
        key_ids=[k[0] for k in keys],
        keys=[k[1] for k in keys],
        key_countries=[k[2] for k in keys],
        audit=json.dumps(list(audit), default=str),
    )


@lru_cache(maxsize=4)
def _filing(columns: tuple[str, ...]) -> Statement:
    """Insert factories (given as one JSON array of rows: `factory_values`), their names and keys, and audit rows
    (one JSON array, empty when none) at once; the foreign keys of names and keys are checked at the end of the
    statement, when the factories are there."""
    listed = ", ".join(FACTORY.c[c].name for c in columns)
    return Statement(
        f"""WITH new_factory AS (
              INSERT INTO registry.factory ({listed})
              SELECT {listed}
              FROM jsonb_populate_recordset(NULL::registry.factory, CAST(CAST(:factories AS text) AS jsonb))),
            new_name AS (
              INSERT INTO registry.factory_name (factory_id, name_key, country)
              SELECT * FROM unnest(CAST(:name_ids AS uuid[]), CAST(:names AS text[]), CAST(:name_countries AS text[]))),
            new_audit AS (
              INSERT INTO registry.audit_event ({_AUDIT_COLUMNS})
              SELECT {_AUDIT_COLUMNS}
              FROM jsonb_populate_recordset(NULL::registry.audit_event, CAST(CAST(:audit AS text) AS jsonb)))
            INSERT INTO registry.factory_key (factory_id, key, country)
            SELECT * FROM unnest(CAST(:key_ids AS uuid[]), CAST(:keys AS text[]), CAST(:key_countries AS text[]))"""
    )


_AUDIT_COLUMNS = "id, occurred_at, actor, actor_roles, action, entity_type, entity_id, reason, details"


async def _insert_rows(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`, if any: an empty list would insert one row of defaults (a name with no key, say "& Co")."""
    if rows:
        await session.execute(insert(table), rows)


async def save(session: AsyncSession, factory: Factory, *, names_changed: bool) -> None:
    """Write a changed record back; its name keys too when names changed."""
    values = factory_values(factory)
    del values["id"]
    await ensure_groups(session, [factory])
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
# A common key is recognised by its `cap`-th posting, read from the index alone, before any of its postings is
# gathered: at 100,000 factories a search meets about two such keys and gathered 600 postings only to drop them
# (Postgres CPU per search 1.5 ms before, 1.1 ms after, the same candidates; bench/registry_load.py).
_CANDIDATES = Statement(
    """WITH q AS (SELECT DISTINCT unnest(CAST(:keys AS text[])) AS key),
       rare AS (
         SELECT q.key FROM q WHERE NOT EXISTS (
           SELECT FROM registry.factory_key k WHERE k.country = :country AND k.key = q.key OFFSET :cap - 1 LIMIT 1)),
       postings AS (
         SELECT r.key, k.factory_id FROM rare r JOIN registry.factory_key k ON k.country = :country AND k.key = r.key),
       hits AS (
         SELECT factory_id, 1.0 / count(*) OVER (PARTITION BY key) AS weight FROM postings
         UNION ALL
         SELECT n.factory_id, :exact_weight FROM registry.factory_name n
         WHERE n.country = :country AND n.name_key = :name_key),
       ranked AS (
         SELECT factory_id, sum(weight) AS weight FROM hits
         GROUP BY factory_id ORDER BY weight DESC, factory_id LIMIT :limit)
       SELECT f.id, f.name, f.address, f.country, f.local_name, f.aliases, f.match_profile
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
    rows = await _CANDIDATES.fetch(
        session,
        country=country,
        keys=list(search_keys(name, address)),
        name_key=normalise_name(name),
        exact_weight=EXACT_NAME_WEIGHT,
        cap=KEY_CAP,
        limit=limit,
    )
    return [
        Candidate(
            id=str(row["id"]),
            name=row["name"],
            address=row["address"],
            country=row["country"],
            aliases=tuple(n for n in (row["local_name"], *(row["aliases"] or ())) if n),
            profile=Profile.from_json(_json(row["match_profile"])),  # stored: no name is cleaned again here
        )
        for row in rows
    ]


def _json(value: Any) -> Any:
    """A JSONB value of a text() statement, which the driver may hand over still as text."""
    return json.loads(value) if isinstance(value, str) else value


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
    group_id: uuid.UUID | None = None
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
    if filters.group_id:
        conditions.append(FACTORY.c.group_id == filters.group_id)
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


# ---- manufacturing groups ------------------------------------------------------------------------------------


async def ensure_groups(session: AsyncSession, factories: Sequence[Factory]) -> None:
    """The group row of every group the factories name, created on first mention (a name given in a registration,
    a patch, a merge or a list upload). Its id is derived from its folded name, so two writers naming one new
    group at once create one group: the second insert finds it there."""
    rows = {
        f.group_id: {"id": f.group_id, "name": f.group_name, "key": group_key(f.group_name), "created_at": f.updated_at}
        for f in factories
        if f.group_id is not None and f.group_name
    }
    if rows:
        stmt = pg_insert(GROUPS).values(list(rows.values())).on_conflict_do_nothing()
        await session.execute(stmt)


def _group_of(row: Any) -> ManufacturingGroup:
    return ManufacturingGroup(id=row["id"], name=row["name"], key=row["key"], created_at=row["created_at"])


async def group_by_id(session: AsyncSession, group_id: uuid.UUID) -> ManufacturingGroup | None:
    row = (await session.execute(select(GROUPS).where(GROUPS.c.id == group_id))).mappings().first()
    return _group_of(row) if row is not None else None


async def group_by_key(session: AsyncSession, key: str) -> ManufacturingGroup | None:
    row = (await session.execute(select(GROUPS).where(GROUPS.c.key == key))).mappings().first()
    return _group_of(row) if row is not None else None


async def insert_group(session: AsyncSession, group: ManufacturingGroup) -> bool:
    """A new group; False when one with its key (or id) is there already."""
    stmt = (
        pg_insert(GROUPS)
        .values(id=group.id, name=group.name, key=group.key, created_at=group.created_at)
        .on_conflict_do_nothing()
        .returning(GROUPS.c.id)
    )
    return (await session.execute(stmt)).scalar() is not None


_GROUP_SORTS = {"name": (GROUPS.c.name, GROUPS.c.id), "created_at": (GROUPS.c.created_at, GROUPS.c.id)}


async def search_groups(
    session: AsyncSession, *, q: str | None, page: PageParams
) -> tuple[list[ManufacturingGroup], str | None]:
    """One page of groups, by name unless sorted otherwise; `q` is text in the folded name."""
    order: SortOrder = resolve_sort(page.sort, _GROUP_SORTS, "name")
    conditions = []
    if q:
        needle = " ".join(q.casefold().split())
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(GROUPS.c.key.like(f"%{escaped}%"))
    rows, cursor = await paginate(session, select(GROUPS).where(*conditions), order, page)
    return [_group_of(row._mapping) for row in rows], cursor


async def group_memberships(session: AsyncSession, groups: Sequence[ManufacturingGroup]) -> list[GroupMembership]:
    """How many factories each group counts: live (not merged) records by country, exited ones apart."""
    if not groups:
        return []
    stmt = (
        select(
            FACTORY.c.group_id,
            FACTORY.c.country,
            func.count().filter(FACTORY.c.status != "exited").label("members"),
            func.count().filter(FACTORY.c.status == "exited").label("exited"),
        )
        .where(FACTORY.c.group_id.in_([g.id for g in groups]), FACTORY.c.merged_into.is_(None))
        .group_by(FACTORY.c.group_id, FACTORY.c.country)
    )
    by_group: dict[uuid.UUID, dict[str, tuple[int, int]]] = {}
    for row in (await session.execute(stmt)).mappings():
        by_group.setdefault(row["group_id"], {})[row["country"]] = (int(row["members"]), int(row["exited"]))
    result = []
    for group in groups:
        counts = by_group.get(group.id, {})
        result.append(
            GroupMembership(
                group=group,
                member_count=sum(m for m, _ in counts.values()),
                members_by_country={country: m for country, (m, _) in sorted(counts.items()) if m},
                exited_count=sum(e for _, e in counts.values()),
            )
        )
    return result
