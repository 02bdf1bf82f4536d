"""Consumer throughput: one EventConsumer applying `factory.registered` events with the assessments handlers.

Starts a dedicated Tansu broker and a fresh database (bench/local_platform.py),
produces N valid FactoryRegistered events straight to `<prefix>registry.factory`
(CloudEvents binary-mode headers from messaging.envelope.build_headers, a
unique ce_id and a traceparent each, keyed by factory id), then runs one
EventConsumer in this process, configured as messaging/runtime.py configures
the assessments consumer, on a fresh group, and times it from start until
`processed_total == N` (group join included; the rate after the first event
is printed too).

Second pass: N new events, each sent twice to the same topic (`--duplicates
replay`: all N, then the same N again, as a relay resend or a rewound consumer
delivers them; `adjacent`: each event twice in a row), while the same consumer
keeps running (a new member would wait for Tansu's slow re-join); it checks
that the inbox let exactly N effects through and times the 2N deliveries from
the first send (production overlaps consumption).

Target: >= 1,000 events/s per consumer process.
Usage: .venv/bin/python bench/consumer_throughput.py [--events 20000] [--duplicates replay|adjacent]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from local_platform import CpuMeter, LocalPlatform, local_platform, progress, verdict
from prometheus_client import CollectorRegistry

from assessments.handlers import EVENT_HANDLERS
from betterwork_contracts import EVENTS, TOPICS
from betterwork_contracts.events.registry import FactoryRegistered
from messaging.consumer import EventConsumer
from messaging.envelope import build_headers
from messaging.metrics import MessagingMetrics
from messaging.runtime import consumer_config
from messaging.topics import ensure_topics
from servicekit.database import Database
from servicekit.telemetry import build_tracer_provider

TARGET_RATE = 1_000.0
TOPIC = "registry.factory"

Message = tuple[bytes, bytes, list[tuple[str, bytes]]]


def make_events(count: int) -> tuple[list[uuid.UUID], list[Message]]:
    now = datetime.now(UTC)
    ids, messages = [], []
    for i in range(count):
        event = FactoryRegistered(
            factory_id=uuid.uuid4(), version=1, country="KH", name=f"Bench Factory {i}", registered_at=now
        )
        traceparent = f"00-{random.getrandbits(128):032x}-{random.getrandbits(64):016x}-01"
        headers = build_headers(
            event_id=str(uuid.uuid4()),
            source="/registry",
            event_type=FactoryRegistered.type,
            subject=event.aggregate_id,
            time=now,
            country="KH",
            correlation_id=None,
            trace_carrier={"traceparent": traceparent},
        )
        ids.append(event.factory_id)
        messages.append(
            (
                event.model_dump_json().encode(),
                event.aggregate_id.encode(),
                [(k, v.encode()) for k, v in headers.items()],
            )
        )
    return ids, messages


async def produce(platform: LocalPlatform, topic: str, messages: list[Message]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=10_000,
    )
    await asyncio.wait_for(producer.start(), 10)
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=k, headers=h) for v, k, h in messages]
        await asyncio.wait_for(asyncio.gather(*futures), 120)
        return time.perf_counter() - started
    finally:
        await asyncio.wait_for(producer.stop(), 10)


def duplicates_skipped(registry: CollectorRegistry, group: str) -> int:
    return int(registry.get_sample_value("events_duplicates_skipped_total", {"group": group}) or 0)


class ConsumerRun:
    """One EventConsumer, configured as messaging/runtime.py configures the assessments consumer, in `group`."""

    def __init__(self, platform: LocalPlatform, topic: str, group: str) -> None:
        self.platform = platform
        settings = platform.settings("assessments")
        self.settings = settings
        self.group = group
        self.metrics_registry = CollectorRegistry()
        self.database = Database(
            settings.service_database_url(),
            schema=settings.db_schema,
            pool_size=settings.db_pool_size,
            application_name="betterwork-assessments",
        )
        self.consumer = EventConsumer(
            dataclasses.replace(consumer_config(settings, EVENT_HANDLERS), group=group),  # as the service runs it
            database=self.database,
            handlers=EVENT_HANDLERS,
            event_types=EVENTS,
            metrics=MessagingMetrics(self.metrics_registry),
            tracer_provider=build_tracer_provider("assessments", "none", None),
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.consumer.run(self._stop))

    @property
    def applied(self) -> int:
        return self.consumer.processed_total

    @property
    def skipped(self) -> int:
        return int(
            self.metrics_registry.get_sample_value("events_duplicates_skipped_total", {"group": self.group}) or 0
        )

    @property
    def dead_lettered(self) -> int:
        return int(
            sum(
                s.value
                for m in self.metrics_registry.collect()
                if m.name == "events_dead_lettered"
                for s in m.samples
                if s.name.endswith("_total")
            )
        )

    async def wait_for(self, applied: int, skipped: int, since: float, timeout: float) -> dict[str, float]:
        """Wait until the consumer has applied and skipped this many in all; times are from `since`."""
        base = self.applied + self.skipped
        first_at: float | None = None
        meter = CpuMeter()
        meter.add("bench process (consumer)", [os.getpid()])
        meter.add("broker", [self.platform.broker_pid])
        meter.add("postgres backends", await self.platform.backend_pids())
        meter.start()
        deadline = since + timeout
        while time.perf_counter() < deadline and self._task is not None and not self._task.done():
            if first_at is None and self.applied + self.skipped > base:
                first_at = time.perf_counter()
            if self.applied >= applied and self.applied + self.skipped >= applied + skipped:
                break
            await asyncio.sleep(0.005)
        finished = time.perf_counter()
        meter.add_new("postgres backends", await self.platform.backend_pids())  # pool connections opened meanwhile
        meter.stop()
        if self.applied < applied or self.skipped < skipped:
            progress(f"  gave up after {timeout:g}s: applied {self.applied}, skipped {self.skipped}")
        print(f"  {meter.report()}")
        return {"elapsed": finished - since, "first": (first_at or finished) - since}

    async def stop(self) -> None:
        self._stop.set()
        try:
            if self._task is not None:
                await asyncio.wait_for(self._task, 30)
        finally:
            await self.database.dispose()


async def count_effects(platform: LocalPlatform, ids: list[uuid.UUID]) -> tuple[int, int]:
    conn = await platform.admin_connection()
    try:
        changes = await conn.fetchval(
            "SELECT count(*) FROM assessments.factory_ref_change WHERE factory_id = ANY($1::uuid[])", ids
        )
        refs = await conn.fetchval(
            "SELECT count(*) FROM assessments.factory_ref WHERE factory_id = ANY($1::uuid[])", ids
        )
        return int(changes), int(refs)
    finally:
        await conn.close()


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> None:
    topic = platform.topic_prefix + TOPIC
    await ensure_topics(
        platform.kafka_bootstrap_servers, {topic: TOPICS[TOPIC].partitions}, replication_factor=1, timeout_s=10
    )
    n = args.events
    settings = platform.settings("assessments")

    progress(f"pass 1: producing {n} factory.registered events to {topic}...")
    ids, messages = make_events(n)
    produced = await produce(platform, topic, messages)
    progress(f"  produced in {produced:.2f}s; consuming with one EventConsumer on a fresh group...")
    run = ConsumerRun(platform, topic, f"{settings.kafka_topic_prefix}{settings.service_name}-{secrets.token_hex(3)}")
    try:
        started = time.perf_counter()
        run.start()
        first = await run.wait_for(n, 0, started, args.timeout)
        applied1, dead1 = run.applied, run.dead_lettered
        effects, refs = await count_effects(platform, ids)

        progress(f"pass 2: {n} new events, each twice ({args.duplicates}), to the same consumer...")
        ids2, messages2 = make_events(n)
        doubled = [m for m in messages2 for _ in range(2)] if args.duplicates == "adjacent" else messages2 * 2
        started2 = time.perf_counter()
        produced2 = await produce(platform, topic, doubled)
        progress(f"  produced {len(doubled)} in {produced2:.2f}s (the consumer was already at work)")
        second = await run.wait_for(2 * n, n, started2, args.timeout)
        applied2, skipped2, dead2 = run.applied - applied1, run.skipped, run.dead_lettered - dead1
        effects2, refs2 = await count_effects(platform, ids2)
    finally:
        await run.stop()

    rate = n / first["elapsed"]
    steady = n / (first["elapsed"] - first["first"])
    rate2 = 2 * n / second["elapsed"]
    print()
    print(
        f"consumer settings: batch size {settings.consumer_batch_size}, fetch_max_wait_ms "
        f"{settings.kafka_fetch_max_wait_ms}, session timeout {settings.kafka_session_timeout_ms} ms, "
        f"{TOPICS[TOPIC].partitions} partitions; one EventConsumer in this process"
    )
    print(
        f"pass 1 (unique events): {n} in {first['elapsed']:.2f}s from consumer start = {rate:,.0f} events/s; "
        f"first effect after {first['first']:.2f}s (group join), then {steady:,.0f} events/s"
    )
    print(
        f"  applied {applied1}, dead-lettered {dead1}; effects: {effects} factory_ref_change rows, {refs} factory_ref"
    )
    print(
        f"pass 2 (every event twice, {args.duplicates}): {2 * n} deliveries in {second['elapsed']:.2f}s "
        f"from the first send = {rate2:,.0f} deliveries/s ({n / second['elapsed']:,.0f} distinct events/s)"
    )
    print(
        f"  applied {applied2}, duplicates skipped {skipped2}, dead-lettered {dead2}; "
        f"effects: {effects2} factory_ref_change rows, {refs2} factory_ref rows"
    )
    dedup_ok = effects2 == n and refs2 == n and applied2 == n and skipped2 == n
    print(f"pass 2 effects == N ({effects2} == {n}) and duplicates skipped == N ({skipped2}): {verdict(dedup_ok)}")
    target = f"{TARGET_RATE:,.0f} events/s per consumer process"
    print(f"consumer {rate:,.0f} events/s from start (group join included) >= {target}: {verdict(rate >= TARGET_RATE)}")
    print(f"consumer {steady:,.0f} events/s after the group join >= {target}: {verdict(steady >= TARGET_RATE)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per pass (default 20,000)")
    parser.add_argument("--duplicates", choices=("replay", "adjacent"), default="replay", help="order of the copies")
    parser.add_argument("--timeout", type=float, default=120, help="give up on a pass after this many seconds")
    args = parser.parse_args()
    with local_platform() as platform:
        asyncio.run(measure(platform, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
