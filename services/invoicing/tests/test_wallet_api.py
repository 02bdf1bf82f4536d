"""Buyer credits over HTTP against real Postgres: spendable only once paid, first-expiring first, one credit per
factory cycle, exactly one winner of two spends of the last credit, the ledger invariant; cost recovery."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, staff
from devstack.testkit.database import fetch
from devstack.testkit.invoicing import billing, finance, known_factory, paid_credits, price_list
from invoicing.adapters import credits as ledger_sql
from invoicing.adapters.tables import CREDIT_LOT
from invoicing.domain.credits import ledger_problems
from invoicing.service.overdue import sweep


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("invoicing", relay_enabled=False, consumer_enabled=False, overdue_sweep_enabled=False)
    async with serve_in_process(app) as c:
        await price_list(c, staff(test_platform))
        yield c


async def spend(
    client: httpx.AsyncClient, platform: TestPlatform, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int = 1
) -> httpx.Response:
    return await client.post(
        "/v1/wallet/spends", json={"factory_id": str(factory_id), "cycle": cycle}, headers=buyer(platform, buyer_id)
    )


async def check_ledger(client: httpx.AsyncClient, buyer_id: uuid.UUID) -> None:
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    async with database.unit_of_work() as uow:
        lots = await ledger_sql.lots(uow.session, buyer_id)
        entries = await ledger_sql.all_entries(uow.session, buyer_id)
    assert ledger_problems(lots, entries) == []


async def test_credits_are_spendable_only_once_their_invoice_is_paid(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    buyer_id, factory_id = uuid.uuid4(), await known_factory(test_platform)
    bought = await client.post(
        "/v1/wallet/purchases",
        json={"quantity": 12, "country": "KH", "billing": billing()},
        headers=buyer(test_platform, buyer_id),
    )
    assert bought.status_code == 201, bought.text
    invoice, lot = bought.json()["invoice"], bought.json()["lot"]
    assert invoice["status"] == "issued" and invoice["purpose"] == "credits" and invoice["number"]
    assert (lot["tier"], lot["unit_price_minor"], invoice["total_minor"]) == ("10-20", 130000, 12 * 130000)
    assert (await spend(client, test_platform, buyer_id, factory_id)).status_code == 409  # not paid yet
    wallet = (await client.get("/v1/wallet", headers=buyer(test_platform, buyer_id))).json()
    assert (wallet["balance"], wallet["pending"]) == (0, 12)
    paid = await client.post(
        "/v1/payments",
        json={"amount": "15600.00", "currency": "USD", "received_on": "2027-01-20", "invoice_id": invoice["id"]},
        headers=finance(test_platform),
    )
    assert paid.status_code == 201 and paid.json()["invoices"][0]["status"] == "paid"
    spent = await spend(client, test_platform, buyer_id, factory_id)
    assert spent.status_code == 201, spent.text
    assert (await spend(client, test_platform, buyer_id, factory_id)).status_code == 409  # cycle already unlocked
    assert (await spend(client, test_platform, buyer_id, factory_id, cycle=2)).status_code == 201
    wallet = (await client.get("/v1/wallet", headers=buyer(test_platform, buyer_id))).json()
    assert wallet["balance"] == 10 and [e["kind"] for e in wallet["entries"]] == ["purchase", "spend", "spend"]
    rows = await fetch(
        test_platform,
        "invoicing",
        "SELECT type, payload FROM invoicing.outbox WHERE type LIKE '%entitlement%' AND aggregateid = $1 ORDER BY seq",
        str(factory_id),
    )
    payloads = [json.loads(r["payload"]) for r in rows]
    assert [(p["buyer_id"], p["cycle"], p["source"]) for p in payloads] == [
        (str(buyer_id), 1, "credit"),
        (str(buyer_id), 2, "credit"),
    ]
    purchased = await fetch(
        test_platform,
        "invoicing",
        "SELECT payload FROM invoicing.outbox WHERE aggregateid = $1 AND type LIKE '%credits%'",
        str(buyer_id),
    )
    assert json.loads(purchased[0]["payload"])["quantity"] == 12
    await check_ledger(client, buyer_id)


async def test_the_first_expiring_lot_is_spent_first_and_a_reversal_gives_it_back(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    buyer_id, factory_id = uuid.uuid4(), await known_factory(test_platform)
    first = await paid_credits(client, test_platform, buyer_id, 1)
    second = await paid_credits(client, test_platform, buyer_id, 1)
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    async with database.unit_of_work() as uow:  # the later purchase expires sooner
        await uow.session.execute(
            CREDIT_LOT.update()
            .where(CREDIT_LOT.c.id == uuid.UUID(second["lot"]["id"]))
            .values(expires_on=date.today() + timedelta(days=10))
        )
        await uow.commit()
    spent = await spend(client, test_platform, buyer_id, factory_id)
    assert spent.json()["lot_id"] == second["lot"]["id"]
    reversal = await client.post(
        f"/v1/wallet/{buyer_id}/entries/{spent.json()['entry_id']}/reversal",
        json={"reason": "Wrong factory"},
        headers=finance(test_platform),
    )
    assert reversal.status_code == 201, reversal.text
    assert reversal.json()["reverses"] == spent.json()["entry_id"]
    twice = await client.post(
        f"/v1/wallet/{buyer_id}/entries/{spent.json()['entry_id']}/reversal",
        json={"reason": "again"},
        headers=finance(test_platform),
    )
    assert twice.status_code == 409
    again = await spend(client, test_platform, buyer_id, factory_id)  # the cycle may be bought again
    assert again.status_code == 201 and again.json()["lot_id"] == second["lot"]["id"]
    assert first["lot"]["id"] != second["lot"]["id"]
    await check_ledger(client, buyer_id)


async def test_two_spends_of_the_last_credit_exactly_one_wins(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    for _ in range(5):
        buyer_id = uuid.uuid4()
        factories = [await known_factory(test_platform) for _ in range(2)]
        await paid_credits(client, test_platform, buyer_id, 1)
        answers = await asyncio.gather(*(spend(client, test_platform, buyer_id, f) for f in factories))
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        await check_ledger(client, buyer_id)


async def test_crediting_an_unpaid_purchase_cancels_its_credits(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    buyer_id = uuid.uuid4()
    bought = await client.post(
        "/v1/wallet/purchases",
        json={"quantity": 3, "country": "KH", "billing": billing()},
        headers=buyer(test_platform, buyer_id),
    )
    invoice_id = bought.json()["invoice"]["id"]
    voided = await client.post(
        f"/v1/invoices/{invoice_id}/credit-notes", json={"reason": "Ordered twice"}, headers=finance(test_platform)
    )
    assert voided.json()["invoice"]["status"] == "void"
    wallet = (await client.get("/v1/wallet", headers=buyer(test_platform, buyer_id))).json()
    assert (wallet["balance"], wallet["pending"], wallet["lots"][0]["remaining"]) == (0, 0, 0)
    assert [e["kind"] for e in wallet["entries"]] == ["purchase", "cancellation"]
    await check_ledger(client, buyer_id)


async def test_an_overdue_buyer_buys_no_more_but_spends_what_it_paid_for(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    buyer_id, factory_id = uuid.uuid4(), await known_factory(test_platform)
    await paid_credits(client, test_platform, buyer_id, 2)
    unpaid = await client.post(
        "/v1/wallet/purchases",
        json={"quantity": 1, "country": "KH", "billing": billing()},
        headers=buyer(test_platform, buyer_id),
    )
    due = date.fromisoformat(unpaid.json()["invoice"]["due_date"])
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    taken = [
        s.action
        for s in await sweep(database, on=due + timedelta(days=70))
        if str(s.invoice_id) == unpaid.json()["invoice"]["id"]
    ]
    assert "hold_reports" in taken and "suspend_factory" not in taken  # a buyer's invoice suspends no factory
    held = await client.post(
        "/v1/wallet/purchases",
        json={"quantity": 1, "country": "KH", "billing": billing()},
        headers=buyer(test_platform, buyer_id),
    )
    assert held.status_code == 409
    assert (await spend(client, test_platform, buyer_id, factory_id)).status_code == 201  # paid credits still work


async def test_nobody_touches_another_buyers_wallet(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    mine, theirs, factory_id = uuid.uuid4(), uuid.uuid4(), await known_factory(test_platform)
    await paid_credits(client, test_platform, theirs, 1)
    probe = await client.get("/v1/wallet", params={"buyer_id": str(theirs)}, headers=buyer(test_platform, mine))
    assert probe.status_code == 404
    steal = await client.post(
        "/v1/wallet/spends",
        json={"factory_id": str(factory_id), "cycle": 1, "buyer_id": str(theirs)},
        headers=buyer(test_platform, mine),
    )
    assert steal.status_code == 404
    assert (
        await client.get("/v1/wallet", params={"buyer_id": str(theirs)}, headers=staff(test_platform))
    ).status_code == 200


async def test_cost_recovery_as_json_csv_and_chart(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    country = "EG"
    await price_list(client, staff(test_platform, country), country)
    factory_id, buyer_id = await known_factory(test_platform, country=country), uuid.uuid4()
    await paid_credits(client, test_platform, buyer_id, 2, country=country)
    assert (await spend(client, test_platform, buyer_id, factory_id)).status_code == 201
    year = date.today().year
    url = f"/v1/cost-recovery/{country}"
    as_finance = finance(test_platform, country)
    cost = await client.put(f"{url}/{year}/cost", json={"currency": "EGP", "amount": "150000.00"}, headers=as_finance)
    assert cost.status_code == 204, cost.text
    missing = await client.get(url, headers=as_finance)
    assert missing.status_code == 409  # no EGP rate yet
    rate = await client.put(
        f"/v1/cost-recovery/rates/{year}",
        json={"currency": "EGP", "rate": "0.02", "as_of": f"{year}-12-31"},
        headers=as_finance,
    )
    assert rate.status_code == 204, rate.text
    (row,) = (await client.get(url, headers=as_finance)).json()
    assert row["credits_revenue_minor"] == 140000 and row["cost_minor"] == 300000  # 150,000 EGP at 0.02
    assert row["recovery_rate"] == "0.4667" and row["rates"] == {"EGP": "0.0200000000"}
    csv_text = (await client.get(f"{url}/report.csv", headers=as_finance)).text
    assert csv_text.splitlines()[1] == f"EG,{year},USD,1400.00,0.00,1400.00,3000.00,0.4667"
    svg = await client.get(f"{url}/chart.svg", headers=as_finance)
    assert svg.headers["content-type"].startswith("image/svg+xml") and "46.7%" in svg.text
    assert (await client.get(url, headers=buyer(test_platform, buyer_id))).status_code == 403
