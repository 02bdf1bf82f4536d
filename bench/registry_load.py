"""Registry at 100,000 factories: GET by id, create with matching, and a 10,000-row list import.

Targets (issue "Registry service"), on this machine, one registry worker process:
- GET /v1/factories/{id}: at least 1,500 requests/s with p99 under 50 ms;
- POST /v1/factories (validation, matching, outbox): at least 300 requests/s;
- a 10,000-row list with matching: done in at most 60 s.

The registry runs as its own process (relay on, publishing to a dedicated Tansu broker) against a
fresh database; 100,000 factories of one country (the hardest case for matching: every candidate
search looks at all of them) are written straight into its tables first (`bench/registry_data.py`).
The load generator (`bench/loadgen.py`) runs in this process on the same two cores.

    .venv/bin/python bench/registry_load.py [--factories 100000] [--seconds 20] [--connections 32]
        [--parts get,create,import]   (e.g. `--parts create` for registration alone)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from loadgen import Request, Result, run_closed_loop
from local_platform import CpuMeter, LocalPlatform, ServiceProcess, local_platform, progress, verdict, wait_ready
from registry_data import factories, variant

from registry.adapters import repository
from registry.domain import factory as rules
from servicekit.auth import Role
from servicekit.database import Database

COUNTRY = "KH"
GET_TARGET_RPS = 1500.0
GET_TARGET_P99_MS = 50.0
CREATE_TARGET_RPS = 300.0
IMPORT_TARGET_S = 60.0


async def seed(platform: LocalPlatform, count: int) -> list[str]:
    """`count` factories written straight into the registry's tables (no events: other services are not running)."""
    settings = platform.settings("registry")
    database = Database(settings.service_database_url(), schema="registry", pool_size=2)
    ids: list[str] = []
    now = datetime.now(UTC)
    batch: list[rules.Factory] = []
    started = time.perf_counter()
    try:
        for row in factories(count, seed=1):
            factory, _ = rules.register(country=COUNTRY, values=row, now=now)
            batch.append(factory)
            ids.append(str(factory.id))
            if len(batch) == 5000:
                async with database.unit_of_work() as uow:
                    await repository.insert_factories(uow.session, batch)
                    await uow.commit()
                batch = []
                progress(f"  seeded {len(ids):,} factories ({time.perf_counter() - started:.0f} s)")
        if batch:
            async with database.unit_of_work() as uow:
                await repository.insert_factories(uow.session, batch)
                await uow.commit()
        conn = await platform.admin_connection()
        try:
            # A registry in service is vacuumed by autovacuum; straight after a bulk load it is not yet, and index-only
            # scans of the keys would visit the heap for every posting.
            for table in ("factory", "factory_name", "factory_key"):
                await conn.execute(f"VACUUM ANALYZE registry.{table}")
        finally:
            await conn.close()
    finally:
        await database.dispose()
    progress(f"seeded {len(ids):,} factories in {time.perf_counter() - started:.0f} s")
    return ids


async def cpu_meter(platform: LocalPlatform, registry: ServiceProcess) -> CpuMeter:
    meter = CpuMeter()
    meter.add("registry", [registry.process.pid])
    meter.add("postgres", await platform.backend_pids())
    meter.add("load generator", [os.getpid()])
    meter.start()
    return meter


async def stop_meter(platform: LocalPlatform, meter: CpuMeter) -> None:
    """Stop `meter`, counting the Postgres backends the registry's pools opened once the load came."""
    meter.add_new("postgres", await platform.backend_pids())
    meter.stop()


def report(label: str, result: Result) -> None:
    progress(f"{label}: {result.summary()}")


def cpu_per_request(meter: CpuMeter, result: Result) -> str:
    """The registry's CPU time per request, and the rate that makes when the worker has a core to itself: on a
    machine other work keeps busy, a steadier figure than requests per second (an estimate: the meter's window
    also holds the warm-up, counted at the measured rate)."""
    served = result.rate() * meter.wall
    if not served or not meter.used.get("registry"):
        return "registry CPU per request: not measured"
    per_request = meter.used["registry"] / served
    database = meter.used.get("postgres", 0.0) / served
    return (
        f"registry CPU per request {per_request * 1000:.2f} ms: {1 / per_request:,.0f} req/s per core of registry CPU; "
        f"Postgres CPU per request {database * 1000:.2f} ms"
    )


async def measure_get(port: int, token: str, ids: list[str], args: argparse.Namespace) -> Result:
    rng = random.Random(3)
    sample = rng.sample(ids, min(len(ids), 20_000))
    headers = {"Authorization": f"Bearer {token}"}
    requests = [Request("GET", f"/v1/factories/{fid}", headers) for fid in sample]
    return await run_closed_loop(
        "127.0.0.1",
        port,
        requests,
        connections=args.connections,
        duration_s=args.seconds,
        warmup_s=2.0,
        expected_statuses=(200,),
    )


async def measure_create(port: int, token: str, args: argparse.Namespace) -> Result:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [
        json.dumps(
            {
                "name": row["name"],
                "address": row["address"],
                "sector": row["sector"],
                "country": COUNTRY,
                "workforce": {"total": row["workers_total"]},
            }
        ).encode()
        for row in factories(40_000, seed=2)
    ]
    requests = [Request("POST", "/v1/factories", headers, body) for body in bodies]
    return await run_closed_loop(
        "127.0.0.1",
        port,
        requests,
        connections=args.create_connections,
        duration_s=args.seconds,
        warmup_s=2.0,
        expected_statuses=(200, 201, 202),
    )


