"""`betterwork run` end to end: six services ready, tokens accepted, a second run refused, Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import pytest

from devstack.net import free_port, port_is_open
from devstack.provision import drop_database
from devstack.pytest_plugin import TestPlatform
from servicekit.settings import libpq_dsn

pytestmark = pytest.mark.slow

BETTERWORK = str(Path(sys.executable).with_name("betterwork"))


class Output:
    """Collects a process's output on a thread, so the test can wait for a line without blocking forever."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.text = ""
        self._lock = threading.Lock()
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._pump, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                self.text += line

    def wait_for(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if re.search(pattern, self.text):
                    return self.text
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not printed within {timeout}s; output:\n{self.text}")


@pytest.fixture
def own_database(test_platform: TestPlatform) -> Iterator[str]:
    """A database the launcher creates itself, so its relays and consumers meet no other test's rows."""
    url = test_platform.admin_url.set(database=f"{test_platform.admin_url.database}_run")
    yield libpq_dsn(url)
    asyncio.run(drop_database(url))


def test_run_starts_everything_and_stops_cleanly(
    test_platform: TestPlatform, own_database: str, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in test_platform.services}
    env = {
        **os.environ,
        "BW_STATE_DIR": str(tmp_path / "state"),
        "DATABASE_URL": own_database,
        "KAFKA_BOOTSTRAP_SERVERS": test_platform.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": f"run{os.getpid()}.",
        "COLUMNS": "160",
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    for name in ("AUTH_JWKS_URL", "AUTH_PUBLIC_KEY", "AUTH_PUBLIC_KEY_FILE"):
        env.pop(name, None)
    launcher = subprocess.Popen(
        [BETTERWORK, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output = Output(launcher).wait_for(r"Stop:", timeout=120)
        assert "All 6 services ready" in output
        for port in ports.values():
            assert f"http://127.0.0.1:{port}/docs" in output

        token = subprocess.run(
            [BETTERWORK, "token", "--role", "staff", "--country", "KH"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        with httpx.Client(timeout=5) as client:
            for name, port in ports.items():
                me = client.get(f"http://127.0.0.1:{port}/v1/me", headers={"Authorization": f"Bearer {token}"})
                assert me.status_code == 200, (name, me.text)
                assert me.json()["service"] == name
                assert me.json()["country"] == "KH"
                anonymous = client.get(f"http://127.0.0.1:{port}/v1/me")
                assert anonymous.status_code == 401
                assert anonymous.headers["content-type"] == "application/problem+json"

        # The six processes are wired through the broker: a factory registered at the registry
        # reaches the assessments service's read model.
        with httpx.Client(timeout=5) as client:
            created = client.post(
                f"http://127.0.0.1:{ports['registry']}/v1/factories",
                json={"name": "Launcher Garment", "country": "KH", "address": "Plot 1, Launcher Road"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert created.status_code == 201, created.text
        assert _wait_for_read_model(own_database, created.json()["factory"]["id"]) == "Launcher Garment"

        second = subprocess.run([BETTERWORK, "run"], env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 3
        assert "already running" in second.stderr

        launcher.send_signal(signal.SIGINT)
        launcher.wait(60)
        assert launcher.returncode == 0
        assert not any(port_is_open("127.0.0.1", port) for port in ports.values())
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()


def _wait_for_read_model(database_url: str, factory_id: str, timeout: float = 60) -> str:
    async def name() -> str | None:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(
                "SELECT name FROM assessments.factory_ref WHERE factory_id = $1::uuid", factory_id
            )
        finally:
            await conn.close()

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := asyncio.run(name()):
            return str(found)
        time.sleep(0.2)
    raise AssertionError(f"factory {factory_id} did not reach the assessments read model in {timeout}s")


def test_run_reports_a_taken_port_instead_of_failing_obscurely(test_platform: TestPlatform, tmp_path: Path) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        env = {
            **os.environ,
            "BW_STATE_DIR": str(tmp_path / "state"),
            "DATABASE_URL": test_platform.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": test_platform.kafka_bootstrap_servers,
            "REGISTRY_PORT": str(taken),
        }
        result = subprocess.run([BETTERWORK, "run"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"registry ({taken})" in result.stdout


def test_run_stops_loudly_when_its_broker_dies(test_platform: TestPlatform, own_database: str, tmp_path: Path) -> None:
    import psutil

    env = {
        **os.environ,
        "BW_STATE_DIR": str(tmp_path / "state"),
        "DATABASE_URL": own_database,
        "BW_BROKER_PORT": str(free_port()),
        **{f"{name.upper()}_PORT": str(free_port()) for name in test_platform.services},
    }
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "AUTH_JWKS_URL", "AUTH_PUBLIC_KEY", "AUTH_PUBLIC_KEY_FILE"):
        env.pop(name, None)
    launcher = subprocess.Popen(
        [BETTERWORK, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = Output(launcher)
    try:
        output.wait_for(r"Stop:", timeout=120)
        broker = [p for p in psutil.Process(launcher.pid).children(recursive=True) if "tansu" in " ".join(p.cmdline())]
        assert len(broker) == 1
        broker[0].kill()
        assert launcher.wait(60) == 1
        text = output.wait_for(r"stopped Postgres|Stopping\.\.\.", timeout=10)
        assert "The local broker stopped" in text
        assert "everything it held is gone" in text
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
