"""Hot reads against a bare handler, side by side in one run, with the whole platform running.

Issue "Performance at the edge and at rest": every hot read at least 0.80 of a bare handler serving the same
rows, measured in the same run under the same load generator. The hot reads:

- registry `GET /v1/factories/{id}` (a staff token of the country), over `--factories` factories;
- assessments `GET /v1/assessments/{id}/report` (staff of the country), over `--reports` released assessments;
- partnerships `GET /v1/report-access?buyer_id=&factory_id=` (the buyer itself), over `--reports` linked pairs;
- the transparency public pages have their own: `bench/transparency_edge.py`.

Starts all six services as their own processes against a dedicated broker and a fresh database (the whole
platform), writes the factories into the registry's tables and the rest through the services' APIs, and starts
`bench/bare_handler.py` (uvloop, httptools, one worker, an asyncpg pool, no authentication) on the same rows.
Then, per route and `--rounds` times, loads the service and the bare handler back to back (alternating which
goes first) with the same paths, connections and duration (`bench/loadgen.py`, closed loop), and prints each
round, each round's ratio, and the median of those ratios (the figure checked against the target).
`--profile PATH` samples the service (py-spy) in each route's first round and prints where the time goes.

    .venv/bin/python bench/edge_ratio.py [--factories 200] [--reports 20] [--seconds 10] [--connections 16]
        [--rounds 3] [--routes factory,report,access] [--profile /tmp/edge.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import yaml
from assessments_load import Api, add_factories, bench_tool, whole_assessment, zero_tolerance_codes
from loadgen import Request, Result, run_closed_loop
from local_platform import LocalPlatform, ServiceProcess, local_platform, progress, verdict, wait_ready
from registry_load import COUNTRY, seed

from assessments.service.tools import DATA
from devstack.net import free_port, wait_for_port
from servicekit.auth import Role

TARGET_RATIO = 0.80
ROUTES = ("factory", "report", "access")


@dataclass
class HotRead:
    """One hot read: the service that answers it, the paths loaded (the same on the bare handler) and the
    service's request headers."""

    key: str
    label: str
    service: str
    paths: list[str]
    headers: dict[str, str]


async def load(port: int, paths: list[str], headers: dict[str, str], args: argparse.Namespace) -> Result:
    return await run_closed_loop(
        "127.0.0.1",
        port,
        [Request("GET", path, headers) for path in paths],
        connections=args.connections,
        duration_s=args.seconds,
        warmup_s=2.0,
        expected_statuses=(200,),
    )


def start_bare_handler(platform: LocalPlatform) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("bare_handler.py")), str(port)],
        env={**os.environ, "BARE_DSN": platform.database_url},  # one pool that reads every service's schema
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    return process, port


