"""Assessments: a whole assessment's findings as one batch, and zero-tolerance events under load.

Targets (issue "Assessments service"), on this machine, one assessments worker process:
1. Submitting a whole assessment of 250 findings as one batch (PUT /v1/assessments/{id}/findings):
   at most 300 ms at p50.
2. From recording a zero-tolerance finding to the event being read by an outside consumer: p99 at most
   1 second while 200 other events/s flow.

The assessments service runs as its own process (`python -m servicekit.serve assessments`: one uvicorn
worker, relay on, publishing to a dedicated Tansu broker) against a fresh database (bench/local_platform.py).
Factories are written straight into its read model (`assessments.factory_ref`, status active), as the
registry's events would have left them.

Part 1 imports (POST /v1/tools, YAML) and publishes a 250-question KH garment tool made from the shipped
one (87 questions): the shipped questions, then copies under new codes KH-XX-NNN with the same compliance
points and tags, except that only the shipped zero-tolerance questions keep the zero_tolerance tag (the
batch opens no case). For each of `--assessments` assessments: schedule (initial), move to in_progress, then
time one PUT of all 250 findings (about 1 in 8 non-compliant, with evidence text and workers affected; the
JSON is encoded before the clock starts). The first 3 are warm-up.

Part 2 starts two outside consumers (aiokafka, no group: assign() and seek_to_end(), since joining a group
on Tansu takes seconds) on `<prefix>assessments.zero-tolerance` and `<prefix>assessments.assessment`. The
background is `--rate` other events per second through the service's own outbox and relay, produced by
`--background`:
- `outbox` (default): `assessment.scheduled` events written by this process into the assessments outbox
  (the service's event sink, as its database role; one transaction each, 4 in flight, on a fixed schedule);
  the relay in the service process publishes them alongside the zero-tolerance events;
- `http`: an open loop of POST /v1/assessments (each schedules an initial assessment of a fresh factory and
  emits one `assessment.scheduled`). One worker cannot answer 200 of those a second on this machine (about
  6 ms of CPU each), so this mode mostly measures the service saturated.
The achieved rate is what the second outside consumer reads (and the relay marks published) while the
zero-tolerance findings are recorded. Meanwhile, every `--interval` seconds, a zero-tolerance question of an
in-progress assessment is recorded non-compliant with evidence text (PUT .../findings/{code}; each opens a
new case); the clock starts just before the PUT is sent and stops when the outside consumer reads the
`zero_tolerance.case_opened` event with that case id. Every event is checked to carry no evidence.

    .venv/bin/python bench/assessments_load.py [--assessments 30] [--samples 150] [--rate 200]
        [--background outbox|http] [--parts batch,zt]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import yaml
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from loadgen import Request, Result, run_open_loop
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
from sqlalchemy import text

from assessments.service.tools import DATA
from betterwork_contracts.events.assessments import AssessmentScheduled
from messaging.runtime import outbox_for
from servicekit.auth import Role
from servicekit.database import Database

COUNTRY = "KH"
QUESTIONS = 250
BATCH_TARGET_P50_MS = 300.0
BATCH_WARMUP = 3
ZT_TARGET_P99_MS = 1000.0
ZT_MIN_SAMPLES = 100
ZT_WARMUP = 5
RATE_TOLERANCE = 0.95  # the background must reach 95 % of --rate for the measurement to count
CASE_OPENED = "org.betterwork.assessments.zero_tolerance.case_opened.v1"
VISIT = {"start_date": "2026-11-02", "end_date": "2026-11-03"}


def describe(values_ms: list[float]) -> str:
    v = sorted(values_ms)
    if not v:
        return "no values"
    return (
        f"p50 {percentile(v, 0.5):.1f}, p90 {percentile(v, 0.9):.1f}, p99 {percentile(v, 0.99):.1f}, max {v[-1]:.1f} ms"
    )


# ---- setup ------------------------------------------------------------------------------------------------------


async def add_factories(platform: LocalPlatform, count: int) -> list[uuid.UUID]:
    """`count` active factories in the assessments read model, as the registry's events would leave them."""
    ids = [uuid.uuid4() for _ in range(count)]
    now = datetime.now(UTC)
    conn = await asyncpg.connect(platform.service_dsn("assessments"))
    try:
        await conn.copy_records_to_table(
            "factory_ref",
            schema_name="assessments",
            columns=["factory_id", "name", "country", "version", "updated_at", "status"],
            records=[(fid, f"Bench Factory {fid.hex[:8]}", COUNTRY, 3, now, "active") for fid in ids],
        )
    finally:
        await conn.close()
    return ids


