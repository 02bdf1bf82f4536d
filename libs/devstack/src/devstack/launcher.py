"""`betterwork run`: the whole platform on one machine, in the order it depends on itself.

Postgres (DATABASE_URL, else embedded) -> broker (KAFKA_BOOTSTRAP_SERVERS, else
Tansu) -> roles and schemas -> migrations -> six services -> wait until ready ->
print where to look -> supervise -> on Ctrl-C stop everything in reverse order.

Supervision: a service process that exits is started again after a backoff (1 s, doubling up to 30 s;
back to 1 s once it has stayed up for a minute), with a line on the console; the other services are not
touched. Only the loss of the memory-only local broker stops everything (a restarted Tansu would be a new,
empty broker: see shared/design/BROKER.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from rich.console import Console
from rich.table import Table

from devstack.broker import TansuBroker
from devstack.net import port_is_open
from devstack.postgres import EmbeddedPostgres
from devstack.provision import create_database, provision
from servicekit.auth.local_issuer import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalSigningKey
from servicekit.definition import ServiceDefinition, load_services
from servicekit.migrations import upgrade
from servicekit.settings import ServiceSettings, asyncpg_url

DEFAULT_BROKER_PORT = 9092
DEFAULT_EMBEDDED_POSTGRES_PORT = 5433
READY_TIMEOUT_S = 90.0
RESTART_BACKOFF_S = 1.0  # first wait before restarting a crashed service (BW_RESTART_BACKOFF_S)
RESTART_BACKOFF_MAX_S = 30.0  # the wait doubles per crash in a row, up to this (BW_RESTART_BACKOFF_MAX_S)
STABLE_AFTER_S = 60.0  # a service up this long has recovered: its next crash waits the first backoff again


def restart_delay(crashes_in_a_row: int, *, base_s: float, max_s: float) -> float:
    """Seconds to wait before the restart that follows the `crashes_in_a_row`-th crash (1, 2, 3, ...)."""
    return float(min(max_s, base_s * 2 ** max(0, crashes_in_a_row - 1)))


class AlreadyRunning(RuntimeError):
    pass


def state_dir_from_env(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("BW_STATE_DIR", ".local")).resolve()


@contextlib.contextmanager
def run_lock(state_dir: Path) -> Iterator[IO[str]]:
    """Held for the life of one `betterwork run`; the OS releases it if the launcher dies."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = open(state_dir / "run.lock", "a+")  # noqa: SIM115
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        info = _read_run_info(state_dir)
        urls = info.get("urls")
        where = ", ".join(str(u) for u in urls) if isinstance(urls, list) else "their usual ports"
        raise AlreadyRunning(
            f"Better Work is already running from this folder (launcher pid {info.get('pid', '?')}, "
            f"started {info.get('started', '?')}). Its services answer at "
            f"{where}. "
            "Stop it with Ctrl-C in its terminal first."
        ) from None
    try:
        yield handle
    finally:
        with contextlib.suppress(FileNotFoundError):
            (state_dir / "run.json").unlink()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _read_run_info(state_dir: Path) -> dict[str, object]:
    try:
        return dict(json.loads((state_dir / "run.json").read_text()))
    except (OSError, ValueError):
        return {}


_PR_SET_PDEATHSIG = 1


