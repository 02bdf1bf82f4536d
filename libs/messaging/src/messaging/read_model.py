"""One rule for every read model kept from versioned events: apply the next version, skip repeats, retry a gap.

A producer's events of one aggregate arrive in order (one partition per key), each carrying the version of
the aggregate after the change. Whoever keeps a copy holds the version of the last event it applied, and:
- an event one above the held version is applied;
- an event at or below it is a repeat (a redelivery, a replay): nothing changes;
- an event further ahead means one in between is missing: `NotYetKnown`, so the consumer retries it within
  its budget (the missing one may still come, for example after a replay) and then dead-letters it with the
  reason, instead of silently dropping it or applying it out of order;
- a change to an aggregate never registered here is `NotYetKnown` too, for the same reason.

The common case (the next version) is one statement; only a repeat, a gap or an unknown aggregate reads the
held version to tell which it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.errors import NotYetKnown


class Apply(Enum):
    APPLY = "apply"
    REPEAT = "repeat"
    GAP = "gap"


def decide(held_version: int | None, event_version: int) -> Apply:
    """The rule itself, free of I/O: what to do with `event_version` when `held_version` is held."""
    held = held_version or 0
    if event_version <= held:
        return Apply.REPEAT
    if event_version == held + 1:
        return Apply.APPLY
    return Apply.GAP


class VersionedReadModel:
    """A table of copies, one row per aggregate, each row holding the version it was last brought to.

    `changelog`, when given, gets one row per applied event in the same statement (for audit and tests):
    `copied` names columns taken from the changed row, `log_values` adds constants (event id, time, ...).
    """

    def __init__(
        self,
        table: sa.Table,
        *,
        key: str,
        what: str,
        version: str = "version",
        changelog: sa.Table | None = None,
        copied: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.what = what
        self._key = table.c[key]
        self._version = table.c[version]
        self._version_name = version
        self._changelog = changelog
        self._copied = (key, version, *copied)
        self._statements: dict[tuple[bool, tuple[str, ...], tuple[str, ...]], Any] = {}

    async def register(
        self,
        session: AsyncSession,
        aggregate_id: Any,
        version: int,
        values: Mapping[str, Any],
        *,
        log_values: Mapping[str, Any] | None = None,
    ) -> Apply:
        """The aggregate's first event: create its copy; a copy already there makes this a repeat."""
        stmt = self._statement(True, tuple(values), tuple(log_values or ()))
        params = self._params(aggregate_id, version, values, log_values)
        if (await session.execute(stmt, params)).first() is not None:
            return Apply.APPLY
        return Apply.REPEAT

    async def apply(
        self,
        session: AsyncSession,
        aggregate_id: Any,
        version: int,
        values: Mapping[str, Any],
        *,
        log_values: Mapping[str, Any] | None = None,
    ) -> Apply:
        """A later event: applied when it is the next version, else a repeat, else `NotYetKnown`."""
        stmt = self._statement(False, tuple(values), tuple(log_values or ()))
        params = self._params(aggregate_id, version, values, log_values)
        if (await session.execute(stmt, params)).first() is not None:
            return Apply.APPLY
        return await self._explain(session, aggregate_id, version)

    async def held_version(self, session: AsyncSession, aggregate_id: Any) -> int | None:
        held: int | None = (await session.execute(sa.select(self._version).where(self._key == aggregate_id))).scalar()
        return held

    @staticmethod
    def _params(
        aggregate_id: Any, version: int, values: Mapping[str, Any], log_values: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        params = {"k_key": aggregate_id, "k_version": version, "k_previous": version - 1}
        params.update({f"v_{name}": value for name, value in values.items()})
        params.update({f"l_{name}": value for name, value in (log_values or {}).items()})
        return params

    def _statement(self, first: bool, names: tuple[str, ...], log_names: tuple[str, ...]) -> Any:
        """The statement for this shape of event, built once: the consumer's hot path only binds values."""
        shape = (first, names, log_names)
        stmt = self._statements.get(shape)
        if stmt is None:
            stmt = self._statements[shape] = self._build(first, names, log_names)
        return stmt

    def _build(self, first: bool, names: tuple[str, ...], log_names: tuple[str, ...]) -> Any:
        returned = [self.table.c[name] for name in self._copied]
        values: dict[str, Any] = {self._version_name: sa.bindparam("k_version", type_=self._version.type)}
        values.update({name: sa.bindparam(f"v_{name}", type_=self.table.c[name].type) for name in names})
        stmt: Any
        if first:
            values[self._key.name] = sa.bindparam("k_key", type_=self._key.type)
            stmt = (
                pg_insert(self.table)
                .values(values)
                .on_conflict_do_nothing(index_elements=[self._key.name])
                .returning(*returned)
            )
        else:
            stmt = (
                sa.update(self.table)
                .where(
                    self._key == sa.bindparam("k_key", type_=self._key.type),
                    self._version == sa.bindparam("k_previous", type_=self._version.type),
                )
                .values(values)
                .returning(*returned)
            )
        if self._changelog is None:
            return stmt
        changed = stmt.cte("changed")
        source = sa.select(
            *(changed.c[name] for name in self._copied),
            *(sa.bindparam(f"l_{name}", type_=self._changelog.c[name].type) for name in log_names),
        )
        return sa.insert(self._changelog).from_select([*self._copied, *log_names], source).returning(sa.literal(1))

    async def _explain(self, session: AsyncSession, aggregate_id: Any, version: int) -> Apply:
        held = await self.held_version(session, aggregate_id)
        if held is None:
            raise NotYetKnown(f"version {version} of {self.what} {aggregate_id}, which was never registered here")
        decision = decide(held, version)
        if decision is Apply.GAP:
            raise NotYetKnown(
                f"{self.what} {aggregate_id} jumps from version {held} to {version}: an event in between is missing"
            )
        return decision


async def record_latest(
    session: AsyncSession,
    table: sa.Table,
    *,
    key: Mapping[str, Any],
    values: Mapping[str, Any],
    at_column: str,
    at: Any,
) -> None:
    """Keep the latest of a series of decisions per key (a grant, then a revocation, ...): a decision older than
    the one held changes nothing, so a redelivered or replayed old event never overrides a newer one."""
    changed = {**values, at_column: at}
    stmt = pg_insert(table).values({**key, **changed})
    await session.execute(
        stmt.on_conflict_do_update(index_elements=list(key), set_=changed, where=table.c[at_column] <= at)
    )