def bench_tool(questions: int) -> dict[str, Any]:
    """The shipped KH garment tool grown to `questions` questions; only the shipped ZT questions stay ZT."""
    shipped: dict[str, Any] = yaml.safe_load((DATA / "tool_kh_garment.yaml").read_text(encoding="utf-8"))
    originals: list[dict[str, Any]] = shipped["questions"]
    grown = list(originals[:questions])
    for n in range(len(grown), questions):
        source = originals[n % len(originals)]
        copy: dict[str, Any] = {
            "code": f"KH-XX-{n + 1:03d}",
            "compliance_point": source["compliance_point"],
            "text": {"en": f"{source['text']['en']} (bench copy {n + 1})"},
            "tags": [t for t in source.get("tags") or () if t != "zero_tolerance"],
        }
        if source.get("legal_reference"):
            copy["legal_reference"] = source["legal_reference"]
        grown.append(copy)
    return {
        "kind": "cat-country-tool",
        "country": COUNTRY,
        "sector": "garment",
        "label": f"KH garment bench {questions}",
        "effective_from": "2026-01-01",
        "legal_basis": shipped.get("legal_basis"),
        "languages": ["en"],
        "questions": grown,
    }


class Api:
    """The few calls the setup makes, in sequence, over one keep-alive connection."""

    def __init__(self, url: str, token: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=httpx.Timeout(60)
        )

    async def close(self) -> None:
        await self.client.aclose()

    @staticmethod
    def _ok(response: httpx.Response, *statuses: int) -> Any:
        if response.status_code not in statuses:
            raise SystemExit(
                f"{response.request.method} {response.request.url.path} answered {response.status_code}: "
                f"{response.text[:500]}"
            )
        return response.json()

    async def import_tool(self, document: dict[str, Any]) -> dict[str, Any]:
        body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode()
        created = self._ok(
            await self.client.post("/v1/tools", content=body, headers={"Content-Type": "application/yaml"}), 201
        )
        published: dict[str, Any] = self._ok(await self.client.post(f"/v1/tools/{created['id']}/publish"), 200)
        return published

    async def current_tool(self) -> dict[str, Any]:
        versions = self._ok(await self.client.get("/v1/tools", params={"country": COUNTRY}), 200)
        current = [v for v in versions if v["status"] == "published" and v["sector"] == "garment"]
        if not current:
            raise SystemExit("no published KH garment tool")
        tool: dict[str, Any] = self._ok(await self.client.get(f"/v1/tools/{current[0]['id']}"), 200)
        return tool

    async def in_progress(self, factory_id: uuid.UUID) -> str:
        """An initial assessment of the factory, scheduled and moved to in_progress; its id."""
        body = {"factory_id": str(factory_id), "assessment_type": "initial", **VISIT}
        assessment = self._ok(await self.client.post("/v1/assessments", json=body), 201)
        moved = await self.client.post(f"/v1/assessments/{assessment['id']}/transitions", json={"to": "in_progress"})
        self._ok(moved, 200)
        return str(assessment["id"])


def zero_tolerance_codes(tool: dict[str, Any]) -> list[str]:
    return [q["code"] for q in tool["questions"] if "zero_tolerance" in (q.get("tags") or ())]


def whole_assessment(codes: list[str], zt_codes: set[str], seed: int) -> bytes:
    """All findings of an assessment: about 1 in 8 non-compliant (never a ZT question), the rest compliant."""
    findings: list[dict[str, Any]] = []
    for i, code in enumerate(codes):
        if code not in zt_codes and (i + seed) % 8 == 0:
            findings.append(
                {
                    "question_code": code,
                    "result": "non_compliant",
                    "evidence": f"Seen on the visit, question {code}: records incomplete for line {i % 17}; "
                    "payroll and time cards for three months checked, two workers interviewed.",
                    "workers_affected": 3 + i % 40,
                }
            )
        else:
            findings.append({"question_code": code, "result": "compliant"})
    return json.dumps({"findings": findings}, separators=(",", ":")).encode()


