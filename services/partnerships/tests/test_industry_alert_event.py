"""`industry_alert.issued`: other services hear of an industry alert, in the transaction that issues it, with how many
buyers were told and never which ones (buyers' identities are confidential between buyers)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from betterwork_contracts.events.partnerships import IndustryAlertIssued
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.partnerships import known_factory, linked_buyer, registered_buyer


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """The service without a relay: what it publishes stays in its outbox to be read."""
    app = test_platform.app("partnerships", relay_enabled=False, consumer_enabled=False, webhook_worker_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def published(platform: TestPlatform, alert_id: str) -> list[dict[str, Any]]:
    rows = await fetch(
        platform,
        "partnerships",
        "SELECT topic, type, payload FROM partnerships.outbox WHERE aggregateid = $1 ORDER BY seq",
        alert_id,
    )
    return [{"topic": r["topic"], "type": r["type"], "payload": json.loads(r["payload"])} for r in rows]


async def test_issuing_an_industry_alert_writes_its_event_with_the_audience_counted_not_named(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    named = await known_factory(test_platform)
    first = await linked_buyer(client, test_platform, named, cycle=None)
    second = await linked_buyer(client, test_platform, named, cycle=None)
    participant = (await registered_buyer(client, test_platform, tier="participant"))["id"]
    await linked_buyer(client, test_platform, named, buyer_id=participant, cycle=None)

    issued = await client.post(
        "/v1/industry-alerts",
        json={"kind": "building_safety", "title": "Cracks in block C", "body": "Evacuated.", "country": "kh",
              "factory_ids": [str(named)]},
        headers=staff(test_platform),
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    alert = issued.json()
    assert sorted(alert["buyer_ids"]) == sorted([str(first.buyer_id), str(second.buyer_id)])

    [event] = await published(test_platform, alert["id"])
    assert (event["topic"].rsplit(".", 1)[-1], event["type"]) == ("alert", IndustryAlertIssued.type)
    assert event["payload"] == {
        "alert_id": alert["id"],
        "country": "KH",
        "kind": "building_safety",
        "title": "Cracks in block C",
        "body": "Evacuated.",
        "factory_ids": [str(named)],
        "province": None,
        "recipient_buyer_count": 2,
        "issued_at": event["payload"]["issued_at"],
    }
    assert IndustryAlertIssued.model_validate(event["payload"]).issued_at.isoformat() == alert["issued_at"].replace(
        "Z", "+00:00"
    )
    text = json.dumps(event["payload"])
    for buyer_id in (first.buyer_id, second.buyer_id, participant):
        assert str(buyer_id) not in text


async def test_a_refused_industry_alert_publishes_nothing(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    await linked_buyer(client, test_platform, await known_factory(test_platform), cycle=None)
    count = "SELECT count(*) AS n FROM partnerships.outbox WHERE type = $1"
    before = (await fetch(test_platform, "partnerships", count, IndustryAlertIssued.type))[0]["n"]
    for body, status in (
        ({"kind": "gossip", "title": "Rumour", "body": "Nothing.", "country": "KH"}, 422),
        ({"kind": "strike", "title": "Strike", "body": "At the gates.", "country": "VN"}, 403),
    ):
        refused = await client.post("/v1/industry-alerts", json=body, headers=staff(test_platform))
        assert refused.status_code == status, refused.text
    assert (await fetch(test_platform, "partnerships", count, IndustryAlertIssued.type))[0]["n"] == before


async def test_an_industry_alert_reaches_the_broker_keyed_by_its_id(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app("partnerships", **on(dedicated_broker, topic_prefix), webhook_worker_enabled=False)
    factory_id = await known_factory(test_platform)
    async with serve_in_process(app) as partnerships:
        partner = await linked_buyer(partnerships, test_platform, factory_id, cycle=None)
        issued = await partnerships.post(
            "/v1/industry-alerts",
            json={"kind": "strike", "title": "Strike", "body": "At the gates.", "country": "KH",
                  "factory_ids": [str(factory_id)]},
            headers=staff(test_platform),
        )  # fmt: skip
        assert issued.status_code == 201, issued.text
        alert_id = issued.json()["id"]

        consumer = AIOKafkaConsumer(
            f"{topic_prefix}partnerships.alert",
            bootstrap_servers=dedicated_broker.bootstrap_servers,
            group_id=f"{topic_prefix}reader",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:

            async def industry_alert() -> Any:
                while True:
                    record = await consumer.getone()
                    if dict(record.headers).get("ce_type") == IndustryAlertIssued.type.encode():
                        return record

            record = await asyncio.wait_for(industry_alert(), 30)
        finally:
            await consumer.stop()

    headers = {k: v.decode() for k, v in record.headers}
    assert record.key == alert_id.encode()
    assert (headers["ce_source"], headers["ce_subject"], headers["ce_country"]) == ("/partnerships", alert_id, "KH")
    payload = json.loads(record.value)
    assert (payload["alert_id"], payload["kind"], payload["recipient_buyer_count"]) == (alert_id, "strike", 1)
    assert str(partner.buyer_id) not in record.value.decode()
    assert uuid.UUID(payload["alert_id"]) == uuid.UUID(alert_id)
