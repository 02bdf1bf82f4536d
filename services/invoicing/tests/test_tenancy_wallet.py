"""Whose credits staff see in a brand's wallet, over HTTP against real Postgres: a brand buys credits from several
programmes; staff of one see only what their programme sold, staff of a programme that sold nothing get the same
404 as for a brand that does not exist, the brand itself and admins see everything."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import admin, buyer, staff
from devstack.testkit.invoicing import paid_credits, price_list

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("invoicing", relay_enabled=False, consumer_enabled=False, overdue_sweep_enabled=False)
    async with serve_in_process(app) as c:
        for country in ("KH", "VN"):
            await price_list(c, staff(test_platform, country), country)
        yield c


async def test_staff_see_only_the_credits_their_programme_sold(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    brand = uuid.uuid4()
    from_kh = (await paid_credits(client, test_platform, brand, 2, country="KH"))["lot"]["id"]
    from_vn = (await paid_credits(client, test_platform, brand, 3, country="VN"))["lot"]["id"]

    async def wallet_as(headers: dict[str, str], buyer_id: uuid.UUID = brand) -> httpx.Response:
        return await client.get("/v1/wallet", params={"buyer_id": str(buyer_id)}, headers=headers)

    kh = await wallet_as(staff(test_platform, "KH"))
    assert kh.status_code == 200, kh.text
    assert [lot["id"] for lot in kh.json()["lots"]] == [from_kh]
    assert {entry["lot_id"] for entry in kh.json()["entries"]} == {from_kh}
    assert kh.json()["balance"] == 2
    assert from_vn not in kh.text

    vn = (await wallet_as(staff(test_platform, "VN"))).json()
    assert ([lot["id"] for lot in vn["lots"]], vn["balance"]) == ([from_vn], 3)

    # A programme that sold the brand nothing is told what it is told of a brand that exists nowhere.
    elsewhere = await wallet_as(staff(test_platform, "TH"))
    nowhere = await wallet_as(staff(test_platform, "TH"), uuid.uuid4())
    assert (elsewhere.status_code, nowhere.status_code) == (404, 404)
    assert elsewhere.json()["title"] == nowhere.json()["title"]
    assert from_kh not in elsewhere.text and from_vn not in elsewhere.text

    own = await client.get("/v1/wallet", headers=buyer(test_platform, brand))
    for everything in (await wallet_as(admin(test_platform)), own):
        assert everything.status_code == 200, everything.text
        assert {lot["id"] for lot in everything.json()["lots"]} == {from_kh, from_vn}
        assert everything.json()["balance"] == 5