# ---- part 1: a whole assessment as one batch --------------------------------------------------------------------


async def bench_batch(platform: LocalPlatform, service: ServiceProcess, api: Api, args: argparse.Namespace) -> bool:
    progress(f"part 1: importing and publishing a {QUESTIONS}-question tool ...")
    started = time.perf_counter()
    published = await api.import_tool(bench_tool(QUESTIONS))
    progress(
        f"  tool {published['label']!r} ({published['question_count']} questions) published "
        f"in {time.perf_counter() - started:.2f} s"
    )
    tool = await api.current_tool()
    if tool["id"] != published["id"] or len(tool["questions"]) != QUESTIONS:
        raise SystemExit(f"the current tool is {tool['label']!r} with {len(tool['questions'])} questions")
    codes = [q["code"] for q in tool["questions"]]
    zt = set(zero_tolerance_codes(tool))
    progress(f"  {len(zt)} zero-tolerance questions (left compliant in the batches)")

    count = args.assessments + BATCH_WARMUP
    factories = await add_factories(platform, count)
    meter = CpuMeter()
    meter.add("assessments", [service.process.pid])
    meter.add("postgres", await platform.backend_pids())
    meter.add("bench", [os.getpid()])
    progress(f"  {count} assessments ({BATCH_WARMUP} warm-up): schedule, in_progress, PUT {QUESTIONS} findings ...")
    timings: list[float] = []
    setup_s = 0.0
    for i, factory_id in enumerate(factories):
        t = time.perf_counter()
        assessment_id = await api.in_progress(factory_id)
        setup_s += time.perf_counter() - t
        body = whole_assessment(codes, zt, i)
        if i == BATCH_WARMUP:
            meter.start()
        t = time.perf_counter()
        response = await api.client.put(
            f"/v1/assessments/{assessment_id}/findings", content=body, headers={"Content-Type": "application/json"}
        )
        elapsed_ms = (time.perf_counter() - t) * 1000
        recorded = api._ok(response, 200)
        if recorded["recorded"] != QUESTIONS or recorded["zero_tolerance_cases_opened"]:
            raise SystemExit(f"unexpected answer to the batch: {recorded}")
        if i >= BATCH_WARMUP:
            timings.append(elapsed_ms)
        if (i + 1) % 10 == 0 or i + 1 == count:
            progress(f"  {i + 1}/{count} submitted; last {elapsed_ms:.0f} ms")
    meter.add_new("postgres", await platform.backend_pids())
    meter.stop()
    v = sorted(timings)
    p50 = percentile(v, 0.5)
    progress(
        f"PUT /v1/assessments/{{id}}/findings ({QUESTIONS} findings, one batch): count {len(v)}, "
        f"p50 {p50:.1f} ms, p90 {percentile(v, 0.9):.1f} ms, max {v[-1]:.1f} ms (min {v[0]:.1f} ms)"
    )
    progress(f"  (schedule + move to in_progress, per assessment: {setup_s / count * 1000:.1f} ms)")
    progress(f"  {meter.report()} (the PUTs only, sequential)")
    ok = p50 <= BATCH_TARGET_P50_MS
    progress(f"  target p50 <= {BATCH_TARGET_P50_MS:g} ms: {verdict(ok)}")
    return ok


# ---- part 2: zero-tolerance events under load -------------------------------------------------------------------


@dataclass
class Arrival:
    at: float  # time.time() when the outside consumer had it
    timestamp_ms: int  # the record's CreateTime (set by the relay's producer)
    value: bytes
    headers: dict[str, str]


