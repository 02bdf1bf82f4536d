"""Helpers the event-backbone tests share: look into a service's schema, wait for effects."""

from __future__ import annotations

import asyncio
import secrets
import string
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from devstack.pytest_plugin import TestPlatform

T = TypeVar("T")


async def connect_as(platform: TestPlatform, service: str) -> asyncpg.Connection:
    return await asyncpg.connect(platform.service_dsn(service))


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


async def applied_versions(platform: TestPlatform, factory_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[int]]:
    """For each factory, the versions the assessments read model applied, in the order it applied them."""
    rows = await fetch(
        platform,
        "assessments",
        "SELECT factory_id, version FROM factory_ref_change WHERE factory_id = ANY($1::uuid[]) ORDER BY id",
        factory_ids,
    )
    applied: dict[uuid.UUID, list[int]] = {f: [] for f in factory_ids}
    for row in rows:
        applied[row["factory_id"]].append(row["version"])
    return applied


def metric_value(metrics_text: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample family whose labels include `labels` (0 when absent)."""
    total = 0.0
    for line in metrics_text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


async def produce_raw(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]
) -> None:
    """Put records on a topic as some other (possibly broken) producer would: (key, value, headers)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def cloudevent_headers(event: Any, *, source: str = "/registry", country: str | None = "KH") -> list[tuple[str, bytes]]:
    """The headers our outbox would write for `event` (an IntegrationEvent)."""
    from datetime import UTC, datetime

    from messaging.envelope import build_headers

    headers = build_headers(
        event_id=str(uuid.uuid4()),
        source=source,
        event_type=event.type,
        subject=event.aggregate_id,
        time=datetime.now(UTC),
        country=country,
        correlation_id=None,
        trace_carrier={},
    )
    return [(k, v.encode()) for k, v in headers.items()]


async def betterwork(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the `betterwork` CLI; returns its exit code and output."""
    import sys
    from pathlib import Path

    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("betterwork")),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


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
