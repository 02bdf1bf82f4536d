"""End-to-end event latency: registry commit to the assessments read model's committed effect.

Starts a dedicated Tansu broker and a fresh database (bench/local_platform.py),
runs the registry and the assessments services as two real subprocesses
(`python -m servicekit.serve ...`: the registry's relay publishes, the assessments
consumer applies), and registers factories at a steady rate (default 200/s, paced
on a time.perf_counter schedule that does not drift, a few in flight at most).

The producer (`--producer`) is either `db` (default): the registry's own use case
`register_factory` (validation, factory row, audit row, outbox row, one commit),
run in this process as the registry's database role, so the clock starts exactly
at the commit; or `http`: POST /v1/factories to the registry process, the clock
starting when the 201 arrives (which adds HTTP and the registry's request CPU to
the 2 cores everything shares). After a warm-up, for `--seconds`, each event's
latency is

    factory_ref_change.applied_at (assessments, handler time in the consumer's transaction)
  - wall-clock time the producer's commit returned

Both are wall clocks of the same machine. The relay leg (outbox.published_at,
set after the broker acknowledged) is printed as a breakdown.

Targets: p50 <= 20 ms and p99 <= 100 ms at 200 events/s.
Usage: .venv/bin/python bench/event_latency.py [--seconds 20] [--rate 200] [--fetch-max-wait-ms N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from local_platform import (
    CpuMeter,
    LocalPlatform,
    ServiceProcess,
    local_platform,
    percentile,
    progress,
    verdict,
    wait_ready,
)

TARGET_P50_MS = 20.0
TARGET_P99_MS = 100.0
SERVICES = ("registry", "assessments")


@dataclass
class Sent:
    index: int
    warmup: bool
    factory_id: uuid.UUID
    committed_at: float  # time.time() when the 201 arrived
    request_ms: float
    late_ms: float  # how far behind its slot in the schedule the request went out


class DatabaseProducer:
    """The registry's use case, called directly: what POST /v1/factories does after parsing the request."""

    def __init__(self, platform: LocalPlatform) -> None:
        from messaging.runtime import outbox_for
        from servicekit.auth import Principal, Role
        from servicekit.database import Database

        settings = self.settings = platform.settings("registry")
        self.database = Database(
            settings.service_database_url(), schema="registry", pool_size=4, event_sink=outbox_for(settings).write
        )
        self.principal = Principal(subject="bench", roles=frozenset({Role.STAFF}), country="KH")

    async def register(self, name: str) -> tuple[uuid.UUID, float]:
        from registry.service.factories import register

        async with self.database.unit_of_work() as uow:
            result = await register(
                uow,
                principal=self.principal,
                settings=self.settings,
                country="KH",
                values={"name": name, "address": f"{name} Road"},
            )
        assert result.factory is not None, result
        return result.factory.id, time.time()

    async def close(self) -> None:
        await self.database.dispose()


async def register(client: httpx.AsyncClient, url: str, headers: dict[str, str], name: str) -> tuple[uuid.UUID, float]:
    body = {"name": name, "country": "KH", "address": f"{name} Road"}
    response = await client.post(f"{url}/v1/factories", json=body, headers=headers)
    committed_at = time.time()
    if response.status_code != 201:
        raise RuntimeError(f"POST /v1/factories answered {response.status_code}: {response.text[:300]}")
    return uuid.UUID(response.json()["factory"]["id"]), committed_at


async def effects(platform: LocalPlatform, ids: list[uuid.UUID]) -> dict[uuid.UUID, float]:
    conn = await platform.admin_connection()
    try:
        rows = await conn.fetch(
            """SELECT factory_id, extract(epoch FROM min(applied_at))::float8 AS applied
               FROM assessments.factory_ref_change WHERE factory_id = ANY($1::uuid[]) GROUP BY factory_id""",
            ids,
        )
        return {r["factory_id"]: r["applied"] for r in rows}
    finally:
        await conn.close()


async def outbox_times(platform: LocalPlatform, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[float, float]]:
    """(created_at, published_at) of each factory's outbox row: written before commit, marked after the ack."""
    conn = await platform.admin_connection()
    try:
        rows = await conn.fetch(
            """SELECT aggregateid, extract(epoch FROM created_at)::float8 AS created,
                      extract(epoch FROM published_at)::float8 AS published
               FROM registry.outbox WHERE aggregateid = ANY($1::text[]) AND published_at IS NOT NULL""",
            [str(i) for i in ids],
        )
        return {uuid.UUID(r["aggregateid"]): (r["created"], r["published"]) for r in rows}
    finally:
        await conn.close()


