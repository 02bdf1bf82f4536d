"""`betterwork run` supervises: a service killed while the platform runs comes back, the others stay up."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from devstack.net import free_port
from devstack.provision import drop_database
from devstack.pytest_plugin import TestPlatform
from servicekit.settings import libpq_dsn

from .test_platform_run import BETTERWORK, Output

pytestmark = pytest.mark.slow


@pytest.fixture
def restart_database(test_platform: TestPlatform) -> Iterator[str]:
    """A database of this test's own, created by the launcher, dropped afterwards."""
    url = test_platform.admin_url.set(database=f"{test_platform.admin_url.database}_restart")
    yield libpq_dsn(url)
    asyncio.run(drop_database(url))


def test_a_killed_service_is_restarted_and_the_others_stay_up(
    test_platform: TestPlatform, restart_database: str, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in test_platform.services}
    env = {
        **os.environ,
        "BW_STATE_DIR": str(tmp_path / "state"),
        "DATABASE_URL": restart_database,
        "KAFKA_BOOTSTRAP_SERVERS": test_platform.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": f"restart{os.getpid()}.",
        "COLUMNS": "160",
        "BW_RESTART_BACKOFF_S": "0.5",
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    for name in ("AUTH_JWKS_URL", "AUTH_PUBLIC_KEY", "AUTH_PUBLIC_KEY_FILE"):
        env.pop(name, None)
    launcher = subprocess.Popen(
        [BETTERWORK, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = Output(launcher)
    try:
        output.wait_for(r"Stop:", timeout=120)

        def serving() -> dict[str, int]:
            """pid of each service process, by the port it was given."""
            found = {}
            for child in psutil.Process(launcher.pid).children(recursive=True):
                cmdline = child.cmdline()
                if "servicekit.serve" in cmdline:
                    found[cmdline[-1]] = child.pid
            return found

        before = serving()
        assert set(before) == set(ports)
        os.kill(before["transparency"], signal.SIGKILL)
        text = output.wait_for(r"transparency restarted", timeout=30)
        assert "transparency exited with code -9 (crash 1 in a row); restarting it in 0.5s" in text
        with httpx.Client(timeout=2) as client:
            for _ in range(120):
                try:
                    if client.get(f"http://127.0.0.1:{ports['transparency']}/health/live").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
            else:
                raise AssertionError("transparency did not answer again")
        after = serving()
        assert after["transparency"] != before["transparency"]
        assert {k: v for k, v in after.items() if k != "transparency"} == {
            k: v for k, v in before.items() if k != "transparency"
        }
        assert launcher.poll() is None

        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(60) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