@dataclass
class Outside:
    """Two outside consumers (no group): the zero-tolerance topic, and the assessment topic (counted only)."""

    platform: LocalPlatform
    fetch_max_wait_ms: int
    cases: dict[str, Arrival] = field(default_factory=dict)
    other_types: dict[str, int] = field(default_factory=dict)
    background_at: list[float] = field(default_factory=list)
    consumers: list[AIOKafkaConsumer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def zt_topic(self) -> str:
        return f"{self.platform.topic_prefix}assessments.zero-tolerance"

    @property
    def assessment_topic(self) -> str:
        return f"{self.platform.topic_prefix}assessments.assessment"

    async def start(self) -> None:
        for topic, handle in ((self.zt_topic, self._zero_tolerance), (self.assessment_topic, self._background)):
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.platform.kafka_bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                fetch_max_wait_ms=self.fetch_max_wait_ms,
                client_id=f"bench-outside-{topic}",
            )
            await asyncio.wait_for(consumer.start(), 20)
            self.consumers.append(consumer)
            deadline = time.monotonic() + 30
            while topic not in await consumer.topics():  # the service's relay creates its topics on start
                if time.monotonic() > deadline:
                    raise SystemExit(f"topic {topic} does not exist after 30 s")
                await asyncio.sleep(0.5)
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for tp in partitions:  # resolve the end offsets now, not lazily at the first fetch
                await consumer.position(tp)
            self.tasks.append(asyncio.create_task(self._read(consumer, handle)))
        progress(
            f"  outside consumers assigned to {self.zt_topic} and {self.assessment_topic} "
            f"(no group, from the end; fetch_max_wait_ms {self.fetch_max_wait_ms})"
        )

    async def _read(self, consumer: AIOKafkaConsumer, handle: Any) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
            now = time.time()
            for records in batches.values():
                for record in records:
                    handle(record, now)

    def _zero_tolerance(self, record: ConsumerRecord[bytes, bytes], now: float) -> None:
        headers = {k: v.decode() for k, v in record.headers}
        if headers.get("ce_type") != CASE_OPENED:
            self.other_types[headers.get("ce_type", "?")] = self.other_types.get(headers.get("ce_type", "?"), 0) + 1
            return
        value = record.value or b""
        case_id = str(json.loads(value)["case_id"])
        self.cases.setdefault(case_id, Arrival(now, record.timestamp, value, headers))
        self.arrived.set()

    async def wait_for(self, case_ids: set[str | None], timeout: float) -> None:
        """Until every one of `case_ids` was read, or `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not case_ids <= set(self.cases) and (left := deadline - time.monotonic()) > 0:
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)

    def _background(self, record: ConsumerRecord[bytes, bytes], now: float) -> None:
        self.background_at.append(now)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for consumer in self.consumers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(consumer.stop(), 10)


@dataclass
class Sample:
    index: int
    assessment_id: str
    code: str
    sent_at: float = 0.0  # time.time() just before the PUT went out
    request_ms: float = 0.0
    late_ms: float = 0.0
    case_id: str | None = None
    error: str | None = None


def keys_of(value: Any) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


class OutboxLoad:
    """`assessment.scheduled` events written into the assessments outbox (the service's own sink, as its database
    role), one transaction each, on a fixed schedule: the relay in the service process publishes them."""

    def __init__(self, platform: LocalPlatform, concurrency: int) -> None:
        settings = platform.settings("assessments")
        self.database = Database(
            settings.service_database_url(),
            schema="assessments",
            pool_size=concurrency,
            event_sink=outbox_for(settings).write,
        )
        self.concurrency = concurrency
        self.tool_version_id = uuid.uuid4()
        self.written = 0
        self.failures: list[str] = []
        self.late_ms: list[float] = []

    async def write_one(self) -> None:
        now = datetime.now(UTC)
        event = AssessmentScheduled(
            assessment_id=uuid.uuid4(),
            factory_id=uuid.uuid4(),
            country=COUNTRY,
            cycle=1,
            assessment_type="initial",
            mode="unannounced",
            joint=False,
            tool_version_id=self.tool_version_id,
            start_date=date(2026, 11, 2),
            end_date=date(2026, 11, 3),
            scheduled_at=now,
        )
        async with self.database.unit_of_work() as uow:
            uow.emit(event, country=COUNTRY)
            await uow.commit()

    async def warm(self) -> None:
        """Open the pool's connections before the clock starts."""

        async def ping() -> None:
            async with self.database.unit_of_work() as uow:
                await uow.session.execute(text("SELECT 1"))

        await asyncio.gather(*(ping() for _ in range(self.concurrency)))

    async def run(self, rate: float, duration: float) -> None:
        slots = asyncio.Semaphore(self.concurrency)

        async def one(scheduled: float) -> None:
            try:
                self.late_ms.append((time.perf_counter() - scheduled) * 1000)
                await self.write_one()
                self.written += 1
            except Exception as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            finally:
                slots.release()

        tasks: list[asyncio.Task[None]] = []
        t0 = time.perf_counter()
        for index in range(int(rate * duration)):
            scheduled = t0 + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)

    def summary(self, elapsed: float) -> str:
        late = sorted(self.late_ms)
        line = (
            f"{self.written:,} events written in {elapsed:.1f} s = {self.written / elapsed:.1f}/s; lateness vs "
            f"schedule p99 {percentile(late, 0.99):.1f} ms, max {late[-1] if late else 0:.1f} ms; "
            f"failures {len(self.failures)}"
        )
        return line + (f" (first: {self.failures[0]})" if self.failures else "")

    async def close(self) -> None:
        await self.database.dispose()


