"""The launcher supervises: a crashed service comes back after a backoff, with a line on the console, and the
others stay up; only the loss of the memory-only broker stops everything."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from rich.console import Console

from devstack.launcher import Platform, ServiceProcess, restart_delay
from servicekit.definition import load_services

CRASH_SOON = [sys.executable, "-c", "import sys, time; time.sleep(0.2); print('boom', flush=True); sys.exit(3)"]
STAY_UP = [sys.executable, "-c", "import time; time.sleep(120)"]


def platform(tmp_path: Path, **env: str) -> tuple[Platform, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False, color_system=None)
    return Platform(state_dir=tmp_path, env=dict(env), console=console), out


def service(tmp_path: Path, name: str, command: list[str]) -> ServiceProcess:
    definition = load_services()[name]
    return ServiceProcess(definition, definition.settings(), tmp_path / f"{name}.log", command=command)


def test_the_wait_doubles_up_to_its_cap() -> None:
    assert [restart_delay(n, base_s=1, max_s=30) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_crashed_service_is_restarted_with_backoff_and_the_others_stay_up(tmp_path: Path) -> None:
    launcher, out = platform(tmp_path, BW_RESTART_BACKOFF_S="0.3", BW_RESTART_BACKOFF_MAX_S="0.6")
    crashing = service(tmp_path, "transparency", CRASH_SOON)
    steady = service(tmp_path, "registry", STAY_UP)
    launcher.services = [crashing, steady]
    launcher.spawn_services()
    assert steady.process is not None
    steady_pid = steady.process.pid
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(launcher.supervise(poll_s=0.05)))
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while crashing.restarts < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        launcher.request_stop()
        runner.join(10)
        launcher.stop()
    text = out.getvalue()
    assert result == [0]  # supervision ended only because it was asked to
    assert crashing.restarts >= 3
    assert "transparency exited with code 3 (crash 1 in a row); restarting it in 0.3s" in text
    assert "(crash 2 in a row); restarting it in 0.6s" in text
    assert "(crash 3 in a row); restarting it in 0.6s" in text  # capped
    assert "boom" in text  # the last log lines come with it
    assert "transparency restarted" in text
    assert "registry" not in text  # the steady one was never touched
    assert steady.process.pid == steady_pid


def test_only_the_loss_of_the_local_broker_stops_everything(tmp_path: Path) -> None:
    class DeadBroker:
        def exit_code(self) -> int | None:
            return -9

    launcher, out = platform(tmp_path)
    steady = service(tmp_path, "registry", STAY_UP)
    launcher.services = [steady]
    launcher.spawn_services()
    launcher.broker = DeadBroker()  # type: ignore[assignment]
    try:
        assert launcher.supervise(poll_s=0.05) == 1
    finally:
        launcher.broker = None
        launcher.stop()
    assert "The local broker stopped (exit code -9)" in out.getvalue()
    assert steady.process is not None and steady.process.poll() is not None  # stopped with the rest


PARENT = """
import sys, time
from pathlib import Path
from devstack.launcher import ServiceProcess
from servicekit.definition import load_services
definition = load_services()["registry"]
child = ServiceProcess(definition, definition.settings(), Path(sys.argv[1]),
                       command=[sys.executable, "-c", "import time; time.sleep(120)"])
child.spawn()
print(child.process.pid, flush=True)
time.sleep(120)
"""


def test_services_do_not_outlive_a_killed_launcher(tmp_path: Path) -> None:
    """A launcher ended by SIGKILL (no chance to stop its services) takes its services with it."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "svc.log")], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    os.kill(child_pid, 0)  # running
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child_pid):
        time.sleep(0.05)
    assert not _alive(child_pid), "the service outlived its launcher"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie waits for init to reap it: gone
    except FileNotFoundError:
        return False
