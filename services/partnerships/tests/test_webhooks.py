"""Signed webhooks against real Postgres and a real HTTP receiver that checks every delivery on its own.

The receiver verifies each request with the `standardwebhooks` package (an implementation of the scheme
independent of ours), so a signature bug cannot hide behind a shared helper. The worker runs as the
service runs it (lifespan hook, LISTEN/NOTIFY), with a retry schedule shrunk to milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from devstack.net import free_port
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import as_role, staff
from devstack.testkit.database import fetch
from devstack.testkit.partnerships import registered_buyer
from devstack.testkit.waiting import wait_until
from partnerships.adapters import delivery_queue, webhook_sender
from partnerships.domain import webhooks as rules
from partnerships.service.attempts import SYSTEM
from partnerships.service.delivery_worker import WebhookWorker
from servicekit.auth import Role

DISABLE_AFTER = 4
FAST = {
    "relay_enabled": False,
    "consumer_enabled": False,
    "webhook_allow_private_targets": True,
    "webhook_poll_s": 0.05,
    "webhook_backoff_scale": 0.001,  # 5 ms, 30 ms, 120 ms, 600 ms, 1.8 s, ...
    "webhook_disable_after": DISABLE_AFTER,
    "webhook_timeout_s": 5.0,
}


# ---- a receiver that checks signatures independently --------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: str
    verified_with: int  # how many of the path's expected secrets verified it
    errors: list[str]


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1: answers each path with the statuses queued for it (then 204)."""

    port: int = 0
    secrets: dict[str, list[str]] = field(default_factory=dict)  # path -> secrets that must each verify
    replies: dict[str, list[int]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)
    retry_after: dict[str, str] = field(default_factory=dict)  # path -> Retry-After sent with every non-2xx
    deliveries: list[Delivery] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.path == path]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks).decode()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        path = scope["path"]
        verified, errors = 0, []
        for secret in self.secrets.get(path, []):
            try:
                Webhook(secret).verify(body, headers)
                verified += 1
            except WebhookVerificationError as exc:
                errors.append(str(exc))
        self.deliveries.append(Delivery(path, headers, body, verified, errors))
        queued = self.replies.get(path)
        status = queued.pop(0) if queued else self.always.get(path, 204)
        answer = b"" if status == 204 else b"ok"  # a 204 has no body
        reply_headers = [(b"content-length", b"%d" % len(answer))]
        if status >= 300 and path in self.retry_after:
            reply_headers.append((b"retry-after", self.retry_after[path].encode()))
        await send({"type": "http.response.start", "status": status, "headers": reply_headers})
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver(port=free_port())
    server = uvicorn.Server(
        uvicorn.Config(target, host="127.0.0.1", port=target.port, log_level="warning", lifespan="off")
    )
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


