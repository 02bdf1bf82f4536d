"""Tier and subscriptions, end to end on the real broker and a real HTTP receiver that verifies every signature.

A partner and a participant source from one factory; a protocol party (a ministry's system) follows its cases.
Events come in on the broker as the assessments and registry services would publish them; what each subscriber's
endpoint receives is read off the receiver:
- a zero-tolerance case: both buyers alerted; its updates and its end as not confirmed reach the protocol party;
- an industry alert staff issue: only the partner (participants do not receive industry alerts);
- a release: only the buyer whose report access for that factory and cycle is granted; one without access gets
  nothing, and a release forged by another source is not trusted;
- access changes: the buyer concerned, nobody else.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from betterwork_contracts.events.assessments import (
    AssessmentReleased,
    ZeroToleranceCaseNotConfirmed,
    ZeroToleranceCaseOpened,
    ZeroToleranceCaseUpdated,
)
from betterwork_contracts.events.registry import FactoryChanges, FactoryUpdated
from devstack.broker import TansuBroker
from devstack.net import free_port
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import as_role, buyer, staff
from devstack.testkit.advisory import publish
from devstack.testkit.events import on
from devstack.testkit.partnerships import known_factory, linked_buyer, registered_buyer
from devstack.testkit.waiting import wait_until
from servicekit.auth import Role


@dataclass
class Receiver:
    """Takes every delivery on 127.0.0.1, keeps those whose Standard Webhooks signature verifies (per path)."""

    port: int = 0
    secrets: dict[str, str] = field(default_factory=dict)
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    forged: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def types(self, path: str) -> list[str]:
        return [body["type"] for body in self.received.get(path, [])]

    def of_type(self, path: str, event_type: str) -> list[dict[str, Any]]:
        return [body["data"] for body in self.received.get(path, []) if body["type"] == event_type]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks).decode()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            Webhook(self.secrets[scope["path"]]).verify(body, headers)
            self.received.setdefault(scope["path"], []).append(json.loads(body))
        except (KeyError, WebhookVerificationError):
            self.forged.append(scope["path"])
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


async def test_who_is_told_what_follows_tier_access_and_protocol(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str, receiver: Receiver
) -> None:
    app = test_platform.app(
        "partnerships",
        **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25),
        webhook_allow_private_targets=True,
        webhook_poll_s=0.05,
    )
    bootstrap = dedicated_broker.bootstrap_servers
    factory_id = await known_factory(test_platform)
    party = f"ministry_{uuid.uuid4().hex[:6]}"
    async with serve_in_process(app) as client:

        async def endpoint(headers: dict[str, str], path: str, event_types: list[str], **extra: Any) -> str:
            answer = await client.post(
                "/v1/webhook-endpoints",
                json={"url": receiver.url(path), "event_types": event_types, **extra},
                headers=headers,
            )
            assert answer.status_code == 201, answer.text
            receiver.secrets[path] = answer.json()["secret"]
            return str(answer.json()["id"])

        partner_id = uuid.UUID((await registered_buyer(client, test_platform, tier="partner"))["id"])
        participant_id = uuid.UUID((await registered_buyer(client, test_platform, tier="participant"))["id"])
        await endpoint(buyer(test_platform, partner_id), "/partner", ["*"])
        await endpoint(buyer(test_platform, participant_id), "/participant", ["*"])
        ministry = as_role(
            test_platform, Role.SERVICE, subject=f"svc-{party}", country="KH", scopes=[f"zt:receive:{party}:KH"]
        )
        ministry_endpoint = await endpoint(ministry, "/ministry", ["*"], party=party, country="KH")
        granted = await client.post(
            f"/v1/webhook-endpoints/{ministry_endpoint}/party-grant",
            json={"party": party},
            headers=staff(test_platform),
        )
        assert granted.status_code == 200, granted.text

        # An endpoint for a type its owner can never be sent is refused, naming the type, and nothing is stored.
        for headers, wrong in (
            (buyer(test_platform, partner_id), "zero_tolerance.case_updated"),
            (ministry, "assessment.released"),
        ):
            extra = {"party": party, "country": "KH"} if headers is ministry else {}
            refused = await client.post(
                "/v1/webhook-endpoints",
                json={"url": receiver.url("/refused"), "event_types": ["alert.raised", wrong], **extra},
                headers=headers,
            )
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert wrong in refused.json()["detail"] and "alert.raised" not in refused.json()["detail"]
        listed = await client.get("/v1/webhook-endpoints", headers=buyer(test_platform, partner_id))
        assert len(listed.json()["items"]) == 1

        # Both source from the factory; only the partner has report access to cycle 1 (consent and entitlement).
        await linked_buyer(client, test_platform, factory_id, buyer_id=partner_id, scopes=("assessment_reports",))
        await linked_buyer(client, test_platform, factory_id, buyer_id=participant_id, scopes=("progress_reports",))

        # The registry moves the factory into a province (the read model keeps it for province-wide alerts).
        moved = FactoryUpdated(
            factory_id=factory_id, version=4, country="KH", changes=FactoryChanges(province="Kandal"),
            updated_at=datetime.now(UTC),
        )  # fmt: skip
        await publish(bootstrap, topic_prefix, moved, source="/registry")

        # ---- a zero-tolerance case: both buyers are alerted; the protocol party follows every step -----------------
        case_id = uuid.uuid4()
        now = datetime.now(UTC)
        for event in (
            ZeroToleranceCaseOpened(
                case_id=case_id, factory_id=factory_id, country="KH", category="child_labour", source="assessment",
                opened_at=now, notify=[party, "linked_buyers"],
            ),
            ZeroToleranceCaseUpdated(
                case_id=case_id, factory_id=factory_id, country="KH", category="child_labour", status="referred",
                previous_status="opened", updated_at=now,
            ),
            ZeroToleranceCaseNotConfirmed(
                case_id=case_id, factory_id=factory_id, country="KH", category="child_labour",
                previous_status="referred", decided_at=now,
            ),
        ):  # fmt: skip
            await publish(bootstrap, topic_prefix, event, source="/assessments")

        def case_alerts(path: str) -> list[tuple[str, str]]:
            return [(a["kind"], a["status"]) for a in receiver.of_type(path, "alert.raised") if a["case_id"]]

        expected = [
            ("zero_tolerance.case_opened", "opened"),
            ("zero_tolerance.case_updated", "referred"),
            ("zero_tolerance.case_updated", "not_confirmed"),
        ]
        for path in ("/partner", "/participant", "/ministry"):
            await wait_until(lambda p=path: _now(case_alerts(p)), lambda got: got == expected, timeout=30)  # type: ignore[misc]
        await wait_until(
            lambda: _now(receiver.types("/ministry")),
            lambda got: "zero_tolerance.case_not_confirmed" in got,
            timeout=30,
        )
        [update] = receiver.of_type("/ministry", "zero_tolerance.case_updated")
        [ended] = receiver.of_type("/ministry", "zero_tolerance.case_not_confirmed")
        assert (update["case_id"], update["status"], update["previous_status"]) == (str(case_id), "referred", "opened")
        assert (ended["status"], ended["previous_status"]) == ("not_confirmed", "referred")
        for path in ("/partner", "/participant"):  # case updates go to the protocol's parties, not to buyers
            assert not {"zero_tolerance.case_updated", "zero_tolerance.case_not_confirmed"} & set(receiver.types(path))

        # ---- an industry alert: the partner only -----------------------------------------------------------------
        issued = await client.post(
            "/v1/industry-alerts",
            json={"kind": "strike", "title": "Strike in Kandal", "body": "Roads closed.", "country": "KH",
                  "province": "kandal"},
            headers=staff(test_platform),
        )  # fmt: skip
        assert issued.status_code == 201, issued.text
        alert = issued.json()
        assert alert["buyer_ids"] == [str(partner_id)] and alert["endpoints"] == 1
        assert issued.headers["location"] == f"/v1/industry-alerts/{alert['id']}"
        told = await wait_until(
            lambda: _now([a for a in receiver.of_type("/partner", "alert.raised") if a["kind"] == "industry_alert"]),
            lambda got: len(got) == 1,
            timeout=30,
        )
        assert (told[0]["industry_alert_id"], told[0]["category"], told[0]["title"]) == (
            alert["id"], "strike", "Strike in Kandal",
        )  # fmt: skip

        # ---- a release: only the buyer with access; a forged one first, from the wrong source, is not trusted -----
        assessment_id = uuid.uuid4()
        release = AssessmentReleased(
            assessment_id=assessment_id, factory_id=factory_id, country="KH", cycle=1, released_at=now,
            due_date=date.today(), on_time=True,
        )  # fmt: skip
        await publish(bootstrap, topic_prefix, release, source="/registry")  # same key: handled before the next
        await publish(bootstrap, topic_prefix, release, source="/assessments")
        released = await wait_until(
            lambda: _now(receiver.of_type("/partner", "assessment.released")), lambda got: len(got) >= 1, timeout=30
        )
        assert [(r["assessment_id"], r["cycle"]) for r in released] == [(str(assessment_id), 1)]

        # ---- access changes: the buyer concerned only -------------------------------------------------------------
        assert [(d["buyer_id"], d["cycle"]) for d in receiver.of_type("/partner", "report_access.granted")] == [
            (str(partner_id), 1)
        ]
        progress = receiver.of_type("/participant", "progress_report_access.granted")
        assert [(d["buyer_id"], d["cycle"]) for d in progress] == [(str(participant_id), 1)]

        # Give the workers a moment more: nothing else may arrive for the participant or the ministry.
        await asyncio.sleep(1.0)
        participant_got = receiver.types("/participant")
        assert "assessment.released" not in participant_got and "report_access.granted" not in participant_got
        assert not [a for a in receiver.of_type("/participant", "alert.raised") if a["kind"] == "industry_alert"]
        assert not {"assessment.released", "report_access.granted"} & set(receiver.types("/ministry"))
        assert len(receiver.of_type("/partner", "assessment.released")) == 1
        assert receiver.forged == []

        # ---- who reads the industry alert ------------------------------------------------------------------------
        path = f"/v1/industry-alerts/{alert['id']}"
        as_partner = await client.get(path, headers=buyer(test_platform, partner_id))
        assert as_partner.status_code == 200 and as_partner.json()["endpoints"] is None
        for outsider in (buyer(test_platform, participant_id), staff(test_platform, "VN", subject="vn-staff")):
            assert (await client.get(path, headers=outsider)).status_code == 404
        page = await client.get("/v1/industry-alerts", headers=buyer(test_platform, participant_id))
        assert page.status_code == 200 and page.json()["items"] == []
        mine = await client.get("/v1/alerts", headers=buyer(test_platform, participant_id))
        kinds = {a["kind"] for a in mine.json()["items"]}
        assert kinds == {"zero_tolerance.case_opened", "zero_tolerance.case_updated"}
        theirs = await client.get("/v1/alerts", headers=buyer(test_platform, partner_id))
        assert "industry_alert" in {a["kind"] for a in theirs.json()["items"]}
        audit = await client.get(
            "/v1/audit-events",
            params={"entity_type": "industry_alert", "entity_id": alert["id"]},
            headers=staff(test_platform),
        )
        assert [(a["action"], a["actor"], a["country"]) for a in audit.json()["items"]] == [
            ("industry_alert.issued", "ea-dara", "KH")
        ]


async def _now(value: Any) -> Any:
    """`wait_until` probes are coroutines; the receiver's lists are read as they are."""
    return value


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """The service without a broker or a delivery worker: what is queued for an endpoint stays to be read."""
    app = test_platform.app(
        "partnerships",
        relay_enabled=False,
        consumer_enabled=False,
        webhook_allow_private_targets=True,
        webhook_worker_enabled=False,
    )
    async with serve_in_process(app) as c:
        yield c