async def wait_for_effects(platform: LocalPlatform, ids: list[uuid.UUID], timeout: float) -> dict[uuid.UUID, float]:
    deadline = time.monotonic() + timeout
    while True:
        found = await effects(platform, ids)
        if len(found) == len(ids) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def first_event(platform: LocalPlatform, registry: ServiceProcess, headers: dict[str, str]) -> float:
    """One event end to end, so the consumer has joined its group before the clock starts; seconds it took."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as client:
        first_id, _ = await register(client, registry.url, headers, "Bench Factory first")
    if not await wait_for_effects(platform, [first_id], 60):
        raise SystemExit("the first event never reached assessments within 60s")
    return time.perf_counter() - started


async def run_load(
    registry: ServiceProcess,
    headers: dict[str, str],
    rate: float,
    warmup_s: float,
    seconds: float,
    concurrency: int,
    producer: DatabaseProducer | None = None,
) -> tuple[list[Sent], float]:
    """Send at `rate` on a fixed schedule; returns what was sent and the achieved rate of the measured part."""
    warmup_n, measured_n = int(warmup_s * rate), int(seconds * rate)
    sent: list[Sent] = []
    failures: list[str] = []
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def one(index: int, scheduled: float) -> None:
            try:
                late_ms = (time.perf_counter() - scheduled) * 1000
                t = time.perf_counter()
                if producer is not None:
                    factory_id, committed_at = await producer.register(f"Bench Factory {index}")
                else:
                    factory_id, committed_at = await register(client, registry.url, headers, f"Bench Factory {index}")
                request_ms = (time.perf_counter() - t) * 1000
                sent.append(Sent(index, index < warmup_n, factory_id, committed_at, request_ms, late_ms))
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                slots.release()

        tasks: list[asyncio.Task[None]] = []
        t0 = time.perf_counter() + 0.05
        measured_start = t0 + warmup_n / rate
        for index in range(warmup_n + measured_n):
            scheduled = t0 + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            tasks.append(asyncio.create_task(one(index, scheduled)))
        await asyncio.gather(*tasks)
        measured_end = time.perf_counter()
    if failures:
        progress(f"  {len(failures)} request(s) failed; first: {failures[0]}")
    measured_ok = sum(1 for s in sent if not s.warmup)
    return sent, measured_ok / (measured_end - measured_start)


def describe(values_ms: list[float]) -> str:
    v = sorted(values_ms)
    return (
        f"p50 {percentile(v, 0.5):.1f}, p90 {percentile(v, 0.9):.1f}, p99 {percentile(v, 0.99):.1f}, max {v[-1]:.1f} ms"
    )


async def measure(platform: LocalPlatform, args: argparse.Namespace, services: list[ServiceProcess]) -> None:
    progress("waiting for /health/ready of registry and assessments...")
    await wait_ready(services, 90)
    registry = services[0]
    headers = {"Authorization": f"Bearer {platform.signing_key.mint(roles=['staff'], country='KH', ttl_s=7200)}"}
    joined = await first_event(platform, registry, headers)
    progress(f"  a first event went through in {joined:.1f}s (the consumer's group join)")
    meter = CpuMeter()
    meter.add("registry", [services[0].process.pid])
    meter.add("assessments", [services[1].process.pid])
    meter.add("broker", [platform.broker_pid])
    meter.add("postgres backends", await platform.backend_pids())
    meter.add("bench client", [os.getpid()])

    progress(
        f"sending {args.rate:g} factories/s: {args.warmup:g}s warm-up, then {args.seconds:g}s measured "
        f"(at most {args.concurrency} requests in flight)..."
    )
    producer = DatabaseProducer(platform) if args.producer == "db" else None
    meter.start()
    try:
        sent, achieved = await run_load(
            registry, headers, args.rate, args.warmup, args.seconds, args.concurrency, producer
        )
    finally:
        if producer is not None:
            await producer.close()
    meter.add_new("postgres backends", await platform.backend_pids())
    meter.stop()
    measured = [s for s in sent if not s.warmup]
    ids = [s.factory_id for s in measured]
    progress(f"waiting for the effects of {len(ids)} measured events...")
    applied = await wait_for_effects(platform, ids, 30)
    outbox = await outbox_times(platform, ids)

    latencies = [(applied[s.factory_id] - s.committed_at) * 1000 for s in measured if s.factory_id in applied]
    both = [s for s in measured if s.factory_id in applied and s.factory_id in outbox]
    relay_leg = [(outbox[s.factory_id][1] - s.committed_at) * 1000 for s in both]
    consume_leg = [(applied[s.factory_id] - outbox[s.factory_id][1]) * 1000 for s in both]
    from_write = [(applied[s.factory_id] - outbox[s.factory_id][0]) * 1000 for s in both]
    fetch_wait = platform.settings("assessments", **fetch_override(args)).kafka_fetch_max_wait_ms

    print()
    print(f"fetch_max_wait_ms in use (assessments consumer): {fetch_wait}; producer: {args.producer}")
    print(
        f"requested rate {args.rate:g} events/s; achieved {achieved:.1f} events/s over the measured {args.seconds:g}s"
    )
    print(f"events measured: {len(measured)} (warm-up excluded: {len(sent) - len(measured)})")
    if len(applied) < len(ids):
        print(f"MISSING effects: {len(ids) - len(applied)} of {len(ids)} events never reached assessments within 30s")
    if not latencies:
        print("no latencies measured: FAIL")
        return
    v = sorted(latencies)
    p50, p90, p99 = percentile(v, 0.5), percentile(v, 0.9), percentile(v, 0.99)
    print(
        f"end-to-end latency: count {len(v)}, p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, max {v[-1]:.1f} ms"
    )
    print(f"  (min {v[0]:.1f} ms, mean {sum(v) / len(v):.1f} ms)")
    if both:
        print(f"  breakdown, producer commit -> relay marked published (after broker ack): {describe(relay_leg)}")
        print(f"  breakdown, relay marked published -> applied in assessments: {describe(consume_leg)}")
        print(f"  upper bound, outbox row written (before commit) -> applied: {describe(from_write)}")
    print(f"  producer call ({args.producer}) round trip: {describe([s.request_ms for s in measured])}")
    late = sorted(s.late_ms for s in measured)
    print(f"  producer lateness vs schedule: p99 {percentile(late, 0.99):.1f} ms, max {late[-1]:.1f} ms")
    print(f"  {meter.report()}")
    ok50, ok99 = p50 <= TARGET_P50_MS, p99 <= TARGET_P99_MS
    print(f"p50 {p50:.1f} ms <= {TARGET_P50_MS:g} ms: {verdict(ok50)}")
    print(f"p99 {p99:.1f} ms <= {TARGET_P99_MS:g} ms: {verdict(ok99)}")
    print(f"event latency at {args.rate:g}/s: {verdict(ok50 and ok99)}")


def fetch_override(args: argparse.Namespace) -> dict[str, int]:
    return {"kafka_fetch_max_wait_ms": args.fetch_max_wait_ms} if args.fetch_max_wait_ms else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured duration (default 20)")
    parser.add_argument("--rate", type=float, default=200, help="events per second (default 200)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds, excluded (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="writes in flight at most (default 4)")
    parser.add_argument(
        "--producer",
        choices=("db", "http"),
        default="db",
        help="db: the registry use case in this process (default); http: POST /v1/factories",
    )
    parser.add_argument(
        "--fetch-max-wait-ms", type=int, default=None, help="KAFKA_FETCH_MAX_WAIT_MS for the services (default: theirs)"
    )
    args = parser.parse_args()

    extra_env = {"KAFKA_FETCH_MAX_WAIT_MS": str(args.fetch_max_wait_ms)} if args.fetch_max_wait_ms else {}
    with local_platform() as platform, tempfile.TemporaryDirectory(prefix="bw-bench-logs-") as logs:
        services: list[ServiceProcess] = []
        try:
            for name in SERVICES:
                progress(f"starting {name}...")
                services.append(ServiceProcess(platform, name, Path(logs), extra_env))
            asyncio.run(measure(platform, args, services))
        finally:
            for service in reversed(services):
                progress(f"stopping {service.name}...")
                service.stop()
                if service.process.returncode not in (0, -signal.SIGTERM):
                    progress(f"  {service.name} exited with {service.process.returncode}:\n{service.log_tail()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
