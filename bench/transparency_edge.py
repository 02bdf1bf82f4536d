"""Public factory page (HTML) and API GET, cached, one worker, against a bare handler returning the same bytes.

Targets (issue 16, transparency): at least 3,000 requests/s on one worker, and at least 80% of a bare FastAPI
handler that returns the same bytes, measured in the same run; revalidation with `If-None-Match` answers 304.

Starts the transparency service as its own process (`python -m servicekit.serve transparency`, one worker)
against a fresh database, publishes a release of `--factories` factories through the use cases, fetches every
factory's page once to learn the bytes, writes them for `bench/transparency_bare.py`, then loads both in turn
with the same paths, connections and duration (`bench/loadgen.py`, closed loop).

    .venv/bin/python bench/transparency_edge.py [--factories 200] [--seconds 8] [--connections 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from loadgen import Request, Result, run_closed_loop
from local_platform import LocalPlatform, ServiceProcess, local_platform, progress, verdict, wait_ready
from transparency_release import facts, staff

from devstack.net import free_port, wait_for_port
from messaging.runtime import outbox_for
from servicekit.database import Database
from transparency.service import publications

TARGET_RATE = 3000.0
TARGET_RATIO = 0.80


async def publish(platform: LocalPlatform, factories: int) -> list[str]:
    settings = platform.settings("transparency")
    database = Database(settings.service_database_url(), schema="transparency", event_sink=outbox_for(settings).write)
    rows = facts("VN", factories)
    conn = await platform.admin_connection()
    try:
        await conn.copy_records_to_table(
            "fact",
            schema_name="transparency",
            records=rows,
            columns=["source_id", "kind", "country", "occurred_at", "payload"],
        )
    finally:
        await conn.close()
    from datetime import date

    try:
        async with database.unit_of_work() as uow:
            c = await publications.compute_candidate(
                uow, principal=staff("a", "VN"), country="VN", cut_off=date(2026, 1, 1)
            )
        async with database.unit_of_work() as uow:
            await publications.review(uow, principal=staff("b", "VN"), publication_id=c.id)
        async with database.unit_of_work() as uow:
            await publications.approve(uow, principal=staff("c", "VN"), publication_id=c.id)
    finally:
        await database.engine.dispose()
    return [json.loads(p)["factory_id"] for _, kind, _, _, p in rows if kind == "factory_registered"]


def start_bare(port: int, answers: Path) -> subprocess.Popen[bytes]:
    script = str(Path(__file__).with_name("transparency_bare.py"))
    return subprocess.Popen(
        [sys.executable, script, str(port), str(answers)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


async def load(port: int, paths: list[str], args: argparse.Namespace) -> Result:
    return await run_closed_loop(
        "127.0.0.1",
        port,
        [Request("GET", p, {}) for p in paths],
        connections=args.connections,
        duration_s=args.seconds,
        warmup_s=2.0,
        expected_statuses=(200,),
    )


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bw-transparency-bench-") as logs:
        service = ServiceProcess(platform, "transparency", Path(logs), {"TRANSPARENCY_PUBLIC_CACHE_S": "3600"})
        bare: subprocess.Popen[bytes] | None = None
        try:
            await wait_ready([service], timeout=120)
            ids = await publish(platform, args.factories)
            progress(f"release of {len(ids)} factories published; transparency on {service.port}")
            answers: dict[str, list[str]] = {}
            etags: dict[str, str] = {}
            async with httpx.AsyncClient(base_url=service.url) as client:
                for factory_id in ids:
                    for path in (f"/public/v1/factories/{factory_id}", f"/portal/factories/{factory_id}"):
                        response = await client.get(path)
                        assert response.status_code == 200, (path, response.status_code)
                        answers[path] = [response.headers["content-type"], response.text]
                        etags[path] = response.headers["etag"]
                path = f"/public/v1/factories/{ids[0]}"
                revalidated = await client.get(path, headers={"If-None-Match": etags[path]})
            answers_file = Path(logs) / "answers.json"
            answers_file.write_text(json.dumps(answers), encoding="utf-8")
            bare_port = free_port()
            bare = start_bare(bare_port, answers_file)
            wait_for_port("127.0.0.1", bare_port, timeout=30)
            ok = revalidated.status_code == 304
            progress(f"revalidation with If-None-Match: {revalidated.status_code} {verdict(ok)}")
            rng = random.Random(16)
            for kind, prefix in (("API GET", "/public/v1/factories/"), ("factory page", "/portal/factories/")):
                paths = [prefix + rng.choice(ids) for _ in range(10_000)]
                rates: dict[str, list[float]] = {"transparency": [], "bare": []}
                for round_no in range(1, args.rounds + 1):
                    for name, port in (("transparency", service.port), ("bare", bare_port)):
                        result = await load(port, paths, args)
                        if result.errors or result.statuses.keys() - {200}:
                            progress(f"  {name}: failures: {result.summary()}")
                            return 1
                        rates[name].append(result.rate())
                        progress(f"  {kind} round {round_no} {name:<12} {result.summary()}")
                ours, reference = statistics.median(rates["transparency"]), statistics.median(rates["bare"])
                ratio = ours / reference
                good = ours >= TARGET_RATE and ratio >= TARGET_RATIO
                progress(
                    f"{kind}: transparency {ours:,.0f} req/s, bare {reference:,.0f} req/s, ratio {ratio:.2f} "
                    f"(targets >= {TARGET_RATE:,.0f} req/s and >= {TARGET_RATIO:.2f}) {verdict(good)}"
                )
                ok = ok and good
            return 0 if ok else 1
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait(30)
            service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with local_platform() as platform:
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
