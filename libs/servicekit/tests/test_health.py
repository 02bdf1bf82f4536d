"""Liveness needs nothing external; readiness follows the database and the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.tcp_proxy import TcpProxy

SampleAppFactory = Callable[..., FastAPI]


async def wait_for_status(client: httpx.AsyncClient, path: str, status: int, timeout: float = 15) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(path)
        if response.status_code == status:
            return response.json()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path} stayed {response.status_code}: {response.text}")
        await asyncio.sleep(0.2)


async def test_readiness_follows_the_database(test_platform: TestPlatform, make_sample_app: SampleAppFactory) -> None:
    server = make_url(test_platform.database_url)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    app = make_sample_app(
        database_url=server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        readiness_timeout_s=1.0,
    )
    try:
        async with serve_in_process(app) as client:
            body = await wait_for_status(client, "/health/ready", 200)
            assert body["checks"] == {"database": "ok", "broker": "ok"}

            await proxy.cut()
            body = await wait_for_status(client, "/health/ready", 503)
            assert body["checks"]["database"] != "ok"
            assert body["checks"]["broker"] == "ok"
            assert (await client.get("/health/live")).status_code == 200

            await proxy.start()
            await wait_for_status(client, "/health/ready", 200)
    finally:
        await proxy.cut()


async def test_readiness_reports_the_broker_but_stays_ready_without_it(
    test_platform: TestPlatform, make_sample_app: SampleAppFactory
) -> None:
    host, port = test_platform.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    # Tansu advertises its own address in metadata; the readiness probe only needs the bootstrap answer.
    app = make_sample_app(kafka_bootstrap_servers=f"127.0.0.1:{proxy.port}", readiness_timeout_s=1.0)
    try:
        async with serve_in_process(app) as client:
            await wait_for_status(client, "/health/ready", 200)
            assert 'dependency_up{dependency="broker"} 1.0' in (await client.get("/metrics")).text
            await proxy.cut()
            # Writes go through the outbox: without the broker the service still serves, and says so.
            body = (await client.get("/health/ready")).json()
            assert body["status"] == "ready"
            assert body["checks"]["broker"] != "ok"
            assert body["checks"]["database"] == "ok"
            assert 'dependency_up{dependency="broker"} 0.0' in (await client.get("/metrics")).text
            await proxy.start()
            body = await wait_for_status(client, "/health/ready", 200)
            assert body["checks"]["broker"] == "ok"
    finally:
        await proxy.cut()


async def test_liveness_needs_nothing_external(make_sample_app: SampleAppFactory) -> None:
    app = make_sample_app(
        database_url="postgresql://nobody@127.0.0.1:1/none",
        kafka_bootstrap_servers="127.0.0.1:1",
        readiness_timeout_s=0.5,
    )
    async with serve_in_process(app) as client:
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/health/ready")).status_code == 503


async def test_metrics_count_requests_by_route_template(make_sample_app: SampleAppFactory) -> None:
    async with serve_in_process(make_sample_app()) as client:
        await client.get("/v1/me")
        await client.get("/no/such/route/123")
        text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/v1/me",status="401"} 1.0' in text
    assert 'route="unmatched"' in text
    assert "/no/such/route/123" not in text
