"""What a registration leaves behind, through HTTP against real Postgres: the factory, its audit row and its event
are written together (one statement for the record and its audit row, one for the outbox), or nothing is."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

import devstack.testkit.access as access
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.registry import new_factory

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def registry(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(test_platform.app("registry", relay_enabled=False)) as client:
        yield client


async def audit_of(client: httpx.AsyncClient, headers: dict[str, str], factory_id: str) -> list[dict[str, object]]:
    response = await client.get(
        "/v1/audit-events", params={"entity_type": "factory", "entity_id": factory_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_a_new_factory_is_stored_with_its_audit_row_and_its_event(
    test_platform: TestPlatform, registry: httpx.AsyncClient
) -> None:
    staff = access.staff(test_platform, "KH", subject="ea-vanna")
    body = new_factory("Angkor Stitch")
    created = await registry.post("/v1/factories", json=body, headers=staff)
    assert created.status_code == 201, created.text
    factory = created.json()["factory"]

    fetched = await registry.get(f"/v1/factories/{factory['id']}", headers=staff)
    assert fetched.status_code == 200
    assert fetched.json()["name"] == body["name"]

    (entry,) = await audit_of(registry, staff, factory["id"])
    assert entry["action"] == "factory.registered"
    assert entry["actor"] == "ea-vanna"
    assert entry["actor_roles"] == ["staff"]
    assert entry["country"] == "KH"
    assert entry["details"] == {"name": body["name"], "score_of_nearest": created.json()["score"]}
    # Staff of another programme do not read it.
    assert await audit_of(registry, access.staff(test_platform, "VN"), factory["id"]) == []

    (event,) = await fetch(
        test_platform,
        "registry",
        "SELECT type, payload::text AS payload, headers::text AS headers FROM registry.outbox WHERE aggregateid = $1",
        factory["id"],
    )
    assert event["type"] == "org.betterwork.registry.factory.registered.v1"
    assert json.loads(event["payload"])["name"] == body["name"]
    assert json.loads(event["headers"])["ce_country"] == "KH"


async def test_a_refused_registration_leaves_no_record_audit_row_or_event(
    test_platform: TestPlatform, registry: httpx.AsyncClient
) -> None:
    staff = access.staff(test_platform, "KH")
    body = new_factory("Refused Knit", workforce={"total": 10, "women": 20})
    refused = await registry.post("/v1/factories", json=body, headers=staff)
    assert refused.status_code == 422, refused.text

    found = await registry.get("/v1/factories", params={"q": body["name"]}, headers=staff)
    assert found.status_code == 200
    assert found.json()["items"] == []
    rows = await fetch(
        test_platform,
        "registry",
        """SELECT (SELECT count(*) FROM registry.audit_event WHERE details->>'name' = $1) AS audits,
                  (SELECT count(*) FROM registry.outbox WHERE payload->>'name' = $1) AS events""",
        body["name"],
    )
    assert (rows[0]["audits"], rows[0]["events"]) == (0, 0)