async def record_zero_tolerance(
    client: httpx.AsyncClient, samples: list[Sample], start: float, interval: float, marker: str
) -> None:
    """One zero-tolerance finding every `interval` seconds from `start` (time.perf_counter), in sequence."""
    for sample in samples:
        slot = start + sample.index * interval
        delay = slot - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        body = {
            "result": "non_compliant",
            "evidence": f"{marker}: a worker of about 13 seen at the cutting line; ID card of an older sibling.",
            "workers_affected": 1,
        }
        sample.late_ms = (time.perf_counter() - slot) * 1000
        t = time.perf_counter()
        sample.sent_at = time.time()
        try:
            response = await client.put(f"/v1/assessments/{sample.assessment_id}/findings/{sample.code}", json=body)
            sample.request_ms = (time.perf_counter() - t) * 1000
            opened = response.json().get("zero_tolerance_cases_opened") if response.status_code == 200 else None
            if not opened:
                sample.error = f"{response.status_code}: {response.text[:200]}"
            else:
                sample.case_id = str(opened[0])
        except httpx.HTTPError as exc:
            sample.error = f"{type(exc).__name__}: {exc}"
        if (sample.index + 1) % 25 == 0:
            progress(f"  {sample.index + 1}/{len(samples)} zero-tolerance findings recorded")


async def outbox_times(platform: LocalPlatform, case_ids: list[str]) -> dict[str, tuple[float, float]]:
    """(created_at, published_at) of each case's outbox row: written in the request, marked after the broker's ack."""
    conn = await platform.admin_connection()
    try:
        rows = await conn.fetch(
            """SELECT aggregateid, extract(epoch FROM created_at)::float8 AS created,
                      extract(epoch FROM published_at)::float8 AS published
               FROM assessments.outbox WHERE aggregateid = ANY($1::text[]) AND published_at IS NOT NULL""",
            case_ids,
        )
        return {r["aggregateid"]: (r["created"], r["published"]) for r in rows}
    finally:
        await conn.close()


async def published_between(platform: LocalPlatform, topic: str, start: float, end: float) -> int:
    conn = await platform.admin_connection()
    try:
        count: int = await conn.fetchval(
            """SELECT count(*) FROM assessments.outbox
               WHERE topic = $1 AND published_at >= to_timestamp($2) AND published_at < to_timestamp($3)""",
            topic,
            start,
            end,
        )
        return count
    finally:
        await conn.close()


