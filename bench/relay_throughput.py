"""Outbox relay throughput: a prefilled registry outbox drained to the broker by one OutboxRelay.

Starts a dedicated Tansu broker and a fresh database (bench/local_platform.py),
writes N `factory.registered` events into the registry's outbox with
messaging's own Outbox.write (chunks of 2,000 per transaction, inside a span so
the rows carry a traceparent as a request's would), then runs one OutboxRelay
in this process, configured as messaging/runtime.py configures it from the
registry's settings, and times it from start until `published_total == N`
(topic creation and producer start included; the topic-creation time is also
printed on its own). Then, against the same broker, it measures raw aiokafka:
one producer with the relay's settings except a 2 ms linger, which helps raw
batching a little (acks=all, 256 KiB batches, no idempotence; the relay uses
linger 0 for latency) sends the same N values, keys and headers to another topic with
the same partition count, all at once, then gathers the futures.

Targets: relay >= 5,000 events/s, and relay >= 30% of raw.
Usage: .venv/bin/python bench/relay_throughput.py [--events 50000] [--batch-size N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from local_platform import CpuMeter, LocalPlatform, local_platform, progress, verdict

import messaging.relay as relay_module
from betterwork_contracts.events.registry import FactoryRegistered
from messaging.metrics import MessagingMetrics
from messaging.relay import OutboxRelay
from messaging.runtime import outbox_for, relay_config
from messaging.topics import ensure_topics
from servicekit.database import Database
from servicekit.telemetry import build_tracer_provider

TARGET_RATE = 5_000.0
TARGET_FRACTION = 0.30
CHUNK = 2_000
TOPIC = "registry.factory"


async def prefill(platform: LocalPlatform, events: int) -> None:
    settings = platform.settings("registry")
    outbox = outbox_for(settings)
    database = Database(settings.service_database_url(), schema=settings.db_schema, pool_size=1, event_sink=None)
    tracer = build_tracer_provider("registry", "none", None).get_tracer("bench")
    now = datetime.now(UTC)
    started = time.perf_counter()
    try:
        for first in range(0, events, CHUNK):
            batch = [
                (
                    FactoryRegistered(
                        factory_id=uuid.uuid4(), version=1, country="KH", name=f"Bench Factory {i}", registered_at=now
                    ),
                    {"country": "KH"},
                )
                for i in range(first, min(first + CHUNK, events))
            ]
            with tracer.start_as_current_span("POST /v1/factories"):  # rows carry a traceparent, as in the service
                async with database.unit_of_work() as uow:
                    await outbox.write(uow.session, batch)
                    await uow.commit()
    finally:
        await database.dispose()
    elapsed = time.perf_counter() - started
    progress(
        f"  prefilled {events} outbox rows in {elapsed:.1f}s ({events / elapsed:,.0f} rows/s through Outbox.write)"
    )


def timed(fn: Callable[..., Awaitable[Any]], into: list[float]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    return wrapper


async def run_relay(platform: LocalPlatform, events: int, batch_size: int | None, timeout: float) -> dict[str, float]:
    overrides = {"relay_batch_size": batch_size} if batch_size else {}
    settings = platform.settings("registry", **overrides)
    config = relay_config(settings)  # as the registry service builds it
    assert config is not None
    relay = OutboxRelay(
        config, metrics=MessagingMetrics(None), tracer_provider=build_tracer_provider("registry", "none", None)
    )
    topic_times: list[float] = []
    original_ensure_topics = relay_module.ensure_topics
    relay_module.ensure_topics = timed(original_ensure_topics, topic_times)  # type: ignore[assignment]
    meter = CpuMeter()
    meter.add("bench process (relay)", [os.getpid()])
    meter.add("broker", [platform.broker_pid])
    stop = asyncio.Event()
    first_at: float | None = None
    try:
        started = time.perf_counter()
        meter.start()
        task = asyncio.create_task(relay.run(stop))
        deadline = started + timeout
        while relay.published_total < events and time.perf_counter() < deadline and not task.done():
            if first_at is None and relay.published_total:
                first_at = time.perf_counter()
            await asyncio.sleep(0.005)
        finished = time.perf_counter()
        meter.add_new("postgres backends", await platform.backend_pids())  # the relay's connection, opened meanwhile
        meter.stop()
    finally:
        stop.set()
        relay_module.ensure_topics = original_ensure_topics
    await asyncio.wait_for(task, 30)
    if relay.published_total < events:
        progress(f"  the relay published only {relay.published_total} of {events} within {timeout:g}s")
    print(f"  {meter.report()}")
    return {
        "published": relay.published_total,
        "elapsed": finished - started,
        "topics": topic_times[0] if topic_times else float("nan"),
        "first": (first_at - started) if first_at else float("nan"),
        "batch_size": config.batch_size,
        "partitions": next(iter(config.topic_partitions.values())),
    }


async def load_messages(platform: LocalPlatform) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    conn = await platform.admin_connection()
    try:
        rows = await conn.fetch(
            "SELECT aggregateid, payload::text AS payload, headers::text AS headers FROM registry.outbox ORDER BY seq"
        )
    finally:
        await conn.close()
    return [
        (
            r["payload"].encode(),
            r["aggregateid"].encode(),
            [(k, v.encode()) for k, v in json.loads(r["headers"]).items()],
        )
        for r in rows
    ]


async def run_raw(platform: LocalPlatform, partitions: int) -> dict[str, float]:
    messages = await load_messages(platform)
    topic = platform.topic_prefix + "bench.raw-produce"
    started = time.perf_counter()
    await ensure_topics(platform.kafka_bootstrap_servers, {topic: partitions}, replication_factor=1, timeout_s=10)
    topics_s = time.perf_counter() - started
    producer = AIOKafkaProducer(  # the relay's settings (messaging/relay.py _start_producer)
        bootstrap_servers=platform.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=False,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=10_000,
        client_id="betterwork-bench-raw",
    )
    await asyncio.wait_for(producer.start(), 10)
    meter = CpuMeter()
    meter.add("bench process (producer)", [os.getpid()])
    meter.add("broker", [platform.broker_pid])
    try:
        meter.start()
        started = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=k, headers=h) for v, k, h in messages]
        await asyncio.wait_for(asyncio.gather(*futures), 120)
        elapsed = time.perf_counter() - started
        meter.stop()
    finally:
        await asyncio.wait_for(producer.stop(), 10)
    print(f"  {meter.report()}")
    value_bytes = sum(len(v) for v, _, _ in messages) / len(messages)
    header_bytes = sum(len(k) + len(v) for _, _, h in messages for k, v in h) / len(messages)
    return {
        "sent": len(messages),
        "elapsed": elapsed,
        "topics": topics_s,
        "value": value_bytes,
        "headers": header_bytes,
    }


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> None:
    progress(f"prefilling the registry outbox with {args.events} factory.registered events...")
    await prefill(platform, args.events)
    progress("running one OutboxRelay until it has published them all...")
    relay = await run_relay(platform, args.events, args.batch_size, args.timeout)
    relay_rate = relay["published"] / relay["elapsed"]
    progress(f"raw aiokafka: sending the same {args.events} messages to a topic of {relay['partitions']} partitions...")
    raw = await run_raw(platform, int(relay["partitions"]))
    raw_rate = raw["sent"] / raw["elapsed"]

    print()
    print(
        f"messages: {raw['value']:.0f} B value + {raw['headers']:.0f} B of headers on average; "
        f"{relay['partitions']} partitions; relay batch size {relay['batch_size']}"
    )
    print(
        f"relay: {relay['published']} events in {relay['elapsed']:.2f}s = {relay_rate:,.0f} events/s "
        f"(topic creation {relay['topics'] * 1000:.0f} ms; first batch published after {relay['first'] * 1000:.0f} ms)"
    )
    print(
        f"raw aiokafka (acks=all, send all then gather): {raw['sent']} in {raw['elapsed']:.2f}s "
        f"= {raw_rate:,.0f} events/s (topic creation {raw['topics'] * 1000:.0f} ms, not included)"
    )
    ratio = relay_rate / raw_rate
    print(f"relay / raw = {ratio:.0%}")
    ok_rate, ok_ratio = relay_rate >= TARGET_RATE, ratio >= TARGET_FRACTION
    print(f"relay {relay_rate:,.0f} events/s >= {TARGET_RATE:,.0f}: {verdict(ok_rate)}")
    print(f"relay {ratio:.0%} of raw >= {TARGET_FRACTION:.0%}: {verdict(ok_ratio)}")
    print(f"relay throughput: {verdict(ok_rate and ok_ratio)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="outbox rows to relay (default 50,000)")
    parser.add_argument("--batch-size", type=int, default=None, help="relay_batch_size (default: the setting's)")
    parser.add_argument("--timeout", type=float, default=150, help="give up on the relay after this many seconds")
    args = parser.parse_args()
    with local_platform() as platform:
        asyncio.run(measure(platform, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