def _die_with_launcher() -> None:
    """Runs in the service's process before it starts (Linux): it is sent SIGTERM when the launcher goes, however
    the launcher goes (a SIGKILL, a test runner's timeout), so no service outlives `betterwork run`. The launcher
    starts services from its one thread, which is what the kernel ties the signal to."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ServiceProcess:
    definition: ServiceDefinition
    settings: ServiceSettings
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    command: list[str] | None = None  # default: `python -m servicekit.serve <name>`
    started_at: float = 0.0
    crashes_in_a_row: int = 0
    restarts: int = 0
    restart_at: float | None = None  # set while waiting out the backoff after a crash

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def name(self) -> str:
        return self.definition.name

    def spawn(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                self.command or [sys.executable, "-m", "servicekit.serve", self.name],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_launcher if sys.platform.startswith("linux") else None,
            )
        self.started_at = time.monotonic()
        self.restart_at = None


@dataclass
class Platform:
    state_dir: Path
    env: dict[str, str]
    console: Console = field(default_factory=lambda: Console(highlight=False, width=max(Console().width, 110)))
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    services: list[ServiceProcess] = field(default_factory=list)
    _stop_requested: bool = False

    def say(self, message: str) -> None:
        self.console.print(message)

    # --- start -----------------------------------------------------------
    def start_database(self) -> str:
        if url := self.env.get("DATABASE_URL"):
            self.say(f"[bold]Postgres[/]: using DATABASE_URL ({asyncpg_url(url).render_as_string(hide_password=True)})")
            return url
        port = int(self.env.get("BW_EMBEDDED_POSTGRES_PORT", DEFAULT_EMBEDDED_POSTGRES_PORT))
        data_dir = self.state_dir / "postgres" / "data"
        first = not (data_dir / "PG_VERSION").exists()
        self.say(
            f"[bold]Postgres[/]: embedded server on 127.0.0.1:{port}, data in {data_dir}"
            + (" (first run: initialising)" if first else "")
        )
        self.postgres = EmbeddedPostgres(
            data_dir=data_dir, port=port, log_file=self.state_dir / "logs" / "postgres.log"
        )
        self.postgres.start()
        return f"postgresql://postgres@127.0.0.1:{port}/betterwork"

    def start_broker(self) -> str:
        if servers := self.env.get("KAFKA_BOOTSTRAP_SERVERS"):
            self.say(f"[bold]Kafka[/]: using KAFKA_BOOTSTRAP_SERVERS ({servers})")
            return servers
        port = int(self.env.get("BW_BROKER_PORT", DEFAULT_BROKER_PORT))
        self.say(f"[bold]Kafka[/]: Tansu broker on 127.0.0.1:{port} (memory only: its data ends with this run)")
        self.broker = TansuBroker(port=port, log_file=self.state_dir / "logs" / "broker.log")
        return self.broker.start()

    def prepare_services(self, database_url: str, kafka: str) -> None:
        keys = self.state_dir / "keys"
        auth_env: dict[str, str] = {}
        if not (
            self.env.get("AUTH_JWKS_URL") or self.env.get("AUTH_PUBLIC_KEY") or self.env.get("AUTH_PUBLIC_KEY_FILE")
        ):
            key = LocalSigningKey.load_or_create(keys)
            auth_env = {
                "AUTH_PUBLIC_KEY_FILE": str(key.public_key_file),
                "AUTH_ISSUER": LOCAL_ISSUER,
                "AUTH_AUDIENCE": LOCAL_AUDIENCE,
            }
            self.say(f"[bold]Auth[/]: local signing key in {keys} (tokens from `betterwork token`)")
        # The launcher's own environment is what every service process inherits and reads.
        resolved = {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka, **auth_env}
        # A local run delivers webhooks to receivers on this machine (production refuses private targets).
        resolved.setdefault(
            "PARTNERSHIPS_WEBHOOK_ALLOW_PRIVATE_TARGETS",
            self.env.get("PARTNERSHIPS_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        )
        self.env.update(resolved)
        os.environ.update(resolved)
        logs = self.state_dir / "logs"
        for definition in load_services().values():
            settings = definition.settings()
            self.services.append(ServiceProcess(definition, settings, logs / f"{definition.name}.log"))

    def check_ports_free(self) -> None:
        taken = [
            f"{s.definition.name} ({s.settings.port})"
            for s in self.services
            if port_is_open(s.settings.host, s.settings.port)
        ]
        if taken:
            raise RuntimeError(
                f"these ports are already in use: {', '.join(taken)}. Stop what holds them, or set "
                "<SERVICE>_PORT (for example REGISTRY_PORT=9001)."
            )

    def migrate(self, database_url: str) -> None:
        admin = asyncpg_url(database_url)
        if asyncio.run(create_database(admin)):
            self.say(f"  created database {admin.database}")
        asyncio.run(provision(admin, [s.settings for s in self.services]))
        self.say(f"  roles and schemas ready: {', '.join(s.settings.role for s in self.services)}")
        for service in self.services:
            started = time.monotonic()
            upgrade(service.definition, service.settings)
            self.say(f"  migrated {service.definition.name:<13} ({time.monotonic() - started:.1f}s)")

    def spawn_services(self) -> None:
        for service in self.services:
            service.spawn()

    def wait_until_ready(self) -> None:
        pending = {s.definition.name: s for s in self.services}
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(timeout=2) as client:
            while pending:
                if self._stop_requested:
                    raise KeyboardInterrupt
                for name, service in list(pending.items()):
                    self._raise_if_exited(service)
                    try:
                        if client.get(service.base_url + "/health/ready").status_code == 200:
                            del pending[name]
                            self.say(f"  {name:<13} ready at {service.base_url}")
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"not ready after {READY_TIMEOUT_S:g}s: {', '.join(pending)}; see {self.state_dir / 'logs'}"
                    )
                time.sleep(0.25)

    def _raise_if_exited(self, service: ServiceProcess) -> None:
        assert service.process is not None
        code = service.process.poll()
        if code is not None:
            tail = _tail(service.log_file, 15)
            raise RuntimeError(f"{service.definition.name} exited with code {code}; last log lines:\n{tail}")

    def print_summary(self) -> None:
        table = Table(title="Better Work is running", title_justify="left")
        for column in ("service", "API", "docs", "ready"):
            table.add_column(column, no_wrap=True)
        for s in self.services:
            table.add_row(s.definition.name, s.base_url, f"{s.base_url}/docs", f"{s.base_url}/health/ready")
        self.console.print(table)
        self.say(
            "Token:   [bold].venv/bin/betterwork token --role staff --country KH[/]\n"
            'Call:    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8001/v1/me\n'
            f"Logs:    {self.state_dir / 'logs'}/<service>.log\n"
            "Stop:    Ctrl-C"
        )

    # --- run and stop ----------------------------------------------------
    def request_stop(self, *_: object) -> None:
        self._stop_requested = True

    def _backoff(self) -> tuple[float, float]:
        return (
            float(self.env.get("BW_RESTART_BACKOFF_S", RESTART_BACKOFF_S)),
            float(self.env.get("BW_RESTART_BACKOFF_MAX_S", RESTART_BACKOFF_MAX_S)),
        )

    def _look_after(self, service: ServiceProcess, now: float) -> None:
        """Restart `service` if it has exited and its backoff is over; say what happens."""
        if service.restart_at is not None:
            if now >= service.restart_at:
                service.spawn()
                service.restarts += 1
                pid = service.process.pid if service.process else "?"
                self.console.print(f"[green]{service.name} restarted[/] (pid {pid}, restart {service.restarts})")
            return
        assert service.process is not None
        code = service.process.poll()
        if code is None:
            if service.crashes_in_a_row and now - service.started_at >= STABLE_AFTER_S:
                service.crashes_in_a_row = 0
            return
        service.crashes_in_a_row += 1
        base_s, max_s = self._backoff()
        delay = restart_delay(service.crashes_in_a_row, base_s=base_s, max_s=max_s)
        service.restart_at = now + delay
        tail = _tail(service.log_file, 5)
        self.console.print(
            f"[red bold]{service.name} exited with code {code}[/] (crash {service.crashes_in_a_row} in a row); "
            f"restarting it in {delay:g}s, the other services carry on. Last log lines:\n{tail}"
        )

    def supervise(self, *, poll_s: float = 0.5) -> int:
        """Until Ctrl-C: restart crashed services with backoff; stop everything only if the local broker dies."""
        while not self._stop_requested:
            if self.broker is not None and (code := self.broker.exit_code()) is not None:
                # Tansu keeps everything in memory: a restarted one would be a new, empty broker on which running
                # consumers could skip events (shared/design/BROKER.md). Say so, and stop rather than limp on.
                self.console.print(
                    f"[red bold]The local broker stopped (exit code {code}); everything it held is gone.[/]\n"
                    "Stopping the platform: start it again with `make run` (the database keeps its data; "
                    "events not yet consumed are lost with the broker)."
                )
                return 1
            now = time.monotonic()
            for service in self.services:
                self._look_after(service, now)
            time.sleep(poll_s)
        return 0

    def stop(self) -> None:
        running = [s for s in self.services if s.process and s.process.poll() is None]
        for service in running:
            assert service.process is not None
            service.process.send_signal(signal.SIGTERM)
        for service in running:
            assert service.process is not None
            try:
                service.process.wait(15)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
        if running:
            self.say(f"  stopped {len(running)} service(s)")
        if self.broker:
            self.broker.stop()
            self.say("  stopped the broker")
        if self.postgres:
            self.postgres.stop()
            self.say("  stopped Postgres (data kept)")

    def run(self) -> int:
        with run_lock(self.state_dir):
            started = time.monotonic()
            previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
                database_url = self.start_database()
                kafka = self.start_broker()
                self.prepare_services(database_url, kafka)
                self.check_ports_free()
                self.say("[bold]Migrations[/]")
                self.migrate(database_url)
                self.say("[bold]Services[/] (starting)")
                self.spawn_services()
                self.wait_until_ready()
                (self.state_dir / "run.json").write_text(
                    json.dumps(
                        {
                            "pid": os.getpid(),
                            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                            "urls": [s.base_url for s in self.services],
                        }
                    )
                )
                self.say(f"All {len(self.services)} services ready in {time.monotonic() - started:.1f}s.")
                self.print_summary()
                return self.supervise()
            except KeyboardInterrupt:
                return 130
            except Exception as exc:
                self.console.print(f"[red]Could not start the platform:[/] {exc}")
                return 1
            finally:
                self.say("Stopping...")
                self.stop()
                for sig, handler in previous.items():
                    signal.signal(sig, handler)


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
