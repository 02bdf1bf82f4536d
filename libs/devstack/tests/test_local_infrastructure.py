"""The embedded defaults `make run` relies on: embedded Postgres, the token command, the TCP proxy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from devstack.net import free_port, port_is_open
from devstack.postgres import EmbeddedPostgres
from devstack.tcp_proxy import TcpProxy
from servicekit.auth import Role, TokenVerifier
from servicekit.auth.local_issuer import LOCAL_AUDIENCE, LOCAL_ISSUER


def test_embedded_postgres_keeps_its_data_between_runs(tmp_path: Path) -> None:
    server = EmbeddedPostgres(data_dir=tmp_path / "data", port=free_port(), log_file=tmp_path / "pg.log")

    async def write() -> None:
        conn = await asyncpg.connect(server.admin_url)
        await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
        await conn.close()

    async def read() -> str:
        conn = await asyncpg.connect(server.admin_url)
        try:
            return str(await conn.fetchval("SELECT v FROM kept"))
        finally:
            await conn.close()

    server.start()
    try:
        asyncio.run(write())
    finally:
        server.stop()
    assert not port_is_open("127.0.0.1", server.port)
    server.start()
    try:
        assert asyncio.run(read()) == "still here"
    finally:
        server.stop()


def test_token_command_prints_a_token_the_local_services_accept(tmp_path: Path) -> None:
    env = {**os.environ, "BW_STATE_DIR": str(tmp_path)}
    betterwork = str(Path(sys.executable).with_name("betterwork"))
    result = subprocess.run(
        [betterwork, "token", "--role", "buyer", "--org", "buyer-7", "--country", "vn"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    public_key = (tmp_path / "keys" / "jwt-signing-key.pub.pem").read_text()
    verifier = TokenVerifier(issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, public_key=public_key)
    principal = asyncio.run(verifier.verify(result.stdout.strip()))
    assert principal.roles == {Role.BUYER}
    assert (principal.organisation_id, principal.country) == ("buyer-7", "VN")
    # The key is made once and kept: a second token verifies with the same public key.
    again = subprocess.run(
        [betterwork, "token", "--role", "admin"], env=env, capture_output=True, text=True, check=True
    )
    assert asyncio.run(verifier.verify(again.stdout.strip())).roles == {Role.ADMIN}
    assert oct((tmp_path / "keys" / "jwt-signing-key.pem").stat().st_mode & 0o777) == "0o600"


def test_token_command_rejects_unknown_role_and_bad_country(tmp_path: Path) -> None:
    env = {**os.environ, "BW_STATE_DIR": str(tmp_path)}
    betterwork = str(Path(sys.executable).with_name("betterwork"))
    bad_role = subprocess.run([betterwork, "token", "--role", "superuser"], env=env, capture_output=True, text=True)
    assert bad_role.returncode == 2
    assert "superuser" in bad_role.stderr
    bad_country = subprocess.run(
        [betterwork, "token", "--role", "staff", "--country", "Cambodia"], env=env, capture_output=True, text=True
    )
    assert bad_country.returncode == 2
    assert "alpha-2" in bad_country.stderr


async def test_tcp_proxy_cuts_and_restores_on_the_same_port() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    upstream = await asyncio.start_server(echo, "127.0.0.1", 0)
    proxy = TcpProxy("127.0.0.1", upstream.sockets[0].getsockname()[1])
    await proxy.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        assert await reader.read(100) == b"ping"
        writer.close()
        await proxy.cut()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", proxy.port)
        await proxy.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"back")
        assert await reader.read(100) == b"back"
        writer.close()
    finally:
        await proxy.cut()
        upstream.close()
