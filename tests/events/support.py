"""Helpers the event-backbone tests share: look into a service's schema, wait for effects."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from devstack.pytest_plugin import TestPlatform

T = TypeVar("T")


async def connect_as(platform: TestPlatform, service: str) -> asyncpg.Connection:
    url = platform.settings(service).service_database_url().set(drivername="postgresql")
    return await asyncpg.connect(url.render_as_string(hide_password=False))


async def fetch(platform: TestPlatform, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await connect_as(platform, service)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def read_model(platform: TestPlatform, factory_id: uuid.UUID) -> dict[str, Any] | None:
    rows = await fetch(platform, "assessments", "SELECT * FROM factory_ref WHERE factory_id = $1", factory_id)
    return dict(rows[0]) if rows else None


async def wait_until(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], Any], *, timeout: float = 30, interval: float = 0.1
) -> T:
    """Poll `probe` until `done(result)`; fail with the last result after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s; last value: {result!r}")
        await asyncio.sleep(interval)
