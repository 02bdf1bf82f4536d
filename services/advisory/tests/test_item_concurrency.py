"""Two changes of one improvement item sent at once cannot both win: the item is locked while it moves, so the
second is judged against the first one's result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff
from devstack.testkit.advisory import deliver, items_of, known_factory, non_compliance, plan_of, released
from devstack.testkit.database import fetch

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("advisory", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def test_two_verifications_of_one_item_at_once_leave_one_move(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    await deliver(test_platform, released(factory_id, [non_compliance("KH-OSH-03", publicly_reported=True)]))
    plan = await plan_of(client, staff(test_platform), factory_id)
    item_id = (await items_of(client, staff(test_platform), plan["id"]))["KH-OSH-03"]["id"]
    url = f"/v1/improvement-items/{item_id}/transitions"
    done = await client.post(url, json={"to": "reported_done"}, headers=factory(test_platform, factory_id))
    assert done.status_code == 200

    verify = client.post(url, json={"to": "verified"}, headers=staff(test_platform))
    refuse = client.post(url, json={"to": "in_progress"}, headers=staff(test_platform, subject="tl-sophea"))
    answers = await asyncio.gather(verify, refuse)

    assert sorted(a.status_code for a in answers) == [200, 409]
    moves = await fetch(
        test_platform,
        "advisory",
        "SELECT from_status, to_status FROM advisory.improvement_item_move m"
        " JOIN advisory.improvement_item i ON i.id = m.item_id WHERE i.plan_id = $1::uuid ORDER BY m.id",
        plan["id"],
    )
    assert [(m["from_status"], m["to_status"]) for m in moves][:1] == [("open", "reported_done")]
    assert len(moves) == 2  # one of the two concurrent moves, never both
    winner = next(a for a in answers if a.status_code == 200).json()
    assert winner["version"] == 3
