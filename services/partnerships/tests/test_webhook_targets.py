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