def start_profiler(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the service for `seconds` (None when py-spy is not installed)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        progress("  (py-spy not installed: no profile; `pip install py-spy` to get one)")
        return None
    command = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250"]
    command += ["--format", "raw", "--nonblocking", "-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_headline(raw: Path, top: int = 12) -> list[str]:
    """Where the samples are: the share of samples in which each of our or a library's functions is on the stack
    (inclusive), for the functions that matter most."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frames = {frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0] + ")" for frame in stack.split(";")}
        for frame in frames:
            inclusive[frame] += int(count)
    skip = ("<module>", "_run_module_as_main", "_run_code", "serve (", "run (uvicorn", "Server.run", "asyncio_run",
            "Runner.run")  # fmt: skip
    rows = [(f, n) for f, n in inclusive.most_common() if not f.startswith(skip)]
    lines = [f"{n / total:6.1%}  {frame}" for frame, n in rows[:top]]
    by_file: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            leaf = stack.split(";")[-1]
            by_file[leaf.split(" (")[-1].split(":")[0].split("/")[0]] += int(count)
    lines.append("self time by package: " + ", ".join(f"{k} {n / total:.0%}" for k, n in by_file.most_common(10)))
    return lines if total else []


def bearer(platform: LocalPlatform, *roles: Role, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.signing_key.mint(roles=roles, **claims)}"}


def _ok(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}: "
            f"{response.text[:500]}"
        )
    return response.json()


async def factory_reads(platform: LocalPlatform, registry: ServiceProcess, args: argparse.Namespace) -> HotRead:
    ids = await seed(platform, args.factories)
    rng = random.Random(7)
    paths = [f"/v1/factories/{rng.choice(ids)}" for _ in range(20_000)]
    headers = bearer(platform, Role.STAFF, subject="bench", country=COUNTRY)
    return HotRead("factory", "registry GET /v1/factories/{id}", "registry", paths, headers)


async def report_reads(platform: LocalPlatform, assessments: ServiceProcess, args: argparse.Namespace) -> HotRead:
    """`--reports` assessments of the shipped KH tool, each assessed (about 1 in 8 non-compliant) and released."""
    staff = bearer(platform, Role.STAFF, subject="bench-ea", country=COUNTRY)
    leader = bearer(platform, Role.STAFF, subject="bench-tl", country=COUNTRY, scopes=["assessments:team_leader"])
    shipped = yaml.safe_load((DATA / "tool_kh_garment.yaml").read_text(encoding="utf-8"))
    tool = bench_tool(len(shipped["questions"]))
    api = Api(assessments.url, staff["Authorization"].removeprefix("Bearer "))
    ids: list[str] = []
    try:
        await api.import_tool(tool)
        codes = [q["code"] for q in tool["questions"]]
        zt = set(zero_tolerance_codes(tool))
        for n, factory_id in enumerate(await add_factories(platform, args.reports)):
            aid = await api.in_progress(factory_id)
            findings = whole_assessment(codes, zt, seed=n)
            _ok(
                await api.client.put(
                    f"/v1/assessments/{aid}/findings", content=findings, headers={"Content-Type": "application/json"}
                ),
                200,
            )
            for to, who in (("draft_submitted", staff), ("quality_checked", leader), ("released", leader)):
                _ok(await api.client.post(f"/v1/assessments/{aid}/transitions", json={"to": to}, headers=who), 200)
            ids.append(aid)
    finally:
        await api.close()
    progress(f"released {len(ids)} assessments of {len(codes)} findings each")
    rng = random.Random(8)
    paths = [f"/v1/assessments/{rng.choice(ids)}/report" for _ in range(20_000)]
    return HotRead("report", "assessments GET /v1/assessments/{id}/report", "assessments", paths, staff)


async def access_reads(platform: LocalPlatform, partnerships: ServiceProcess, args: argparse.Namespace) -> HotRead:
    """One buyer linked to `--reports` factories with their consent and an entitlement to cycle 1 each."""
    staff = bearer(platform, Role.STAFF, subject="bench-ea", country=COUNTRY)
    factory_ids = [uuid.uuid4() for _ in range(args.reports)]
    conn = await asyncpg.connect(platform.service_dsn("partnerships"))
    try:
        now = datetime.now(UTC)
        await conn.copy_records_to_table(
            "factory_ref",
            schema_name="partnerships",
            columns=["factory_id", "name", "country", "status", "version", "updated_at"],
            records=[(f, f"Bench Factory {f.hex[:8]}", COUNTRY, "active", 3, now) for f in factory_ids],
        )
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=partnerships.url, timeout=60) as client:
        buyer = _ok(
            await client.post(
                "/v1/buyers",
                json={"name": "Bench Brand", "headquarters_country": "SE", "tier": "partner"},
                headers=staff,
            ),
            201,
        )
        buyer_id = buyer["id"]
        for factory_id in factory_ids:
            pair = {"buyer_id": buyer_id, "factory_id": str(factory_id)}
            _ok(await client.post("/v1/sourcing-links", json=pair, headers=staff), 201)
            factory_user = bearer(
                platform, Role.FACTORY, subject="bench-hr", organisation_id=str(factory_id), country=COUNTRY
            )
            consent = {"buyer_id": buyer_id, "scopes": ["assessment_reports"]}
            _ok(await client.post(f"/v1/factories/{factory_id}/consents", json=consent, headers=factory_user), 201)
            _ok(await client.post("/v1/entitlements", json={**pair, "cycle": 1}, headers=staff), 201)
    progress(f"linked a buyer to {len(factory_ids)} factories with consent and an entitlement")
    rng = random.Random(9)
    paths = [f"/v1/report-access?buyer_id={buyer_id}&factory_id={rng.choice(factory_ids)}" for _ in range(20_000)]
    headers = bearer(platform, Role.BUYER, subject="bench-brand", organisation_id=buyer_id)
    return HotRead("access", "partnerships GET /v1/report-access", "partnerships", paths, headers)


SEEDERS = {"factory": factory_reads, "report": report_reads, "access": access_reads}
SERVICE_OF = {"factory": "registry", "report": "assessments", "access": "partnerships"}


async def compare(
    read: HotRead,
    service: ServiceProcess,
    bare: subprocess.Popen[bytes],
    bare_port: int,
    args: argparse.Namespace,
    logs: Path,
) -> float | None:
    """The service's and the bare handler's median rates on this read; their ratio (None after a failure)."""
    progress(f"{read.label}:")
    rates: dict[str, list[float]] = {"service": [], "bare": []}
    for round_no in range(1, args.rounds + 1):
        pair = [("service", service.port, read.headers), ("bare", bare_port, {})]
        if round_no % 2 == 0:
            pair.reverse()  # ABBA: neither side always runs first, so a drift in the machine's load evens out
        for name, port, headers in pair:
            profiler = None
            if args.profile and round_no == 1:
                pid = service.process.pid if name == "service" else bare.pid
                profiler = start_profiler(pid, args.seconds, logs / "profile.txt")
            result = await load(port, read.paths, headers, args)
            if profiler is not None:
                await asyncio.to_thread(profiler.wait, 60)
                who = read.service if name == "service" else "bare handler"
                progress(f"  profile of the {who} under this load (share of samples, inclusive):")
                for line in profile_headline(logs / "profile.txt"):
                    progress(f"    {line}")
                kept = args.profile.with_name(f"{args.profile.stem}-{read.key}-{name}{args.profile.suffix}")
                shutil.copy(logs / "profile.txt", kept)
                progress(f"  raw profile (py-spy raw format) in {kept}")
            if result.errors or result.statuses.keys() - {200}:
                progress(f"  {name}: failures in the run: {result.summary()}")
                return None
            rates[name].append(result.rate())
            progress(f"  round {round_no} {name:<8} {result.summary()}")
        progress(f"  round {round_no} ratio {rates['service'][-1] / rates['bare'][-1]:.2f}")
    mine, reference = statistics.median(rates["service"]), statistics.median(rates["bare"])
    # Each round's pair ran back to back, so its ratio is the side-by-side figure; the median of those is less
    # moved by other load on the machine than the ratio of the median rates (printed too).
    ratio = statistics.median(s / b for s, b in zip(rates["service"], rates["bare"], strict=True))
    progress(
        f"{read.label}: {read.service} {mine:,.0f} req/s, bare handler {reference:,.0f} req/s "
        f"(medians of {args.rounds} rounds, ratio {mine / reference:.2f}); median of the rounds' ratios {ratio:.2f}"
    )
    return ratio


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bw-edge-bench-") as logs:
        services = [ServiceProcess(platform, name, Path(logs), {}) for name in platform.services]
        by_name = {s.name: s for s in services}
        bare, bare_port = start_bare_handler(platform)
        try:
            await wait_ready(services, timeout=120)
            wait_for_port("127.0.0.1", bare_port, timeout=30)
            progress(f"whole platform up ({', '.join(s.name for s in services)}); bare handler on {bare_port}")
            reads = [await SEEDERS[key](platform, by_name[SERVICE_OF[key]], args) for key in args.routes]
            ratios: dict[str, float | None] = {}
            for read in reads:
                ratios[read.label] = await compare(read, by_name[read.service], bare, bare_port, args, Path(logs))
            progress("ratio per route (service / bare handler, same rows, same run):")
            for label, ratio in ratios.items():
                shown = "failed" if ratio is None else f"{ratio:.2f}"
                progress(f"  {label:<48} {shown}  {verdict(ratio is not None and ratio >= TARGET_RATIO)}")
            progress(f"  target ratio >= {TARGET_RATIO:.2f} on every route")
            return 0 if all(r is not None and r >= TARGET_RATIO for r in ratios.values()) else 1
        finally:
            bare.terminate()
            bare.wait(30)
            for service in services:
                service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=200)
    parser.add_argument("--reports", type=int, default=20, help="released assessments; linked buyer-factory pairs")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="py-spy each service in its round 1, raw samples here")
    parser.add_argument(
        "--routes", default=",".join(ROUTES), help=f"which hot reads, comma-separated ({', '.join(ROUTES)})"
    )
    args = parser.parse_args()
    args.routes = [r for r in args.routes.split(",") if r]
    if unknown := set(args.routes) - set(ROUTES):
        parser.error(f"unknown routes {', '.join(sorted(unknown))}; choose from {', '.join(ROUTES)}")
    with local_platform() as platform:
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