# ---- the service under test -------------------------------------------------------------------------------------


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    platform: TestPlatform

    async def enqueue(self, *, buyers: Sequence[uuid.UUID] = (), **kwargs: Any) -> int:
        database = self.app.state.database
        async with database.unit_of_work() as uow:
            kwargs.setdefault("event_type", "alert.raised")
            kwargs.setdefault("data", {"alert_id": str(uuid.uuid4()), "category": "child_labour"})
            queued = await delivery_queue.enqueue(uow.session, buyer_ids=buyers, **kwargs)
            await uow.commit()
        return queued

    async def messages(self, headers: dict[str, str], endpoint_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/v1/webhook-endpoints/{endpoint_id}/messages", params={"limit": 200}, headers=headers
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def endpoint(self, headers: dict[str, str], endpoint_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=headers)
        assert response.status_code == 200, response.text
        endpoint: dict[str, Any] = response.json()
        return endpoint


@contextlib.asynccontextmanager
async def running(platform: TestPlatform, **overrides: Any) -> AsyncIterator[Service]:
    app: FastAPI = platform.app("partnerships", **(FAST | overrides))
    async with serve_in_process(app) as client:
        yield Service(app, client, platform)


@pytest.fixture
async def service(test_platform: TestPlatform) -> AsyncIterator[Service]:
    async with running(test_platform) as svc:
        yield svc


def a_buyer(platform: TestPlatform) -> tuple[uuid.UUID, dict[str, str]]:
    buyer_id = uuid.uuid4()
    # Upper case on purpose: the id in a token is matched as a UUID, not as text.
    return buyer_id, as_role(
        platform, Role.BUYER, organisation_id=str(buyer_id).upper(), subject=f"u-{buyer_id.hex[:6]}"
    )


async def register(
    service: Service, receiver: Receiver, headers: dict[str, str], path: str, **fields: Any
) -> dict[str, Any]:
    body = {"url": receiver.url(path), "event_types": ["alert.raised"]} | fields
    response = await service.client.post("/v1/webhook-endpoints", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secrets[path] = [created["secret"]]
    return created


async def settled(
    service: Service, headers: dict[str, str], endpoint_id: str, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    return await wait_until(lambda: service.messages(headers, endpoint_id), done, timeout=20, interval=0.05)


def all_delivered(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda items: len(items) == count and all(m["status"] == "delivered" for m in items)


# ---- signatures ---------------------------------------------------------------------------------------------------


async def test_every_delivery_is_signed_and_logged(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    buyer_id, headers = a_buyer(test_platform)
    endpoint = await register(service, receiver, headers, "/signed", description="alerts to our CSR system")
    assert endpoint["secret"].startswith("whsec_") and 24 <= len(base64.b64decode(endpoint["secret"][6:])) <= 32
    assert "secret" not in (await service.endpoint(headers, endpoint["id"]))

    assert await service.enqueue(buyers=[buyer_id], data={"alert_id": "a-1", "note": "Ünïcode ✓"}) == 1
    assert await service.enqueue(buyers=[buyer_id, uuid.uuid4()]) == 1
    items = await settled(service, headers, endpoint["id"], all_delivered(2))

    got = receiver.at("/signed")
    assert len(got) == 2
    assert all(d.verified_with == 1 and not d.errors for d in got), [d.errors for d in got]
    by_id = {d.headers["webhook-id"]: d for d in got}
    assert set(by_id) == {m["id"] for m in items}
    for message in items:
        delivery = by_id[message["id"]]
        assert delivery.body == message["body"]  # the stored bytes are the bytes signed and sent
        assert delivery.headers["content-type"] == "application/json"
        assert abs(int(delivery.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
        payload = json.loads(delivery.body)
        assert payload["type"] == "alert.raised" and payload["timestamp"].endswith("Z") and "data" in payload
        assert ", " not in delivery.body and ": " not in delivery.body.replace("Ünïcode ✓", "")  # compact
        [attempt] = message["attempt_log"]
        assert attempt["status_code"] == 204 and attempt["latency_ms"] > 0 and attempt["error"] is None
        assert attempt["attempt"] == 1 and attempt["manual"] is False
        assert message["attempts"] == 1 and message["delivered_at"] and message["next_attempt_at"] is None
    assert json.loads(by_id[items[-1]["id"]].body)["data"] == {"alert_id": "a-1", "note": "Ünïcode ✓"}


async def test_with_a_key_secrets_are_sealed_in_the_database_and_still_sign(
    test_platform: TestPlatform, receiver: Receiver
) -> None:
    """A copy of the database alone cannot sign: the stored secret is Fernet-sealed; deliveries still verify."""
    from cryptography.fernet import Fernet

    async with running(test_platform, webhook_secret_key=Fernet.generate_key().decode()) as sealed:
        buyer_id, headers = a_buyer(test_platform)
        endpoint = await register(sealed, receiver, headers, "/sealed")
        rows = await fetch(
            test_platform,
            "partnerships",
            "SELECT secrets::text AS stored FROM partnerships.webhook_endpoint WHERE id = $1",
            uuid.UUID(endpoint["id"]),
        )
        assert '"sealed"' in rows[0]["stored"] and endpoint["secret"] not in rows[0]["stored"]
        rotated = await sealed.client.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", json={"overlap_hours": 1}, headers=headers
        )
        assert rotated.status_code == 200, rotated.text
        receiver.secrets["/sealed"].append(rotated.json()["secret"])
        assert await sealed.enqueue(buyers=[buyer_id]) == 1
        await settled(sealed, headers, endpoint["id"], all_delivered(1))
    (delivery,) = receiver.at("/sealed")
    assert delivery.verified_with == 2 and not delivery.errors


async def test_after_rotation_old_and_new_secrets_both_verify_until_the_overlap_ends(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    buyer_id, headers = a_buyer(test_platform)
    endpoint = await register(service, receiver, headers, "/rotating")
    old = endpoint["secret"]

    rotated = await service.client.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    infos = rotated.json()["signing_secrets"]
    assert len(infos) == 2 and infos[0]["expires_at"] is None
    ends = datetime.fromisoformat(infos[1]["expires_at"])
    assert timedelta(hours=23) < ends - datetime.now(UTC) <= timedelta(hours=24)

    receiver.secrets["/rotating"] = [old, new]  # each must verify on its own
    await service.enqueue(buyers=[buyer_id])
    await settled(service, headers, endpoint["id"], all_delivered(1))
    [during] = receiver.at("/rotating")
    assert during.verified_with == 2, during.errors
    assert len(during.headers["webhook-signature"].split(" ")) == 2

    # Rotating with no overlap (a leaked secret) retires every earlier secret at once.
    again = await service.client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", json={"overlap_hours": 0}, headers=headers
    )
    assert again.status_code == 200, again.text
    newest = again.json()["secret"]
    assert len(again.json()["signing_secrets"]) == 1
    receiver.secrets["/rotating"] = [newest, new, old]
    await service.enqueue(buyers=[buyer_id])
    await settled(service, headers, endpoint["id"], all_delivered(2))
    after = receiver.at("/rotating")[-1]
    assert after.verified_with == 1 and len(after.errors) == 2
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)
    Webhook(newest).verify(after.body, after.headers)


# ---- retries, disabling, redelivery ---------------------------------------------------------------------------------


async def test_a_500_is_retried_with_backoff_until_it_succeeds(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    buyer_id, headers = a_buyer(test_platform)
    endpoint = await register(service, receiver, headers, "/flaky")
    receiver.replies["/flaky"] = [500, 503]
    await service.enqueue(buyers=[buyer_id])
    [message] = await settled(service, headers, endpoint["id"], all_delivered(1))

    assert [a["status_code"] for a in message["attempt_log"]] == [500, 503, 204]
    assert [a["attempt"] for a in message["attempt_log"]] == [1, 2, 3]
    assert message["attempt_log"][0]["error"].startswith("HTTP 500")
    assert message["attempts"] == 3 and message["last_status_code"] == 204
    first, second, third = (datetime.fromisoformat(a["at"]) for a in message["attempt_log"])
    assert second - first >= timedelta(milliseconds=5) and third - second >= timedelta(milliseconds=30)
    got = receiver.at("/flaky")
    assert len({d.headers["webhook-id"] for d in got}) == 1  # one message id across retries
    assert all(d.verified_with == 1 for d in got)
    assert (await service.endpoint(headers, endpoint["id"]))["consecutive_failures"] == 0


async def test_a_receiver_that_asks_for_time_with_retry_after_gets_it(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    buyer_id, headers = a_buyer(test_platform)
    endpoint = await register(service, receiver, headers, "/busy")
    receiver.replies["/busy"] = [429]
    receiver.retry_after["/busy"] = "1"  # the schedule alone would retry after 5 ms here
    await service.enqueue(buyers=[buyer_id])
    [message] = await settled(service, headers, endpoint["id"], all_delivered(1))

    assert [a["status_code"] for a in message["attempt_log"]] == [429, 204]
    assert message["attempt_log"][0]["error"] == "HTTP 429: ok (asked to retry after 1 s)"
    first, second = (datetime.fromisoformat(a["at"]) for a in message["attempt_log"])
    assert second - first >= timedelta(seconds=1)


async def test_a_failing_endpoint_is_disabled_with_a_notice_and_its_messages_skipped(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    buyer_id, headers = a_buyer(test_platform)
    endpoint = await register(service, receiver, headers, "/down")
    receiver.always["/down"] = 500
    await service.enqueue(buyers=[buyer_id])
    disabled = await wait_until(
        lambda: service.endpoint(headers, endpoint["id"]), lambda e: e["status"] == "disabled", timeout=20
    )
    assert disabled["disabled_reason"].startswith(
        f"disabled after {DISABLE_AFTER} consecutive failed deliveries; last: HTTP 500"
    )
    assert disabled["consecutive_failures"] == DISABLE_AFTER and disabled["disabled_at"]
    [message] = await service.messages(headers, endpoint["id"])
    assert message["status"] == "skipped" and len(message["attempt_log"]) == DISABLE_AFTER
    audit = await fetch(
        test_platform,
        "partnerships",
        "SELECT actor, details FROM partnerships.audit_event WHERE entity_id = $1 AND action = $2",
        endpoint["id"],
        "webhook_endpoint.disabled",
    )
    assert len(audit) == 1 and audit[0]["actor"] == SYSTEM.subject

    assert await service.enqueue(buyers=[buyer_id]) == 0  # nothing is queued for a disabled endpoint
    refused = await service.client.post(f"/v1/webhook-messages/{message['id']}/redeliver", headers=headers)
    assert refused.status_code == 409, refused.text

    # The owner fixes the receiver, enables the endpoint again and redelivers what it missed.
    del receiver.always["/down"]
    enabled = await service.client.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", json={"enabled": True}, headers=headers
    )
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["status"] == "enabled" and enabled.json()["consecutive_failures"] == 0
    assert enabled.json()["disabled_reason"] is None
    redelivered = await service.client.post(f"/v1/webhook-messages/{message['id']}/redeliver", headers=headers)
    assert redelivered.status_code == 200, redelivered.text
    assert redelivered.json()["message"]["status"] == "delivered"
    assert redelivered.json()["attempt"]["manual"] is True
    assert redelivered.json()["attempt"]["attempt"] == DISABLE_AFTER + 1


async def test_redeliveries_per_caller_are_rate_limited(test_platform: TestPlatform, receiver: Receiver) -> None:
    async with running(test_platform, redelivery_rate_limit="2/minute") as service:
        buyer_id, headers = a_buyer(test_platform)
        endpoint = await register(service, receiver, headers, "/again")
        await service.enqueue(buyers=[buyer_id])
        [message] = await settled(service, headers, endpoint["id"], all_delivered(1))
        path = f"/v1/webhook-messages/{message['id']}/redeliver"
        answers = [await service.client.post(path, headers=headers) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["content-type"] == "application/problem+json"
        # the window frees up a minute after the first counted request, which was a few seconds ago
        assert 45 <= int(answers[2].headers["retry-after"]) <= 60
        assert len(receiver.at("/again")) == 3  # the refused one was not sent


async def test_a_message_that_never_gets_through_fails_after_the_whole_schedule(
    test_platform: TestPlatform, receiver: Receiver
) -> None:
    async with running(test_platform, webhook_backoff_scale=0.00002, webhook_disable_after=100) as service:
        buyer_id, headers = a_buyer(test_platform)
        endpoint = await register(service, receiver, headers, "/gone")
        receiver.always["/gone"] = 410
        await service.enqueue(buyers=[buyer_id])
        [message] = await settled(service, headers, endpoint["id"], lambda m: m[0]["status"] == "failed")
    assert message["attempts"] == rules.MAX_ATTEMPTS == 11
    assert message["next_attempt_at"] is None and message["last_status_code"] == 410


async def test_a_message_is_redelivered_by_hand_even_when_delivered(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    buyer_id, headers = a_buyer(test_platform)
    endpoint = await register(service, receiver, headers, "/replay")
    await service.enqueue(buyers=[buyer_id])
    [message] = await settled(service, headers, endpoint["id"], all_delivered(1))

    receiver.replies["/replay"] = [502]
    failed = await service.client.post(f"/v1/webhook-messages/{message['id']}/redeliver", headers=headers)
    assert failed.status_code == 200, failed.text
    assert failed.json()["attempt"] | {"at": None, "latency_ms": None} == {
        "attempt": 2,
        "at": None,
        "status_code": 502,
        "latency_ms": None,
        "error": "HTTP 502: ok",
        "manual": True,
    }
    assert failed.json()["message"]["status"] == "delivered"  # it was delivered once; that stays true

    ok = await service.client.post(f"/v1/webhook-messages/{message['id']}/redeliver", headers=headers)
    assert ok.json()["attempt"]["status_code"] == 204 and ok.json()["message"]["attempts"] == 3
    got = receiver.at("/replay")
    assert len(got) == 3 and {d.headers["webhook-id"] for d in got} == {message["id"]}
    assert all(d.verified_with == 1 for d in got)
    [logged] = await service.messages(headers, endpoint["id"])
    assert [(a["manual"], a["status_code"]) for a in logged["attempt_log"]] == [(False, 204), (True, 502), (True, 204)]


async def test_two_workers_never_deliver_one_message_twice(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    second = WebhookWorker(service.app.state.database, service.app.state.settings)
    await second.start()
    try:
        buyers = [a_buyer(test_platform) for _ in range(3)]
        endpoints = [await register(service, receiver, h, f"/shared/{i}") for i, (_, h) in enumerate(buyers)]
        for _ in range(4):
            await service.enqueue(buyers=[b for b, _ in buyers])
            await service.enqueue(buyers=[b for b, _ in buyers])
        for (_, headers), endpoint in zip(buyers, endpoints, strict=True):
            await settled(service, headers, endpoint["id"], all_delivered(8))
    finally:
        await second.stop()
    got = [d for d in receiver.deliveries if d.path.startswith("/shared/")]
    assert len(got) == 24 and len({d.headers["webhook-id"] for d in got}) == 24
    assert all(d.verified_with == 1 for d in got)


# ---- targets ------------------------------------------------------------------------------------------------------


async def test_names_are_judged_by_every_address_they_resolve_to_now_and_at_delivery(
    test_platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {"hooks.example.org": ["93.184.215.14"], "sneaky.example.org": ["93.184.215.14", "10.0.0.8"]}

    async def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    monkeypatch.setattr(webhook_sender, "resolve_host", resolver)
    buyer_id, headers = a_buyer(test_platform)
    async with running(test_platform, webhook_allow_private_targets=False) as service:
        sneaky = await service.client.post(
            "/v1/webhook-endpoints", json={"url": "https://sneaky.example.org/h", "event_types": ["*"]}, headers=headers
        )
        assert sneaky.status_code == 422 and "10.0.0.8" in sneaky.json()["detail"], sneaky.text
        literal = await service.client.post(
            "/v1/webhook-endpoints", json={"url": "https://93.184.215.14/h", "event_types": ["*"]}, headers=headers
        )
        assert literal.status_code == 201, literal.text
        await service.client.patch(
            f"/v1/webhook-endpoints/{literal.json()['id']}", json={"enabled": False}, headers=headers
        )
        created = await service.client.post(
            "/v1/webhook-endpoints", json={"url": "https://hooks.example.org/h", "event_types": ["*"]}, headers=headers
        )
        assert created.status_code == 201, created.text

        answers["hooks.example.org"] = ["127.0.0.1"]  # DNS rebinding after the check
        assert await service.enqueue(buyers=[buyer_id]) == 1
        [message] = await wait_until(
            lambda: service.messages(headers, created.json()["id"]),
            lambda m: m and m[0]["attempt_log"],
            timeout=20,
            interval=0.05,
        )
        # Deleted, so no later test's worker (private targets allowed, real DNS) retries it.
        assert (
            await service.client.delete(f"/v1/webhook-endpoints/{created.json()['id']}", headers=headers)
        ).status_code == 204
    # Retries run in milliseconds here, so a loaded machine may log a second refusal before the delete.
    assert message["attempt_log"]
    for attempt in message["attempt_log"]:
        assert attempt["status_code"] is None and attempt["latency_ms"] is None
        assert attempt["error"].startswith("refused: hooks.example.org resolves to 127.0.0.1")


# ---- who sees what --------------------------------------------------------------------------------------------------


async def test_a_buyer_cannot_see_or_touch_another_buyers_endpoint(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    owner_id = uuid.UUID((await registered_buyer(service.client, test_platform))["id"])  # managed by KH's staff
    owner = as_role(test_platform, Role.BUYER, organisation_id=str(owner_id).upper(), subject="u-owner")
    _, other = a_buyer(test_platform)
    endpoint = await register(service, receiver, owner, "/private-to-owner")
    await service.enqueue(buyers=[owner_id])
    [message] = await settled(service, owner, endpoint["id"], all_delivered(1))
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    client = service.client
    for response in (
        await client.get(path, headers=other),
        await client.patch(path, json={"description": "mine now"}, headers=other),
        await client.delete(path, headers=other),
        await client.post(f"{path}/rotate-secret", headers=other),
        await client.get(f"{path}/messages", headers=other),
        await client.post(f"/v1/webhook-messages/{message['id']}/redeliver", headers=other),
    ):
        assert response.status_code == 404, response.text
    listed = await client.get("/v1/webhook-endpoints", params={"limit": 200}, headers=other)
    assert endpoint["id"] not in [e["id"] for e in listed.json()["items"]]

    staff_kh = staff(test_platform, "KH", subject="ea-sokha")
    assert (await client.get(path, headers=staff_kh)).status_code == 200
    assert (
        await client.post(f"{path}/rotate-secret", headers=staff_kh)
    ).status_code == 403  # the secret is the owner's
    moved = await client.patch(path, json={"url": "https://example.org/x"}, headers=staff_kh)
    assert moved.status_code == 403
    paused = await client.patch(path, json={"enabled": False}, headers=staff_kh)
    assert paused.status_code == 200 and paused.json()["disabled_reason"] == "disabled by ea-sokha"

    deleted = await client.delete(path, headers=owner)
    assert deleted.status_code == 204
    assert (await client.get(path, headers=owner)).status_code == 404
    kept = await fetch(
        test_platform, "partnerships", "SELECT secrets FROM webhook_endpoint WHERE id = $1", uuid.UUID(endpoint["id"])
    )
    assert json.loads(kept[0]["secrets"]) == []  # the secret is erased; the delivery log stays


async def test_service_clients_subscribe_by_party_and_country(
    service: Service, receiver: Receiver, test_platform: TestPlatform
) -> None:
    party = f"inspectorate_{uuid.uuid4().hex[:6]}"
    client_id = f"svc-{party}"
    scope = f"zt:receive:{party}:KH"
    inspectorate = as_role(test_platform, Role.SERVICE, subject=client_id, country="KH", scopes=[scope])
    # A service token without the party's scope cannot register, nor even list endpoints.
    unscoped = as_role(test_platform, Role.SERVICE, subject=client_id, country="KH")
    refused = await service.client.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url("/x"), "event_types": ["*"], "party": party, "country": "KH"},
        headers=unscoped,
    )
    assert refused.status_code == 403, refused.text
    assert (await service.client.get("/v1/webhook-endpoints", headers=unscoped)).status_code == 403
    other_party = as_role(
        test_platform, Role.SERVICE, subject=client_id, country="KH", scopes=["zt:receive:someone_else:KH"]
    )
    declared = await service.client.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url("/x"), "event_types": ["*"], "party": party, "country": "KH"},
        headers=other_party,
    )
    assert declared.status_code == 403, declared.text

    endpoint = await register(
        service, receiver, inspectorate, "/inspectorate", event_types=["*"], party=party, country="kh"
    )
    assert (endpoint["owner_type"], endpoint["owner_id"], endpoint["country"]) == ("service", client_id, "KH")
    assert endpoint["party_granted_at"] is None
    elsewhere = await service.client.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url("/x"), "event_types": ["*"], "party": party, "country": "VN"},
        headers=inspectorate,
    )
    assert elsewhere.status_code == 403, elsewhere.text
    no_party = await service.client.post(
        "/v1/webhook-endpoints", json={"url": receiver.url("/x"), "event_types": ["*"]}, headers=inspectorate
    )
    assert no_party.status_code == 403, no_party.text

    # Nothing arrives by party until staff of the country grant it; the client cannot grant it to itself.
    assert await service.enqueue(parties=[party], country="KH") == 0
    grant = f"/v1/webhook-endpoints/{endpoint['id']}/party-grant"
    assert (await service.client.post(grant, json={"party": party}, headers=inspectorate)).status_code == 403
    vn = staff(test_platform, "VN", subject="vn-staff")
    assert (await service.client.post(grant, json={"party": party}, headers=vn)).status_code == 404
    granted = await service.client.post(grant, json={"party": party}, headers=staff(test_platform, "KH"))
    assert granted.status_code == 200, granted.text
    assert (granted.json()["party"], granted.json()["party_granted_by"]) == (party, "ea-dara")

    assert await service.enqueue(parties=[party], country="VN") == 0
    assert await service.enqueue(parties=["someone_else"], country="KH") == 0
    # Another party's name beside ours adds nobody (a fresh name: other tests' endpoints live in this database too).
    assert await service.enqueue(parties=[party, f"ministry_{uuid.uuid4().hex[:6]}"], country="KH") == 1
    await settled(service, inspectorate, endpoint["id"], all_delivered(1))
    assert receiver.at("/inspectorate")[0].verified_with == 1

    other_client = as_role(test_platform, Role.SERVICE, subject="svc-other", country="KH", scopes=[scope])
    assert (
        await service.client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=other_client)
    ).status_code == 404
    vn_staff = staff(test_platform, "VN", subject="vn-staff")
    assert (await service.client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=vn_staff)).status_code == 404
    kh_staff = staff(test_platform, "KH", subject="kh-staff")
    assert (await service.client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=kh_staff)).status_code == 200
