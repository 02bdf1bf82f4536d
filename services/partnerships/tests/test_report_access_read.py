"""The access decision as a hot read (one read-only statement, no transaction) over HTTP against real Postgres:
who may ask, the decisions by cycle field for field, and a revocation in the very next answer."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import admin, buyer, factory, staff
from devstack.testkit.database import fetch
from devstack.testkit.hot import both_paths_answer_alike
from devstack.testkit.partnerships import known_factory, linked_buyer

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("partnerships", relay_enabled=False, consumer_enabled=False, webhook_worker_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def test_the_decisions_by_cycle_for_the_buyer_the_factory_and_staff_of_its_country_only(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    pair = await linked_buyer(client, test_platform, factory_id, cycle=2)
    later = await client.post(
        "/v1/entitlements",
        json={"buyer_id": str(pair.buyer_id), "factory_id": str(factory_id), "cycle": 1},
        headers=staff(test_platform),
    )
    assert later.status_code == 201, later.text
    query = {"buyer_id": str(pair.buyer_id), "factory_id": str(factory_id)}

    async def ask(headers: dict[str, str], params: dict[str, str] = query) -> httpx.Response:
        return await client.get("/v1/report-access", params=params, headers=headers)

    answer = await ask(buyer(test_platform, pair.buyer_id))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    stored = await fetch(
        test_platform,
        "partnerships",
        "SELECT cycle, decided_at FROM partnerships.report_access WHERE buyer_id = $1 AND factory_id = $2",
        pair.buyer_id,
        factory_id,
    )
    decided = {r["cycle"]: r["decided_at"] for r in stored}
    assert [{**d, "decided_at": datetime.fromisoformat(d["decided_at"])} for d in answer.json()] == [
        {
            "buyer_id": str(pair.buyer_id),
            "factory_id": str(factory_id),
            "cycle": cycle,
            "granted": True,
            "decided_at": decided[cycle],
            "progress_reports_granted": False,
        }
        for cycle in (1, 2)
    ]  # by cycle, whatever the order they were decided in
    for allowed in (factory(test_platform, factory_id), staff(test_platform), admin(test_platform)):
        same = await ask(allowed)
        assert same.status_code == 200 and same.content == answer.content

    other_buyer = buyer(test_platform, uuid.uuid4())
    for refused in (staff(test_platform, "VN"), other_buyer, factory(test_platform, uuid.uuid4())):
        probe = await ask(refused)
        assert probe.status_code == 404 and probe.headers["content-type"] == "application/problem+json"
    assert (await ask({})).status_code == 401
    unknown = {"buyer_id": str(pair.buyer_id), "factory_id": str(uuid.uuid4())}
    assert (await ask(staff(test_platform), unknown)).status_code == 404  # staff of no known country
    nothing = await ask(buyer(test_platform, pair.buyer_id), unknown)
    assert nothing.status_code == 200 and nothing.json() == []  # the buyer itself: no decisions yet

    revoked = await client.post(f"/v1/consents/{pair.consent['id']}/revoke", headers=factory(test_platform, factory_id))
    assert revoked.status_code == 200, revoked.text
    closed = await ask(buyer(test_platform, pair.buyer_id))
    assert [(d["cycle"], d["granted"]) for d in closed.json()] == [(1, False), (2, False)]


async def test_the_edge_answers_the_decision_as_the_route_does(test_platform: TestPlatform) -> None:
    app = test_platform.app("partnerships", relay_enabled=False, consumer_enabled=False, webhook_worker_enabled=False)
    async with serve_in_process(app) as client:
        factory_id = await known_factory(test_platform)
        pair = await linked_buyer(client, test_platform, factory_id, cycle=1)
        query = {"buyer_id": str(pair.buyer_id), "factory_id": str(factory_id)}
        asks = [
            ("/v1/report-access", buyer(test_platform, pair.buyer_id), query),
            ("/v1/report-access", factory(test_platform, factory_id), query),
            ("/v1/report-access", staff(test_platform), query),
            ("/v1/report-access", staff(test_platform, "VN"), query),
            ("/v1/report-access", {}, query),
            ("/v1/report-access", buyer(test_platform, pair.buyer_id), {"buyer_id": str(pair.buyer_id)}),
            ("/v1/report-access", buyer(test_platform, pair.buyer_id), {**query, "factory_id": "nope"}),
            (
                f"/v1/report-access?buyer_id={pair.buyer_id}&factory_id={uuid.uuid4()}&factory_id={factory_id}",
                buyer(test_platform, pair.buyer_id),
                None,
            ),
        ]
        answers, served, handed_on = await both_paths_answer_alike(client, app, asks)
        assert [a.status for a in answers] == [200, 200, 200, 404, 401, 422, 422, 200]
        assert [d["granted"] for d in json.loads(answers[0].body)] == [True]
        assert (served, handed_on) == (5, 3)  # a missing, malformed or repeated parameter goes through FastAPI
