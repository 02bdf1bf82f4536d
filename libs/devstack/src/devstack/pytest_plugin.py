"""The test fixtures every suite in the repository shares: one for the database, one for the broker.

Postgres, in order of preference: `BW_TEST_POSTGRES_URL` (admin URL of a
server); a testcontainers Postgres when `BW_TEST_CONTAINERS=1` and Docker
answers; the server on 127.0.0.1:5432 when one answers there; an embedded
server in a temporary folder. The broker: `BW_TEST_KAFKA_BOOTSTRAP_SERVERS`;
testcontainers Kafka when `BW_TEST_CONTAINERS=1`; a Tansu broker on a free port.

Every test session creates its own fresh database (`bw_test_<random>`) with
all roles, schemas and migrations, and drops it at the end, so runs never see
each other's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL

from devstack.broker import TansuBroker
from devstack.net import free_port, port_is_open
from devstack.postgres import EmbeddedPostgres
from devstack.provision import create_database, drop_database, provision
from servicekit.auth.local_issuer import LOCAL_AUDIENCE, LOCAL_ISSUER, LocalSigningKey
from servicekit.auth.principal import Role
from servicekit.definition import ServiceDefinition, load_services
from servicekit.migrations import upgrade
from servicekit.settings import ServiceSettings, asyncpg_url, libpq_dsn


def _containers_requested() -> bool:
    if os.environ.get("BW_TEST_CONTAINERS") != "1":
        return False
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        raise pytest.UsageError(f"BW_TEST_CONTAINERS=1 but Docker does not answer: {exc}") from exc
    return True


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """Admin URL (database `postgres`) of the server this session tests against."""
    if url := os.environ.get("BW_TEST_POSTGRES_URL"):
        yield url
    elif _containers_requested():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
    elif port_is_open("127.0.0.1", 5432):
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        folder = Path(tempfile.mkdtemp(prefix="bw-test-pg-"))
        server = EmbeddedPostgres(data_dir=folder / "data", port=free_port(), log_file=folder / "postgres.log")
        try:
            yield server.start()
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> Iterator[str]:
    if servers := os.environ.get("BW_TEST_KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
    elif _containers_requested():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as container:
            yield container.get_bootstrap_server()
    else:
        broker = TansuBroker(port=free_port())
        try:
            yield broker.start()
        finally:
            broker.stop()


@pytest.fixture
def dedicated_broker() -> Iterator[TansuBroker]:
    """A broker of this test's own, which it may freeze (SIGSTOP) and thaw to simulate an outage."""
    broker = TansuBroker(port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    """Topics and consumer groups of this test only (the database is shared by the session)."""
    return f"t{secrets.token_hex(3)}."


@dataclass
class TestPlatform:
    """What a test needs to build any service against this session's database and broker."""

    __test__ = False  # not a test class

    admin_url: URL
    kafka_bootstrap_servers: str
    signing_key: LocalSigningKey
    services: dict[str, ServiceDefinition]

    @property
    def database_url(self) -> str:
        return libpq_dsn(self.admin_url)

    def service_dsn(self, service: str) -> str:
        """DSN logged in as the service's own role, as the service itself connects."""
        return libpq_dsn(self.settings(service).service_database_url())

    def settings(self, service: str, **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "database_url": self.database_url,
            "kafka_bootstrap_servers": self.kafka_bootstrap_servers,
            "auth_public_key": self.signing_key.public_pem.decode(),
            "auth_jwks_url": None,
            "auth_issuer": LOCAL_ISSUER,
            "auth_audience": LOCAL_AUDIENCE,
            "readiness_timeout_s": 2.0,
        }
        values.update(overrides)
        return self.services[service].settings(**values)

    def app(self, service: str, **overrides: Any) -> FastAPI:
        return self.services[service].create_app(self.settings(service, **overrides))

    def service_env(self, service: str, **overrides: str) -> dict[str, str]:
        """Environment for running `service` as its own process against this session's platform."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "KAFKA_", "DATABASE_URL"))}
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
                "AUTH_PUBLIC_KEY": self.signing_key.public_pem.decode(),
                "AUTH_ISSUER": LOCAL_ISSUER,
                "AUTH_AUDIENCE": LOCAL_AUDIENCE,
                f"{service.upper()}_PORT": str(free_port()),
                "LOG_LEVEL": "WARNING",
            }
        )
        env.update(overrides)
        return env

    def token(self, *roles: Role | str, **claims: Any) -> str:
        return self.signing_key.mint(roles=roles, **claims)


@pytest.fixture(scope="session")
def test_platform(postgres_server_url: str, kafka_bootstrap_servers: str) -> Iterator[TestPlatform]:
    admin = asyncpg_url(postgres_server_url).set(database=f"bw_test_{secrets.token_hex(4)}")
    services = load_services()
    platform = TestPlatform(admin, kafka_bootstrap_servers, LocalSigningKey.generate(), services)
    asyncio.run(create_database(admin))
    try:
        all_settings = [platform.settings(name) for name in services]
        asyncio.run(provision(admin, all_settings))
        for name, settings in zip(services, all_settings, strict=True):
            upgrade(services[name], settings)
        yield platform
    finally:
        asyncio.run(drop_database(admin))


@contextlib.asynccontextmanager
async def serve_in_process(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and talk to it over ASGI, as an HTTP client would."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
