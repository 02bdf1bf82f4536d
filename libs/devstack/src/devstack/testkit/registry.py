"""Builders for the registry: registration bodies no other test uses, factories written through the API."""

from __future__ import annotations

import asyncio
import secrets
import string
import uuid
from datetime import date
from typing import Any

import httpx


def random_word(length: int = 10) -> str:
    """Letters no other test will use, so the registry's matching sees a new factory."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(length)).capitalize()


def new_factory(name: str | None = None, country: str = "KH", **fields: Any) -> dict[str, Any]:
    """A registration body for a factory no other test registers (unique name and address)."""
    word = random_word()
    return {
        "name": f"{name} {word}" if name and not fields.pop("exact_name", False) else (name or f"{word} Garment"),
        "country": country,
        "address": f"Plot {secrets.randbelow(10_000)}, {random_word()} Road",
        **fields,
    }


async def registered_factory(
    registry: httpx.AsyncClient, headers: dict[str, str], *, country: str = "KH", **fields: Any
) -> dict[str, Any]:
    """A new factory, registered through the registry's API (status `registered`); its full record."""
    created = await registry.post("/v1/factories", json=new_factory(country=country, **fields), headers=headers)
    assert created.status_code == 201, created.text
    factory: dict[str, Any] = created.json()["factory"]
    return factory


async def enrolled_factory(
    registry: httpx.AsyncClient, headers: dict[str, str], *, country: str = "KH", active: bool = True, **fields: Any
) -> dict[str, Any]:
    """A new factory moved through enrolment (service package `core`, starting today) and to `active` unless
    `active=False`; its record afterwards. `headers` are staff of `country`."""
    factory = await registered_factory(registry, headers, country=country, **fields)
    enrol = {"change": "enrolled", "service_package": "core", "start_date": date.today().isoformat()}
    steps: list[dict[str, Any]] = [enrol] + ([{"change": "activated"}] if active else [])
    for step in steps:
        moved = await registry.post(f"/v1/factories/{factory['id']}/status-changes", json=step, headers=headers)
        assert moved.status_code == 201, moved.text
    current = await registry.get(f"/v1/factories/{factory['id']}", headers=headers)
    assert current.status_code == 200, current.text
    record: dict[str, Any] = current.json()
    return record


async def write_factories(
    client: Any, token: str, *, factories: int, renames: int, per_second: float | None = None
) -> list[uuid.UUID]:
    """Register `factories` factories and rename each `renames` times, through the registry's HTTP API.

    Factories are written concurrently, each one's changes in order: `factories * (1 + renames)` events;
    `per_second` paces how many factories start each second (default: as fast as possible).
    """
    headers = {"Authorization": f"Bearer {token}"}
    tag = random_word()  # the session's database is shared: names unlike other tests' keep matching out of it

    async def one(i: int) -> uuid.UUID:
        created = await client.post("/v1/factories", json=new_factory(f"{tag} Factory {i} v1"), headers=headers)
        assert created.status_code == 201, created.text
        factory_id = uuid.UUID(created.json()["factory"]["id"])
        for version in range(2, renames + 2):
            renamed = await client.patch(
                f"/v1/factories/{factory_id}", json={"name": f"{tag} Factory {i} v{version}"}, headers=headers
            )
            assert renamed.status_code == 200, renamed.text
        return factory_id

    limit = asyncio.Semaphore(8)

    async def bounded(i: int) -> uuid.UUID:
        if per_second:
            await asyncio.sleep(i / per_second)
        async with limit:
            return await one(i)

    return list(await asyncio.gather(*(bounded(i) for i in range(factories))))
