"""Look into a service's schema the way the service itself does (its own login role)."""

from __future__ import annotations

from typing import Any

import asyncpg

from devstack.pytest_plugin import TestPlatform


async def connect_as(platform: TestPlatform, service: str) -> asyncpg.Connection:
    return await asyncpg.connect(platform.service_dsn(service))


async def fetch(platform: TestPlatform, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await connect_as(platform, service)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()
