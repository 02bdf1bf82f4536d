"""Which programme's staff manage a brand, see its webhook endpoints and read its audit history, over HTTP against
real Postgres: every programme reads the brand directory, but the programme that registered a brand (its home
country) is the one that changes it, supports its endpoints and reads what was done to them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import admin, buyer, staff

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app(
        "partnerships",
        relay_enabled=False,
        consumer_enabled=False,
        webhook_allow_private_targets=True,
        webhook_worker_enabled=False,
    )
    async with serve_in_process(app) as c:
        yield c


async def brand_of(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    body = {"name": f"Brand {uuid.uuid4().hex[:6]}", "headquarters_country": "SE", "tier": "participant"}
    registered = await client.post("/v1/buyers", json=body, headers=headers)
    assert registered.status_code == 201, registered.text
    found: dict[str, Any] = registered.json()
    return found


async def audited(client: httpx.AsyncClient, headers: dict[str, str], entity_id: str) -> list[str]:
    answer = await client.get("/v1/audit-events", params={"entity_id": entity_id}, headers=headers)
    assert answer.status_code == 200, answer.text
    return sorted(event["action"] for event in answer.json()["items"])


async def test_only_the_home_programme_changes_a_brand_and_reads_its_history(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    kh, vn = staff(test_platform, "KH"), staff(test_platform, "VN", subject="ea-lan")
    brand = await brand_of(client, vn)
    assert brand["home_country"] == "VN"
    url = f"/v1/buyers/{brand['id']}"

    assert (await client.get(url, headers=kh)).status_code == 200  # the directory is every programme's
    refused = await client.patch(url, json={"tier": "partner", "contacts": []}, headers=kh)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    unchanged = (await client.get(url, headers=vn)).json()
    assert (unchanged["tier"], unchanged["version"]) == ("participant", brand["version"])

    upgraded = await client.patch(url, json={"tier": "partner"}, headers=vn)
    assert upgraded.status_code == 200 and upgraded.json()["tier"] == "partner"
    by_admin = await client.patch(
        url, json={"tier_reason": "review", "tier": "participant"}, headers=admin(test_platform)
    )
    assert by_admin.status_code == 200 and by_admin.json()["tier"] == "participant"

    assert await audited(client, vn, brand["id"]) == ["buyer.registered", "buyer.updated", "buyer.updated"]
    assert await audited(client, kh, brand["id"]) == []


async def test_staff_see_and_delete_only_their_programmes_brand_endpoints(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    kh, vn = staff(test_platform, "KH"), staff(test_platform, "VN", subject="ea-lan")
    brand = await brand_of(client, vn)
    owner = buyer(test_platform, brand["id"])
    created = await client.post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}, headers=owner
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()["id"]

    async def listed(headers: dict[str, str]) -> list[str]:
        answer = await client.get("/v1/webhook-endpoints", params={"limit": 200}, headers=headers)
        assert answer.status_code == 200, answer.text
        return [e["id"] for e in answer.json()["items"]]

    assert endpoint in await listed(vn)
    assert endpoint not in await listed(kh)
    assert (await client.get(f"/v1/webhook-endpoints/{endpoint}", headers=kh)).status_code == 404

    # Another programme's endpoint is answered as one that exists nowhere, and stays.
    foreign = await client.delete(f"/v1/webhook-endpoints/{endpoint}", headers=kh)
    nowhere = await client.delete(f"/v1/webhook-endpoints/{uuid.uuid4()}", headers=kh)
    assert (foreign.status_code, nowhere.status_code) == (404, 404)
    assert foreign.json()["title"] == nowhere.json()["title"]
    assert (await client.delete(f"/v1/webhook-endpoints/{endpoint}", headers=vn)).status_code == 403  # sees, not owns
    assert (await client.get(f"/v1/webhook-endpoints/{endpoint}", headers=owner)).json()["status"] == "enabled"

    # What was done to it belongs to the brand's programme.
    assert await audited(client, vn, endpoint) == ["webhook_endpoint.registered"]
    assert await audited(client, kh, endpoint) == []
    assert (await client.delete(f"/v1/webhook-endpoints/{endpoint}", headers=owner)).status_code == 204
    assert await audited(client, vn, endpoint) == ["webhook_endpoint.deleted", "webhook_endpoint.registered"]
    assert await audited(client, kh, endpoint) == []
