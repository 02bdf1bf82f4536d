"""A throwaway platform for the messaging benchmarks: a dedicated broker and a fresh, migrated database.

`local_platform()` starts a Tansu broker on a free port, creates the database
`bw_bench_<hex>` on the Postgres at 127.0.0.1:5432 (or on an embedded Postgres
in a temporary folder when nothing answers there), provisions every service's
role and schema and runs every service's migrations. On exit it drops the
database and stops the broker (and the embedded Postgres), even after an error.

Not a benchmark itself: bench/event_latency.py, bench/relay_throughput.py and
bench/consumer_throughput.py share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import URL

from devstack.broker import TansuBroker
from devstack.net import free_port, port_is_open
from devstack.postgres import EmbeddedPostgres
from devstack.provision import create_database, drop_database, provision
from servicekit.auth.local_issuer import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalSigningKey
from servicekit.definition import ServiceDefinition, load_services
from servicekit.migrations import upgrade
from servicekit.settings import ServiceSettings, asyncpg_url, libpq_dsn

DEFAULT_TOPIC_PREFIX = "bench."


def progress(message: str) -> None:
    print(message, flush=True)


@dataclass
class LocalPlatform:
    """What a benchmark needs to build or start any service against this run's database and broker."""

    admin_url: URL  # postgresql+asyncpg URL of the bench database, as the admin user
    kafka_bootstrap_servers: str
    signing_key: LocalSigningKey
    services: dict[str, ServiceDefinition]
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    broker_pid: int | None = None

    @property
    def database_url(self) -> str:
        """Plain libpq URL of the bench database (the admin user); what DATABASE_URL gets."""
        return libpq_dsn(self.admin_url)

    @property
    def database_name(self) -> str:
        assert self.admin_url.database
        return self.admin_url.database

    def settings(self, service: str, **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "database_url": self.database_url,
            "kafka_bootstrap_servers": self.kafka_bootstrap_servers,
            "kafka_topic_prefix": self.topic_prefix,
            "auth_public_key": self.signing_key.public_pem.decode(),
            "auth_jwks_url": None,
            "auth_issuer": LOCAL_ISSUER,
            "auth_audience": LOCAL_AUDIENCE,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return self.services[service].settings(**values)

    def service_env(self, service: str, port: int, **extra: str) -> dict[str, str]:
        """Environment for `python -m servicekit.serve <service>` against this platform."""
        prefix = self.services[service].env_prefix
        # Nothing from the caller's environment may point the service elsewhere.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(prefix)
            and k
            not in {
                "DATABASE_URL",
                "KAFKA_BOOTSTRAP_SERVERS",
                "KAFKA_TOPIC_PREFIX",
                "KAFKA_FETCH_MAX_WAIT_MS",
                "AUTH_PUBLIC_KEY",
                "AUTH_PUBLIC_KEY_FILE",
                "AUTH_JWKS_URL",
                "AUTH_ISSUER",
                "AUTH_AUDIENCE",
            }
        }
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
                "KAFKA_TOPIC_PREFIX": self.topic_prefix,
                "AUTH_PUBLIC_KEY": self.signing_key.public_pem.decode(),
                "AUTH_ISSUER": LOCAL_ISSUER,
                "AUTH_AUDIENCE": LOCAL_AUDIENCE,
                "LOG_LEVEL": "WARNING",
                f"{prefix}PORT": str(port),
            }
        )
        env.update(extra)
        return env

    def service_dsn(self, service: str) -> str:
        """libpq DSN logged in as the service's own role (its search_path is its schema)."""
        return libpq_dsn(self.settings(service).service_database_url())

    async def admin_connection(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url)

    async def backend_pids(self) -> list[int]:
        """Postgres server processes connected to the bench database right now (for CPU accounting)."""
        conn = await self.admin_connection()
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", self.database_name
            )
            return [r["pid"] for r in rows]
        finally:
            await conn.close()