def import_list(seeded: list[dict[str, Any]], rows: int) -> bytes:
    """`rows` rows: 80 % new factories, 10 % other spellings of registered ones, 10 % repeats within the list."""
    rng = random.Random(5)
    fresh = [dict(r) for r in factories(int(rows * 0.8), seed=3)]
    known = [variant(dict(r), rng) for r in rng.sample(seeded, int(rows * 0.1))]
    repeats = [variant(dict(r), rng) for r in rng.sample(fresh, rows - len(fresh) - len(known))]
    lines = fresh + known + repeats
    rng.shuffle(lines)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["country", "name", "address", "sector", "workers", "external_reference"])
    for i, row in enumerate(lines):
        writer.writerow([COUNTRY, row["name"], row["address"], row["sector"], row["workers_total"], f"REF-{i}"])
    return out.getvalue().encode()


async def measure_import(url: str, token: str, data: bytes) -> tuple[float, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        started = time.perf_counter()
        response = await client.post(
            "/v1/factory-imports", content=data, headers={"Content-Type": "text/csv"}, params={"filename": "bench.csv"}
        )
        if response.status_code != 202:
            raise SystemExit(f"upload refused: {response.status_code} {response.text[:300]}")
        job = response.json()
        last = -1
        while job["status"] != "completed":
            await asyncio.sleep(0.5)
            job = (await client.get(f"/v1/factory-imports/{job['id']}")).json()
            if job["processed"] // 2000 != last // 2000:
                progress(f"  import: {job['processed']:,} of {job['total']:,} rows")
            last = job["processed"]
        return time.perf_counter() - started, job


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    ids = await seed(platform, args.factories)
    seeded = list(factories(args.factories, seed=1))
    token = platform.signing_key.mint(roles=[Role.STAFF], subject="bench", country=COUNTRY)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bw-registry-bench-") as logs:
        registry = ServiceProcess(platform, "registry", Path(logs), {"REGISTRY_IMPORT_POLL_S": "0.2"})
        try:
            await wait_ready([registry], timeout=60)
            if "get" in args.parts:
                failures += not await bench_get(platform, registry, token, ids, args)
            if "create" in args.parts:
                failures += not await bench_create(platform, registry, token, args)
            if "import" in args.parts:
                failures += not await bench_import(registry, token, seeded, args)
        finally:
            registry.stop()
    return 1 if failures else 0


async def bench_get(
    platform: LocalPlatform, registry: ServiceProcess, token: str, ids: list[str], args: argparse.Namespace
) -> bool:
    progress(f"GET by id: {args.connections} connections for {args.seconds:g} s ...")
    meter = await cpu_meter(platform, registry)
    got = await measure_get(registry.port, token, ids, args)
    await stop_meter(platform, meter)
    report("GET /v1/factories/{id}", got)
    progress(f"  {meter.report()}")
    ok = got.rate() >= GET_TARGET_RPS and got.percentile(0.99) < GET_TARGET_P99_MS and got.errors == 0
    progress(f"  target >= {GET_TARGET_RPS:,.0f} req/s with p99 < {GET_TARGET_P99_MS:g} ms: {verdict(ok)}")
    return ok


async def bench_create(platform: LocalPlatform, registry: ServiceProcess, token: str, args: argparse.Namespace) -> bool:
    progress(f"POST (register with matching): {args.create_connections} connections for {args.seconds:g} s ...")
    meter = await cpu_meter(platform, registry)
    created = await measure_create(registry.port, token, args)
    await stop_meter(platform, meter)
    report("POST /v1/factories", created)
    progress(f"  {meter.report()}")
    progress(f"  {cpu_per_request(meter, created)}")
    ok = created.rate() >= CREATE_TARGET_RPS and created.errors == 0
    progress(f"  target >= {CREATE_TARGET_RPS:,.0f} req/s: {verdict(ok)}")
    return ok


async def bench_import(
    registry: ServiceProcess, token: str, seeded: list[dict[str, Any]], args: argparse.Namespace
) -> bool:
    data = import_list(seeded, args.import_rows)
    progress(f"import of a {args.import_rows:,}-row list ...")
    elapsed, job = await measure_import(registry.url, token, data)
    progress(
        f"import: {job['total']:,} rows in {elapsed:.1f} s ({job['total'] / elapsed:,.0f} rows/s): "
        f"created {job['created']:,}, matched {job['matched']:,}, needs review {job['needs_review']:,}, "
        f"rejected {job['rejected']:,}"
    )
    ok = elapsed <= IMPORT_TARGET_S and job["rejected"] == 0
    progress(f"  target <= {IMPORT_TARGET_S:g} s: {verdict(ok)}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16, help="for GET")
    parser.add_argument("--create-connections", type=int, default=16, help="for POST")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument(
        "--parts", type=lambda v: set(v.split(",")), default={"get", "create", "import"}, help="get,create,import"
    )
    args = parser.parse_args()
    with local_platform(topic_prefix=f"bench{uuid.uuid4().hex[:6]}.") as platform:
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
