"""Async engine, sessions and the unit of work (SQLAlchemy 2 on asyncpg)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


class Database:
    """One connection pool per service process, logged in as the service's own role."""

    def __init__(self, url: URL, *, schema: str, pool_size: int = 5, application_name: str = "betterwork") -> None:
        self.schema = schema
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=5,
            connect_args={
                "timeout": 5,
                "command_timeout": 30,
                "server_settings": {"search_path": schema, "application_name": application_name},
            },
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def ping(self, timeout: float) -> None:
        """Raise unless the database answers `SELECT 1` within `timeout` seconds."""

        async def _select_one() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(_select_one(), timeout)

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """One transaction: `async with uow:` ... `await uow.commit()`.

    Leaving the block without `commit()` rolls back, so a request that fails
    half-way changes nothing. Hooks registered with `before_commit` run inside
    the transaction (the outbox writes its rows there).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._before_commit: list[Callable[[AsyncSession], Awaitable[None]]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    def before_commit(self, hook: Callable[[AsyncSession], Awaitable[None]]) -> None:
        self._before_commit.append(hook)

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("unit of work is already open")
        self._session = self._sessions()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self.session, None
        self._before_commit.clear()
        try:
            await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        for hook in self._before_commit:
            await hook(self.session)
        self._before_commit.clear()
        await self.session.commit()

    async def rollback(self) -> None:
        self._before_commit.clear()
        await self.session.rollback()
