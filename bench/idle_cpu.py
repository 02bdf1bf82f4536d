"""CPU of the whole platform at rest: six services, the launcher, Tansu and embedded Postgres, no requests and
no events.

Starts `betterwork run` exactly as `make run` does (embedded Postgres and Tansu, a throwaway state folder),
waits until every service is ready, lets it settle (consumers are at rest ten times
`KAFKA_FETCH_IDLE_AFTER_S` after the last event), then measures the CPU time of every process of the run
over a window and prints it as a share of one core, by component and by service.

Target (issue "Performance at the edge and at rest"): under 5 % of one core at rest.
Usage: .venv/bin/python bench/idle_cpu.py [--settle 25] [--window 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from memory_default_run import processes_of_run, wait_ready

TARGET = 0.05  # of one core


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=25.0, help="seconds between ready and the window")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured")
    args = parser.parse_args()

    betterwork = str(Path(sys.executable).with_name("betterwork"))
    state = Path(tempfile.mkdtemp(prefix="bw-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env["BW_STATE_DIR"] = str(state)
    print(f"starting the default run (state in {state})...", flush=True)
    launcher = subprocess.Popen([betterwork, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_ready(240)
        print(f"ready; settling {args.settle:g} s, then measuring {args.window:g} s at rest...", flush=True)
        time.sleep(args.settle)
        groups = processes_of_run(psutil.Process(launcher.pid), state / "postgres" / "data")
        before = {name: cpu_seconds(procs) for name, procs in groups.items()}
        before_each = {proc.pid: cpu_seconds([proc]) for proc in groups["services"]}
        time.sleep(args.window)
        used = {name: (cpu_seconds(procs) - before[name]) / args.window for name, procs in groups.items()}
        total = sum(used.values())
        for name, share in used.items():
            print(f"  {name:<10} {share:6.1%} of a core ({len(groups[name])} processes)")
        for proc in groups["services"]:  # which service, from its command line
            with contextlib.suppress(psutil.Error):
                share = (cpu_seconds([proc]) - before_each[proc.pid]) / args.window
                print(f"    {proc.cmdline()[-1]:<13} {share:6.1%}")
        verdict = "PASS" if total < TARGET else "FAIL"
        print(f"platform at rest: {total:.1%} of one core over {args.window:g} s; target < {TARGET:.0%}: {verdict}")
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            launcher.kill()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
