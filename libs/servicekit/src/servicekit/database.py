"""Async engine, sessions and the unit of work (SQLAlchemy 2 on asyncpg)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from starlette.requests import HTTPConnection

from servicekit.settings import libpq_dsn

_log = logging.getLogger("servicekit.database")

EventSink = Callable[[AsyncSession, list[tuple[Any, dict[str, Any]]]], Awaitable[None]]


class Statement:
    """A statement with `:name` parameters run on the session's asyncpg connection, inside its transaction.

    For the few statements on a hot write path (a registration's candidates and insert, the outbox): SQLAlchemy's
    execution and result layers cost about twice what Postgres and asyncpg do for them (measured in
    bench/registry_load.py). The text is written once with named parameters, like `text()`; `:name` becomes `$n`.
    """

    _NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")

    def __init__(self, sql: str) -> None:
        names: list[str] = []

        def positional(found: re.Match[str]) -> str:
            if found.group(1) not in names:
                names.append(found.group(1))
            return f"${names.index(found.group(1)) + 1}"

        self.sql = self._NAMED.sub(positional, sql)
        self.names = tuple(names)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]

    async def fetch(self, session: AsyncSession, **params: Any) -> list[asyncpg.Record]:
        connection = await driver_connection(session)
        rows: list[asyncpg.Record] = await connection.fetch(self.sql, *self.args(params))
        return rows

    async def execute(self, session: AsyncSession, **params: Any) -> None:
        connection = await driver_connection(session)
        await connection.execute(self.sql, *self.args(params))


def after_commit(session: AsyncSession, callback: Callable[[AsyncSession], None]) -> None:
    """Call `callback(session)` once the unit of work holding `session` has committed; never if it rolls back.

    For work that must not run inside the transaction, such as waking the outbox relay (`messaging.outbox`)."""
    callbacks: list[Callable[[AsyncSession], None]] = session.info.setdefault("after_commit", [])
    if callback not in callbacks:
        callbacks.append(callback)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`, in the session's transaction (begun here if nothing ran yet, as
    SQLAlchemy would at its first statement). JSON columns come back decoded (SQLAlchemy's codec).

    Found once per transaction of the session: a registration runs three statements here, and asking SQLAlchemy
    for the connection each time was a twentieth of the registry's CPU (bench/registry_load.py)."""
    transaction = session.sync_session.get_transaction()
    known = session.info.get("driver_connection")
    if known is not None and transaction is not None and known[0] is transaction and known[1].is_in_transaction():
        found: asyncpg.Connection = known[1]
        return found
    connection = await session.connection()
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection  # SQLAlchemy's asyncpg adapter
    if adapted._transaction is None and not adapted.autocommit:
        await adapted._start_transaction()
    driver: asyncpg.Connection = adapted.driver_connection
    if not driver.is_in_transaction():
        raise RuntimeError("the session's connection is not in a transaction")
    session.info["driver_connection"] = (session.sync_session.get_transaction(), driver)
    return driver


class Database:
    """One connection pool per service process, logged in as the service's own role."""

    def __init__(
        self,
        url: URL,
        *,
        schema: str,
        pool_size: int = 5,
        application_name: str = "betterwork",
        event_sink: EventSink | None = None,
    ) -> None:
        self.schema = schema
        self.url = url
        self.event_sink = event_sink
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            # No overflow: a burst waits for a pooled connection rather than opening (and closing) new
            # ones, which costs Postgres far more than the wait (measured in bench/registry_load.py).
            max_overflow=0,
            # No pre-ping: it costs a round trip per transaction. A connection that died is invalidated
            # on first use; callers retry (consumers) or the client does (HTTP, idempotently).
            pool_recycle=1800,
            pool_timeout=5,
            connect_args={
                "timeout": 5,
                "command_timeout": 30,
                "server_settings": {"search_path": schema, "application_name": application_name},
            },
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._application_name = application_name
        self._pool_size = pool_size
        self._readers: asyncpg.Pool | None = None
        self._readers_lock = asyncio.Lock()

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, event_sink=self.event_sink)

    async def ping(self, timeout: float) -> None:
        """Raise unless the database answers `SELECT 1` within `timeout` seconds."""

        async def _select_one() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(_select_one(), timeout)

    async def read_one(self, query: str, *args: Any) -> asyncpg.Record | None:
        """One row of a single read-only statement, outside any transaction (JSON columns decoded).

        For hot reads, such as a record by id: a pool of read-only connections without SQLAlchemy, a
        transaction or a reset on return, about a third of the cost of a unit of work. Anything that
        writes, or reads twice and needs one snapshot, uses `unit_of_work()`.
        """
        readers = self._readers or await self._open_readers()
        async with readers.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def _open_readers(self) -> asyncpg.Pool:
        async with self._readers_lock:
            if self._readers is None:
                self._readers = await asyncpg.create_pool(
                    libpq_dsn(self.url),
                    min_size=1,
                    max_size=self._pool_size,
                    init=_decode_json,
                    reset=_keep_session,
                    timeout=5,
                    command_timeout=30,
                    server_settings={
                        "search_path": self.schema,
                        "application_name": f"{self._application_name}-read",
                        "default_transaction_read_only": "on",
                    },
                )
            return self._readers

    async def dispose(self) -> None:
        if self._readers is not None:
            await self._readers.close()
            self._readers = None
        await self.engine.dispose()


def database_of(request: HTTPConnection) -> Database:
    """The service's database, as `create_service_app` set it up: what a route reaches its data through."""
    database: Database = request.app.state.database
    return database


async def _decode_json(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Read-only connections change no session state, so returning one needs no RESET round trip."""


class UnitOfWork:
    """One transaction: `async with uow:` ... `await uow.commit()`.

    Leaving the block without `commit()` rolls back, so a request that fails
    half-way changes nothing. Events passed to `emit` are handed to the event
    sink (the transactional outbox) inside the same transaction at commit, so a
    state change and the events announcing it are stored together or not at all.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, event_sink: EventSink | None = None) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._event_sink = event_sink
        self._events: list[tuple[Any, dict[str, Any]]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    def emit(self, event: Any, **attributes: Any) -> None:
        """Publish `event` if and when this unit of work commits (attributes: country, correlation_id)."""
        if self._event_sink is None:
            raise RuntimeError("this database has no event sink: the service does not publish events")
        self._events.append((event, attributes))

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("unit of work is already open")
        self._session = self._sessions()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self.session, None
        self._events.clear()
        session.info.pop("after_commit", None)
        try:
            await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        if self._events:
            assert self._event_sink is not None
            events, self._events = self._events, []
            await self._event_sink(self.session, events)
        await self.session.commit()
        for callback in self.session.info.pop("after_commit", ()):
            try:
                callback(self.session)
            except Exception:  # the commit stands: what follows it must not turn it into an error
                _log.exception("after-commit callback %r failed", callback)

    async def rollback(self) -> None:
        self._events.clear()
        self.session.info.pop("after_commit", None)
        await self.session.rollback()
