"""Hot reads against a bare handler, side by side in one run, with the whole platform running.

Issue "Performance at the edge and at rest": every hot read at least 0.80 of a bare handler serving the same
row, measured in the same run under the same load generator.

Starts all six services as their own processes against a dedicated broker and a fresh database (the whole
platform), writes `--factories` factories of one country into the registry's tables, and starts
`bench/bare_handler.py` (uvloop, httptools, one worker, an asyncpg pool, no authentication) on the same
rows. Then, `--rounds` times in turn, loads `GET /v1/factories/{id}` on the registry (a staff token of the
country) and on the bare handler with the same ids, connections and duration (`bench/loadgen.py`, closed
loop), and prints each round and the ratio of the median rates.

    .venv/bin/python bench/edge_ratio.py [--factories 200] [--seconds 10] [--connections 16] [--rounds 3]
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
from pathlib import Path

from loadgen import Request, Result, run_closed_loop
from local_platform import LocalPlatform, ServiceProcess, local_platform, progress, verdict, wait_ready
from registry_load import COUNTRY, seed

from devstack.net import free_port, wait_for_port
from servicekit.auth import Role

TARGET_RATIO = 0.80


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
        env={**os.environ, "BARE_DSN": platform.service_dsn("registry")},
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


async def measure(platform: LocalPlatform, args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bw-edge-bench-") as logs:
        services = [ServiceProcess(platform, name, Path(logs), {}) for name in platform.services]
        bare, bare_port = start_bare_handler(platform)
        try:
            await wait_ready(services, timeout=120)
            wait_for_port("127.0.0.1", bare_port, timeout=30)
            progress(f"whole platform up ({', '.join(s.name for s in services)}); bare handler on {bare_port}")
            ids = await seed(platform, args.factories)
            rng = random.Random(7)
            paths = [f"/v1/factories/{rng.choice(ids)}" for _ in range(20_000)]
            registry = next(s for s in services if s.name == "registry")
            token = platform.signing_key.mint(roles=[Role.STAFF], subject="bench", country=COUNTRY)
            rates: dict[str, list[float]] = {"registry": [], "bare": []}
            for round_no in range(1, args.rounds + 1):
                for name, port, headers in (
                    ("registry", registry.port, {"Authorization": f"Bearer {token}"}),
                    ("bare", bare_port, {}),
                ):
                    profiler = None
                    if args.profile and round_no == 1:
                        pid = registry.process.pid if name == "registry" else bare.pid
                        profiler = start_profiler(pid, args.seconds, Path(logs) / "profile.txt")
                    result = await load(port, paths, headers, args)
                    if profiler is not None:
                        await asyncio.to_thread(profiler.wait, 60)
                        progress(f"  profile of {name} under this load (share of samples, inclusive):")
                        for line in profile_headline(Path(logs) / "profile.txt"):
                            progress(f"    {line}")
                        kept = args.profile.with_name(f"{args.profile.stem}-{name}{args.profile.suffix}")
                        shutil.copy(Path(logs) / "profile.txt", kept)
                        progress(f"  raw profile (py-spy raw format) in {kept}")
                    if result.errors or result.statuses.keys() - {200}:
                        progress(f"  {name}: failures in the run: {result.summary()}")
                        return 1
                    rates[name].append(result.rate())
                    progress(f"  round {round_no} {name:<8} {result.summary()}")
            service, reference = statistics.median(rates["registry"]), statistics.median(rates["bare"])
            ratio = service / reference
            progress(
                f"GET /v1/factories/{{id}}: registry {service:,.0f} req/s, bare handler {reference:,.0f} req/s "
                f"(medians of {args.rounds} rounds): ratio {ratio:.2f}"
            )
            ok = ratio >= TARGET_RATIO
            progress(f"  target ratio >= {TARGET_RATIO:.2f}: {verdict(ok)}")
            return 0 if ok else 1
        finally:
            bare.terminate()
            bare.wait(30)
            for service in services:
                service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factories", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="py-spy the registry in round 1, raw samples here")
    args = parser.parse_args()
    with local_platform() as platform:
        return asyncio.run(measure(platform, args))


if __name__ == "__main__":
    sys.exit(main())