async def bench_zero_tolerance(
    platform: LocalPlatform, service: ServiceProcess, api: Api, token: str, args: argparse.Namespace
) -> bool:
    tool = await api.current_tool()
    zt_codes = zero_tolerance_codes(tool)
    total = ZT_WARMUP + args.samples
    per_assessment = len(zt_codes)
    needed = math.ceil(total / per_assessment)
    progress(
        f"part 2: tool {tool['label']!r} has {per_assessment} zero-tolerance questions; "
        f"preparing {needed} assessments in progress for {total} findings ({ZT_WARMUP} warm-up) ..."
    )
    assessments = [await api.in_progress(f) for f in await add_factories(platform, needed)]
    samples = [Sample(i, assessments[i // per_assessment], zt_codes[i % per_assessment]) for i in range(total)]

    lead_in, tail = 3.0, 2.0
    duration = lead_in + total * args.interval + tail
    http_load: list[Request] = []
    outbox_load: OutboxLoad | None = None
    if args.background == "http":
        count = math.ceil(args.rate * duration) + 10
        progress(f"  {count:,} fresh factories for the background (one initial assessment each) ...")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = {"assessment_type": "initial", **VISIT}
        http_load = [
            Request.of_json("POST", "/v1/assessments", {"factory_id": str(f), **body}, headers)
            for f in await add_factories(platform, count)
        ]
        what = f"POST /v1/assessments (open loop, {args.connections} connections)"
    else:
        outbox_load = OutboxLoad(platform, concurrency=4)
        await outbox_load.warm()
        what = "assessment.scheduled events written into the assessments outbox by this process (4 in flight)"

    outside = Outside(platform, args.fetch_max_wait_ms)
    marker = f"BENCH-EVIDENCE-{uuid.uuid4().hex[:12]}"
    meter = CpuMeter()
    meter.add("assessments", [service.process.pid])
    meter.add("broker", [platform.broker_pid])
    meter.add("bench", [os.getpid()])
    progress(
        f"  background: {args.rate:g}/s for {duration:.0f} s of {what}; "
        f"a zero-tolerance finding every {args.interval * 1000:.0f} ms after {lead_in:g} s ..."
    )
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    loaded: Result | None = None
    try:
        await outside.start()
        async with httpx.AsyncClient(
            base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=limits
        ) as client:
            meter.add("postgres", await platform.backend_pids())
            meter.start()
            t0 = time.perf_counter()
            if outbox_load is not None:
                load: asyncio.Task[Any] = asyncio.create_task(outbox_load.run(args.rate, duration))
            else:
                load = asyncio.create_task(
                    run_open_loop(
                        "127.0.0.1",
                        service.port,
                        http_load,
                        rate=args.rate,
                        duration_s=duration,
                        connections=args.connections,
                        expected_statuses=(201,),
                    )
                )
            await asyncio.sleep(1.0)
            meter.add_new("postgres", await platform.backend_pids())
            window_start = time.time() + (t0 + lead_in - time.perf_counter())
            await record_zero_tolerance(client, samples, t0 + lead_in, args.interval, marker)
            window_end = time.time()
            loaded = await load
            elapsed = time.perf_counter() - t0
        meter.add_new("postgres", await platform.backend_pids())
        meter.stop()
        progress("  waiting for the last events ...")
        await outside.wait_for({s.case_id for s in samples if s.case_id}, timeout=15)
    finally:
        await outside.stop()
        if outbox_load is not None:
            await outbox_load.close()

    if outbox_load is not None:
        progress(f"background, outbox writes: {outbox_load.summary(elapsed)}")
        background_errors = len(outbox_load.failures)
    else:
        assert loaded is not None
        progress(f"background, POST /v1/assessments: {loaded.summary()}")
        background_errors = loaded.errors
    window = window_end - window_start
    seen = sum(1 for at in outside.background_at if window_start <= at < window_end)
    relayed = await published_between(platform, outside.assessment_topic, window_start, window_end)
    achieved = seen / window
    progress(
        f"  other events during the {window:.1f} s of zero-tolerance findings: {seen:,} read by the outside consumer "
        f"= {achieved:.1f} events/s ({relayed:,} marked published by the relay = {relayed / window:.1f}/s; "
        f"requested {args.rate:g}/s)"
    )

    failed = [s for s in samples if s.error]
    if failed:
        progress(f"  {len(failed)} zero-tolerance finding(s) failed; first: {failed[0].error}")
    measured = [s for s in samples[ZT_WARMUP:] if s.case_id]
    missing = [s for s in measured if s.case_id not in outside.cases]
    if missing:
        progress(f"  MISSING: {len(missing)} case_opened event(s) never read within 15 s of the end")
    arrived = [s for s in measured if s.case_id in outside.cases]
    latencies = [(outside.cases[str(s.case_id)].at - s.sent_at) * 1000 for s in arrived]

    leaks = []
    for arrival in outside.cases.values():
        payload = json.loads(arrival.value)
        if "evidence" in keys_of(payload) or marker.encode() in arrival.value:
            leaks.append(f"payload {arrival.value[:200]!r}")
        if any(marker in v or k.lower() == "evidence" for k, v in arrival.headers.items()):
            leaks.append(f"headers {arrival.headers}")
    fields = sorted(keys_of(json.loads(next(iter(outside.cases.values())).value))) if outside.cases else []
    progress(
        f"  {len(outside.cases)} case_opened events read; payload fields {fields}; "
        f"no evidence key or evidence text: {verdict(not leaks)}"
    )
    if outside.other_types:
        progress(f"  other events on the zero-tolerance topic: {outside.other_types}")

    outbox = await outbox_times(platform, [str(s.case_id) for s in arrived])
    both = [s for s in arrived if str(s.case_id) in outbox]

    def leg(f: Any) -> str:
        return describe([f(s, outside.cases[str(s.case_id)], outbox[str(s.case_id)]) * 1000 for s in both])

    if not latencies:
        progress("no latency measured: FAIL")
        return False
    v = sorted(latencies)
    p99 = percentile(v, 0.99)
    progress(
        f"zero-tolerance finding -> case_opened read outside: count {len(v)}, p50 {percentile(v, 0.5):.1f} ms, "
        f"p90 {percentile(v, 0.9):.1f} ms, p99 {p99:.1f} ms, max {v[-1]:.1f} ms (min {v[0]:.1f} ms)"
    )
    progress(f"  PUT .../findings/{{code}} round trip: {describe([s.request_ms for s in arrived])}")
    legs = {
        "sent -> outbox row written (in the request)": leg(lambda s, a, o: o[0] - s.sent_at),
        "outbox row written -> marked published (commit, relay, broker ack)": leg(lambda s, a, o: o[1] - o[0]),
        "record CreateTime (relay send) -> read outside": leg(lambda s, a, o: a.at - a.timestamp_ms / 1000),
    }
    for name, figures in legs.items():
        progress(f"  breakdown, {name}: {figures}")
    late = sorted(s.late_ms for s in measured)
    progress(f"  sampler lateness vs its schedule: p99 {percentile(late, 0.99):.1f} ms, max {late[-1]:.1f} ms")
    progress(f"  {meter.report()}")

    enough = len(v) >= ZT_MIN_SAMPLES and not missing and not failed
    rate_ok = achieved >= RATE_TOLERANCE * args.rate and background_errors == 0
    latency_ok = p99 <= ZT_TARGET_P99_MS
    progress(f"  background >= {RATE_TOLERANCE * args.rate:g} events/s without errors: {verdict(rate_ok)}")
    progress(f"  >= {ZT_MIN_SAMPLES} samples, none missing: {verdict(enough)}")
    progress(f"  target p99 {p99:.1f} ms <= {ZT_TARGET_P99_MS:g} ms: {verdict(latency_ok)}")
    return latency_ok and rate_ok and enough and not leaks


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    token = platform.signing_key.mint(roles=[Role.STAFF], subject="bench", country=COUNTRY, ttl_s=7200)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bw-assessments-bench-") as logs:
        progress("starting assessments (one worker, relay on) ...")
        service = ServiceProcess(platform, "assessments", Path(logs), {})
        api = Api(service.url, token)
        try:
            await wait_ready([service], timeout=90)
            if "batch" in args.parts:
                failures += not await bench_batch(platform, service, api, args)
            if "zt" in args.parts:
                failures += not await bench_zero_tolerance(platform, service, api, token, args)
        finally:
            await api.close()
            progress("stopping assessments ...")
            service.stop()
            if service.process.returncode not in (0, -15):
                progress(f"  assessments exited with {service.process.returncode}:\n{service.log_tail()}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assessments", type=int, default=30, help="measured batches (after 3 warm-up)")
    parser.add_argument("--samples", type=int, default=150, help="measured zero-tolerance findings (after 5 warm-up)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between zero-tolerance findings")
    parser.add_argument("--rate", type=float, default=200.0, help="background events per second")
    parser.add_argument(
        "--background",
        choices=("outbox", "http"),
        default="outbox",
        help="outbox: events written into the service's outbox by this process (default); "
        "http: POST /v1/assessments to the service",
    )
    parser.add_argument("--connections", type=int, default=16, help="for --background http")
    parser.add_argument("--fetch-max-wait-ms", type=int, default=None, help="outside consumers (default: platform's)")
    parser.add_argument("--parts", type=lambda v: set(v.split(",")), default={"batch", "zt"}, help="batch,zt")
    args = parser.parse_args()
    with local_platform(topic_prefix=f"bench{uuid.uuid4().hex[:6]}.") as platform:
        if args.fetch_max_wait_ms is None:
            args.fetch_max_wait_ms = platform.settings("assessments").kafka_fetch_max_wait_ms
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