async def queued(client: httpx.AsyncClient, headers: dict[str, str], endpoint_id: str) -> list[dict[str, Any]]:
    """The bodies queued for an endpoint, oldest first."""
    answer = await client.get(f"/v1/webhook-endpoints/{endpoint_id}/messages", params={"limit": 100}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [json.loads(m["body"]) for m in reversed(answer.json()["items"])]


async def test_an_industry_alert_for_named_factories_reaches_their_partners_only(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    named, other = await known_factory(test_platform), await known_factory(test_platform)
    partner = await linked_buyer(client, test_platform, named, cycle=None)
    elsewhere = await linked_buyer(client, test_platform, other, cycle=None)
    await linked_buyer(client, test_platform, other, buyer_id=partner.buyer_id, cycle=None)  # sources from both
    participant_id = (await registered_buyer(client, test_platform, tier="participant"))["id"]
    await linked_buyer(client, test_platform, named, buyer_id=participant_id, cycle=None)
    endpoints = {}
    for buyer_id in (partner.buyer_id, elsewhere.buyer_id, participant_id):
        answer = await client.post(
            "/v1/webhook-endpoints",
            json={"url": "http://127.0.0.1:9/hook", "event_types": ["alert.raised"]},
            headers=buyer(test_platform, buyer_id),
        )
        assert answer.status_code == 201, answer.text
        endpoints[str(buyer_id)] = answer.json()["id"]

    issued = await client.post(
        "/v1/industry-alerts",
        json={"kind": "building_safety", "title": "Cracks in block C", "body": "Evacuated.", "country": "kh",
              "factory_ids": [str(named)]},
        headers=staff(test_platform),
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    assert (issued.json()["buyer_ids"], issued.json()["factory_ids"]) == ([str(partner.buyer_id)], [str(named)])

    [told] = await queued(client, buyer(test_platform, partner.buyer_id), endpoints[str(partner.buyer_id)])
    assert told["type"] == "alert.raised"
    assert (told["data"]["kind"], told["data"]["category"], told["data"]["factory_ids"]) == (
        "industry_alert", "building_safety", [str(named)],
    )  # fmt: skip
    for untold in (elsewhere.buyer_id, participant_id):
        assert await queued(client, buyer(test_platform, untold), endpoints[str(untold)]) == []

    # A buyer is never a protocol party: changing its endpoint to case updates is refused and changes nothing.
    as_partner = buyer(test_platform, partner.buyer_id)
    path = f"/v1/webhook-endpoints/{endpoints[str(partner.buyer_id)]}"
    refused = await client.patch(path, json={"event_types": ["zero_tolerance.case_not_confirmed"]}, headers=as_partner)
    assert refused.status_code == 422 and "zero_tolerance.case_not_confirmed" in refused.json()["detail"]
    assert (await client.get(path, headers=as_partner)).json()["event_types"] == ["alert.raised"]

    seen = await client.get(
        f"/v1/industry-alerts/{issued.json()['id']}", headers=buyer(test_platform, partner.buyer_id)
    )
    assert (seen.json()["buyer_ids"], seen.json()["factory_ids"]) == ([str(partner.buyer_id)], [str(named)])
    wages = {"kind": "wage_decision", "title": "Minimum wage", "body": "USD 208 from January.", "country": "KH"}
    later = await client.post("/v1/industry-alerts", json=wages, headers=staff(test_platform))
    assert later.status_code == 201, later.text
    assert str(partner.buyer_id) in later.json()["buyer_ids"] and str(participant_id) not in later.json()["buyer_ids"]
    first = await client.get("/v1/industry-alerts", params={"limit": 1}, headers=staff(test_platform))
    assert [a["id"] for a in first.json()["items"]] == [later.json()["id"]] and first.json()["next_cursor"]
    rest = await client.get(
        "/v1/industry-alerts",
        params={"limit": 100, "cursor": first.json()["next_cursor"]},
        headers=staff(test_platform),
    )
    assert issued.json()["id"] in [a["id"] for a in rest.json()["items"]]
    of_vn = await client.get("/v1/industry-alerts", params={"limit": 100}, headers=staff(test_platform, "VN"))
    assert issued.json()["id"] not in [a["id"] for a in of_vn.json()["items"]]


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        ({"kind": "gossip"}, 422, "#/body/kind"),
        ({"province": "Kandal", "factory_ids": ["<factory>"]}, 422, "#/body/province"),
        ({"factory_ids": ["<vn factory>"]}, 422, "#/body/factory_ids"),
        ({"country": "VN"}, 403, None),
        ({"title": ""}, 422, "#/body/title"),
        ({"audience": "everyone"}, 422, "#/body/audience"),
    ],
)
async def test_an_industry_alert_that_breaks_a_rule_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, test_platform: TestPlatform, change: dict[str, Any], status: int, pointer: str | None
) -> None:
    kh, vn = await known_factory(test_platform), await known_factory(test_platform, "VN")
    await linked_buyer(client, test_platform, kh, cycle=None)
    ids = {"<factory>": str(kh), "<vn factory>": str(vn)}
    if "factory_ids" in change:
        change = change | {"factory_ids": [ids[f] for f in change["factory_ids"]]}
    body = {"kind": "strike", "title": "Strike", "body": "Strike at the gates.", "country": "KH"} | change
    before = (await client.get("/v1/industry-alerts", params={"limit": 100}, headers=staff(test_platform))).json()
    refused = await client.post("/v1/industry-alerts", json=body, headers=staff(test_platform))
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    if pointer:
        assert pointer in [e["pointer"] for e in refused.json()["errors"]]
    after = (await client.get("/v1/industry-alerts", params={"limit": 100}, headers=staff(test_platform))).json()
    assert after == before


async def test_only_staff_issue_industry_alerts_and_only_those_told_read_them(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    body = {"kind": "wage_decision", "title": "New minimum wage", "body": "USD 208 from January.", "country": "KH"}
    for caller in (
        buyer(test_platform, uuid.uuid4()),
        as_role(test_platform, Role.FACTORY, organisation_id=str(uuid.uuid4()), country="KH"),
    ):
        assert (await client.post("/v1/industry-alerts", json=body, headers=caller)).status_code == 403
    assert (await client.post("/v1/industry-alerts", json=body)).status_code == 401
    issued = await client.post("/v1/industry-alerts", json=body, headers=staff(test_platform))
    assert issued.status_code == 201, issued.text
    path = f"/v1/industry-alerts/{issued.json()['id']}"
    assert (await client.get(path, headers=staff(test_platform))).status_code == 200
    factory_user = as_role(test_platform, Role.FACTORY, organisation_id=str(uuid.uuid4()), country="KH")
    for outsider in (staff(test_platform, "VN"), buyer(test_platform, uuid.uuid4()), factory_user):
        assert (await client.get(path, headers=outsider)).status_code == 404
    assert (await client.get(f"/v1/industry-alerts/{uuid.uuid4()}", headers=staff(test_platform))).status_code == 404