class CpuMeter:
    """CPU seconds used by groups of processes between `start()` and `stop()` (pids that vanish count as 0)."""

    def __init__(self) -> None:
        self.groups: dict[str, list[psutil.Process]] = {}
        self._before: dict[int, float] = {}
        self.used: dict[str, float] = {}
        self.wall = 0.0
        self.machine = 0.0
        self._t0 = 0.0
        self._machine0 = 0.0

    def add(self, name: str, pids: Iterable[int | None]) -> None:
        for pid in pids:
            if pid is None:
                continue
            with contextlib.suppress(psutil.Error):
                self.groups.setdefault(name, []).append(psutil.Process(pid))

    def add_new(self, name: str, pids: Iterable[int]) -> None:
        """Processes that started after `start()` (all their CPU time falls in the window)."""
        known = {p.pid for procs in self.groups.values() for p in procs}
        for pid in pids:
            if pid not in known:
                with contextlib.suppress(psutil.Error):
                    self.groups.setdefault(name, []).append(psutil.Process(pid))
                    self._before[pid] = 0.0

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            times = proc.cpu_times()
            return float(times.user + times.system)
        except psutil.Error:
            return 0.0

    @staticmethod
    def _machine_busy() -> float:
        times = psutil.cpu_times()
        return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._machine0 = self._machine_busy()
        self._before = {p.pid: self._cpu(p) for procs in self.groups.values() for p in procs}

    def stop(self) -> None:
        self.wall = time.perf_counter() - self._t0
        for name, procs in self.groups.items():
            self.used[name] = sum(max(self._cpu(p) - self._before.get(p.pid, 0.0), 0.0) for p in procs)
        self.machine = self._machine_busy() - self._machine0

    def report(self) -> str:
        parts = [f"{name} {used / self.wall * 100:.0f}%" for name, used in self.used.items()]
        other = max(self.machine - sum(self.used.values()), 0.0)
        return (
            f"CPU over {self.wall:.1f}s (100% = one core; {psutil.cpu_count()} cores): "
            + ", ".join(parts)
            + f"; whole machine {self.machine / self.wall * 100:.0f}% (everything else {other / self.wall * 100:.0f}%)"
        )


class ServiceProcess:
    def __init__(self, platform: LocalPlatform, name: str, log_dir: Path, extra_env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.log_file = log_dir / f"{name}.log"
        env = platform.service_env(name, self.port, **extra_env)
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "servicekit.serve", name],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def wait_ready(services: list[ServiceProcess], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=3) as client:
        for service in services:
            while True:
                if service.process.poll() is not None:
                    raise SystemExit(f"{service.name} exited with {service.process.returncode}:\n{service.log_tail()}")
                try:
                    if (await client.get(f"{service.url}/health/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{service.name} not ready after {timeout:g}s:\n{service.log_tail()}")
                await asyncio.sleep(0.2)


@contextlib.contextmanager
def local_platform(topic_prefix: str = DEFAULT_TOPIC_PREFIX) -> Iterator[LocalPlatform]:
    with contextlib.ExitStack() as stack:
        progress("starting a dedicated Tansu broker...")
        broker = TansuBroker(port=free_port())
        stack.callback(_announce_and_call, "stopping the broker", broker.stop)
        bootstrap = broker.start()
        progress(f"  broker on {bootstrap} (pid {broker.pid})")

        if port_is_open("127.0.0.1", 5432):
            server_url = "postgresql://postgres@127.0.0.1:5432/postgres"
            progress("using the Postgres at 127.0.0.1:5432")
        else:
            folder = Path(tempfile.mkdtemp(prefix="bw-bench-pg-"))
            stack.callback(shutil.rmtree, folder, True)
            server = EmbeddedPostgres(data_dir=folder / "data", port=free_port(), log_file=folder / "postgres.log")
            progress(f"nothing answers on 127.0.0.1:5432; starting an embedded Postgres on port {server.port}...")
            stack.callback(_announce_and_call, "stopping the embedded Postgres", server.stop)
            server_url = server.start()

        admin = asyncpg_url(server_url).set(database=f"bw_bench_{secrets.token_hex(4)}")
        services = load_services()
        platform = LocalPlatform(
            admin, bootstrap, LocalSigningKey.generate(), services, topic_prefix=topic_prefix, broker_pid=broker.pid
        )
        progress(f"preparing database {admin.database}...")
        started = time.perf_counter()
        asyncio.run(create_database(admin))
        stack.callback(
            _announce_and_call, f"dropping database {admin.database}", lambda: asyncio.run(drop_database(admin))
        )
        all_settings = [platform.settings(name) for name in services]
        asyncio.run(provision(admin, all_settings))
        for name, settings in zip(services, all_settings, strict=True):
            upgrade(services[name], settings)
        progress(f"  provisioned and migrated {len(services)} services in {time.perf_counter() - started:.1f}s")
        yield platform


def _announce_and_call(message: str, fn: Any, *args: Any) -> None:
    progress(f"{message}...")
    fn(*args)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(int(-(-fraction * len(sorted_values) // 1)), 1)  # ceil(fraction * n), at least 1
    return sorted_values[min(rank, len(sorted_values)) - 1]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


__all__ = ["CpuMeter", "LocalPlatform", "local_platform", "percentile", "progress", "verdict"]

if __name__ == "__main__":  # a smoke test: prepare everything, then clean up
    with local_platform() as p:
        progress(f"ready: {p.database_url} / {p.kafka_bootstrap_servers}")
    sys.exit(0)
