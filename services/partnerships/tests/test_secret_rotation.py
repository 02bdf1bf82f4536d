"""Rotating the webhook sealing key (MultiFernet) end to end, against real Postgres and a real HTTP receiver.

An endpoint registered under the old key keeps delivering, correctly signed, once the new key is listed first;
an admin re-seal moves its stored secret under the new key, after which the old key can leave the list and the
endpoint still delivers. The receiver verifies every request with the `standardwebhooks` package.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet, InvalidToken
from fastapi import FastAPI
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from devstack.net import free_port
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import admin, as_role, staff
from devstack.testkit.database import fetch
from devstack.testkit.waiting import wait_until
from partnerships.adapters import delivery_queue
from servicekit.auth import Role

FAST = {
    "relay_enabled": False,
    "consumer_enabled": False,
    "webhook_allow_private_targets": True,
    "webhook_poll_s": 0.05,
    "webhook_backoff_scale": 0.001,
}


@dataclass
class Receiver:
    """Answers 204 and records, per request, whether the endpoint's secret verified its signature."""

    port: int
    secret: str = ""
    verified: list[bool] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            Webhook(self.secret).verify(body.decode(), headers)
            self.verified.append(True)
        except WebhookVerificationError:
            self.verified.append(False)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver(port=free_port())
    server = uvicorn.Server(uvicorn.Config(target, host="127.0.0.1", port=target.port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield target
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def partnerships(platform: TestPlatform, *keys: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service as it runs with PARTNERSHIPS_WEBHOOK_SECRET_KEY set to `keys`, newest first."""
    app = platform.app("partnerships", **FAST, webhook_secret_key=",".join(keys))
    async with serve_in_process(app) as client:
        yield app, client


async def deliver_one(app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], buyer: uuid.UUID,
                      endpoint_id: str) -> None:  # fmt: skip
    async with app.state.database.unit_of_work() as uow:
        await delivery_queue.enqueue(
            uow.session, buyer_ids=[buyer], event_type="alert.raised", data={"alert_id": str(uuid.uuid4())}
        )
        await uow.commit()

    async def statuses() -> list[str]:
        response = await client.get(f"/v1/webhook-endpoints/{endpoint_id}/messages", headers=headers)
        assert response.status_code == 200, response.text
        return [m["status"] for m in response.json()["items"]]

    await wait_until(statuses, lambda s: bool(s) and all(x == "delivered" for x in s), timeout=20, interval=0.05)


async def stored_token(platform: TestPlatform, endpoint_id: str) -> bytes:
    rows = await fetch(
        platform,
        "partnerships",
        "SELECT secrets::text AS stored FROM partnerships.webhook_endpoint WHERE id = $1",
        uuid.UUID(endpoint_id),
    )
    (secret,) = json.loads(rows[0]["stored"])
    return str(secret["sealed"]).encode()


async def test_rotating_the_sealing_key_keeps_old_secrets_delivering_and_lets_the_old_key_go(
    test_platform: TestPlatform, receiver: Receiver
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    buyer = uuid.uuid4()
    headers = as_role(test_platform, Role.BUYER, organisation_id=str(buyer), subject=f"u-{buyer.hex[:6]}")

    async with partnerships(test_platform, old) as (app, client):
        created = await client.post(
            "/v1/webhook-endpoints",
            json={"url": f"http://127.0.0.1:{receiver.port}/hook", "event_types": ["alert.raised"]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        endpoint_id, receiver.secret = created.json()["id"], created.json()["secret"]
        await deliver_one(app, client, headers, buyer, endpoint_id)
    with pytest.raises(InvalidToken):
        Fernet(new.encode()).decrypt(await stored_token(test_platform, endpoint_id))

    # 1. The new key first, the old one still listed: the secret sealed under the old key still signs.
    async with partnerships(test_platform, new, old) as (app, client):
        await deliver_one(app, client, headers, buyer, endpoint_id)
        refused = await client.post("/v1/webhook-secrets/reseal", headers=staff(test_platform))
        assert refused.status_code == 403, refused.text
        assert Fernet(old.encode()).decrypt(await stored_token(test_platform, endpoint_id))  # not re-sealed by a 403

        # 2. The admin re-seals: the stored secret moves under the new key; a second run has nothing left to do.
        resealed = await client.post("/v1/webhook-secrets/reseal", headers=admin(test_platform))
        assert resealed.status_code == 200, resealed.text
        assert resealed.json()["resealed"] >= 1
        assert uuid.UUID(endpoint_id) not in {uuid.UUID(e) for e in resealed.json()["unreadable_endpoints"]}
        again = (await client.post("/v1/webhook-secrets/reseal", headers=admin(test_platform))).json()
        assert again["resealed"] == 0
    token = await stored_token(test_platform, endpoint_id)
    assert Fernet(new.encode()).decrypt(token).decode() == receiver.secret
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(token)

    # 3. The old key removed: the endpoint still delivers, signed with the same secret.
    async with partnerships(test_platform, new) as (app, client):
        await deliver_one(app, client, headers, buyer, endpoint_id)
    assert receiver.verified == [True, True, True]


async def test_a_reseal_without_any_key_is_refused(test_platform: TestPlatform) -> None:
    app = test_platform.app("partnerships", **FAST)
    async with serve_in_process(app) as client:
        refused = await client.post("/v1/webhook-secrets/reseal", headers=admin(test_platform))
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "PARTNERSHIPS_WEBHOOK_SECRET_KEY" in refused.json()["detail"]


def test_a_key_list_with_a_malformed_key_stops_the_start(test_platform: TestPlatform) -> None:
    with pytest.raises(ValidationError, match="key 2 of the webhook secret key list is not a Fernet key"):
        test_platform.app("partnerships", webhook_secret_key=f"{Fernet.generate_key().decode()},not-a-key")
