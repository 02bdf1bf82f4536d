"""Memory of the whole default run: six services, the launcher, Tansu and embedded Postgres.

Starts `betterwork run` exactly as `make run` does (no DATABASE_URL, no
KAFKA_BOOTSTRAP_SERVERS: embedded Postgres and Tansu), in a throwaway state
folder, waits until every service is ready, sends some authenticated requests
to each so the services have warmed up, then sums the memory of every process
of the run. Prints RSS (counts shared pages once per process, so it overstates)
and PSS (shared pages divided among their users: the honest total).

Target (issue "Foundation"): under 1.5 GB for the whole default run.
Usage: .venv/bin/python bench/memory_default_run.py [--requests N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

BUDGET_MB = 1500
PORTS = range(8001, 8007)


def wait_ready(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if all(client.get(f"http://127.0.0.1:{p}/health/ready").status_code == 200 for p in PORTS):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    raise SystemExit("the platform did not become ready in time")


def processes_of_run(launcher: psutil.Process, pg_data: Path) -> dict[str, list[psutil.Process]]:
    groups: dict[str, list[psutil.Process]] = {"launcher": [launcher], "services": [], "broker": [], "postgres": []}
    for child in launcher.children(recursive=True):
        cmd = " ".join(child.cmdline())
        if "servicekit.serve" in cmd:
            groups["services"].append(child)
        elif "tansu" in cmd:
            groups["broker"].append(child)
    postmaster_pid = int((pg_data / "postmaster.pid").read_text().split()[0])
    postmaster = psutil.Process(postmaster_pid)
    groups["postgres"] = [postmaster, *postmaster.children(recursive=True)]
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="warm-up requests per service")
    args = parser.parse_args()

    betterwork = str(Path(sys.executable).with_name("betterwork"))
    state = Path(tempfile.mkdtemp(prefix="bw-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env["BW_STATE_DIR"] = str(state)
    print(f"starting the default run (state in {state})...", flush=True)
    started = time.monotonic()
    launcher_proc = subprocess.Popen([betterwork, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_ready(180)
        print(f"all six services ready after {time.monotonic() - started:.1f}s (first run includes initdb)")
        token = subprocess.run(
            [betterwork, "token", "--role", "staff"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=5) as client:
            for port in PORTS:
                for i in range(args.requests):
                    path = "/v1/me" if i % 2 else "/v1/audit-events"
                    client.get(f"http://127.0.0.1:{port}{path}", headers=headers).raise_for_status()
        time.sleep(1)

        groups = processes_of_run(psutil.Process(launcher_proc.pid), state / "postgres" / "data")
        print(f"\n{'component':<10} {'procs':>5} {'RSS MB':>9} {'PSS MB':>9}")
        total_rss = total_pss = 0.0
        for name, procs in groups.items():
            infos = [p.memory_full_info() for p in procs]
            rss = sum(i.rss for i in infos) / 2**20
            pss = sum(i.pss for i in infos) / 2**20
            total_rss += rss
            total_pss += pss
            print(f"{name:<10} {len(procs):>5} {rss:>9.1f} {pss:>9.1f}")
        print(f"{'total':<10} {sum(len(p) for p in groups.values()):>5} {total_rss:>9.1f} {total_pss:>9.1f}")
        verdict = "within" if total_rss < BUDGET_MB else "OVER"
        print(
            f"\nwhole default run: {total_rss:.0f} MB RSS ({total_pss:.0f} MB PSS); {verdict} the {BUDGET_MB} MB budget"
        )
    finally:
        launcher_proc.send_signal(signal.SIGINT)
        try:
            launcher_proc.wait(60)
        except subprocess.TimeoutExpired:
            launcher_proc.kill()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
