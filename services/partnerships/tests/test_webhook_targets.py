"""What a webhook endpoint may be registered with: target URLs refused before anything is stored, and request
validation (no receiver and no worker needed)."""

from __future__ import annotations

import uuid

import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import as_role, factory
from servicekit.auth import Role

QUIET = {"relay_enabled": False, "consumer_enabled": False, "webhook_worker_enabled": False}


def a_buyer(platform: TestPlatform) -> dict[str, str]:
    return as_role(platform, Role.BUYER, organisation_id=str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://127.0.0.1/hook", "private, loopback or reserved"),
        ("https://10.20.30.40/hook", "private, loopback or reserved"),
        ("https://[::1]/hook", "private, loopback or reserved"),
        ("https://[::ffff:192.168.1.1]/hook", "private, loopback or reserved"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback or reserved"),
        ("https://localhost:8443/hook", "local name"),
        ("https://intranet/hook", "local name"),
        ("http://93.184.215.14/hook", "HTTPS"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
        ("ftp://93.184.215.14/hook", "https://"),
        # IPv4 addresses hidden in IPv6 forms: compatible, translated, local-use NAT64, 6to4
        ("https://[::127.0.0.1]/hook", "private, loopback or reserved"),
        ("https://[::ffff:0:7f00:1]/hook", "private, loopback or reserved"),
        ("https://[64:ff9b:1::a00:1]/hook", "private, loopback or reserved"),
        ("https://[64:ff9b::10.0.0.1]/hook", "private, loopback or reserved"),
        ("https://[2002:a9fe:a9fe::1]/hook", "private, loopback or reserved"),
        ("https://93.184.215.14:6379/hook", "Port 6379"),
        ("https://93.184.215.14:80/hook", "Port 80"),
    ],
)
async def test_private_and_plain_http_targets_are_refused(test_platform: TestPlatform, url: str, words: str) -> None:
    async with serve_in_process(test_platform.app("partnerships", **QUIET, webhook_allow_private_targets=False)) as c:
        response = await c.post(
            "/v1/webhook-endpoints", json={"url": url, "event_types": ["*"]}, headers=a_buyer(test_platform)
        )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/webhook-url-refused") and words in problem["detail"], problem
    assert problem["errors"][0]["pointer"] == "#/body/url"


async def test_requests_are_validated(test_platform: TestPlatform) -> None:
    headers = a_buyer(test_platform)
    async with serve_in_process(test_platform.app("partnerships", **QUIET, webhook_allow_private_targets=True)) as c:
        for body, pointer in (
            ({"url": "https://example.org/h", "event_types": []}, "#/body/event_types"),
            ({"url": "https://example.org/h", "event_types": ["factory.registered"]}, "#/body/event_types/0"),
            ({"url": "https://example.org/h", "event_types": ["*"], "secret": "mine"}, "#/body/secret"),
        ):
            response = await c.post("/v1/webhook-endpoints", json=body, headers=headers)
            assert response.status_code == 422, response.text
            assert any(e["pointer"] == pointer for e in response.json()["errors"]), response.json()
        refused = await c.get("/v1/webhook-endpoints", headers=factory(test_platform, uuid.uuid4()))
    assert refused.status_code == 403


async def test_endpoints_per_owner_are_capped(test_platform: TestPlatform) -> None:
    app = test_platform.app("partnerships", **QUIET, webhook_allow_private_targets=True, webhook_endpoints_per_owner=2)
    headers = a_buyer(test_platform)
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}
    async with serve_in_process(app) as c:
        made = [await c.post("/v1/webhook-endpoints", json=body, headers=headers) for _ in range(2)]
        assert [m.status_code for m in made] == [201, 201]
        third = await c.post("/v1/webhook-endpoints", json=body, headers=headers)
        assert third.status_code == 409, third.text
        assert third.headers["content-type"] == "application/problem+json"
        assert third.json()["limit"] == 2
        # another owner has its own allowance; deleting one makes room again
        assert (await c.post("/v1/webhook-endpoints", json=body, headers=a_buyer(test_platform))).status_code == 201
        deleted = await c.delete(f"/v1/webhook-endpoints/{made[0].json()['id']}", headers=headers)
        assert deleted.status_code == 204
        assert (await c.post("/v1/webhook-endpoints", json=body, headers=headers)).status_code == 201


async def test_a_patch_with_null_fields_is_refused_not_a_500(test_platform: TestPlatform) -> None:
    app = test_platform.app("partnerships", **QUIET, webhook_allow_private_targets=True)
    headers = a_buyer(test_platform)
    async with serve_in_process(app) as c:
        created = await c.post(
            "/v1/webhook-endpoints",
            json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"], "description": "ours"},
            headers=headers,
        )
        path = f"/v1/webhook-endpoints/{created.json()['id']}"
        for body in ({"url": None}, {"event_types": None}, {"enabled": None}):
            answer = await c.patch(path, json=body, headers=headers)
            assert answer.status_code == 422, (body, answer.text)
        cleared = await c.patch(path, json={"description": None}, headers=headers)
        assert (cleared.status_code, cleared.json()["description"]) == (200, None)
        assert (await c.get(path, headers=headers)).json()["url"] == "http://127.0.0.1:9/hook"
