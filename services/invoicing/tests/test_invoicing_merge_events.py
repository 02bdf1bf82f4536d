"""`factory.merged` through invoicing's consumer on a real broker: the duplicate's invoices, payments and buyers'
credit spends move to the survivor, the survivor's redundant package draft of the same first cycle is dropped,
the survivor's factory users read what moved, and its next package continues the history (cycle 2, not a second
initial package); assessments' `cycles.renumbered` re-keys both records' invoices and credit spends to the new
cycle numbers, in either order with the merge and once; the group discount counts a manufacturing group by its id
across countries. Cambodia charges per cycle."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from betterwork_contracts.base import IntegrationEvent
from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered, CycleMove
from betterwork_contracts.events.registry import FactoryMerged, FactoryProfile, FactoryRegistered, FactoryStatusChanged
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff
from devstack.testkit.database import fetch
from devstack.testkit.events import cloudevent_headers, on, produce_raw
from devstack.testkit.invoicing import finance, known_factory, paid_credits, price_list
from devstack.testkit.waiting import wait_until


@pytest.fixture
async def client(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    app = test_platform.app("invoicing", **settings, overdue_sweep_enabled=False)
    async with serve_in_process(app) as c:
        await price_list(c, staff(test_platform, "KH"), "KH")
        yield c


async def deliver(
    broker: TansuBroker, prefix: str, platform: TestPlatform, *events: IntegrationEvent, source: str = "/registry"
) -> None:
    """The registry's (or `source`'s) events, on their topic, in order; returns once invoicing applied them all."""
    ids = []
    for event in events:
        headers = cloudevent_headers(event, source=source, country=getattr(event, "country", "KH"))
        await produce_raw(
            broker.bootstrap_servers,
            prefix + event.topic.name,
            [(event.aggregate_id.encode(), event.model_dump_json().encode(), headers)],
        )
        ids.append(dict(headers)["ce_id"].decode())

    async def applied() -> int:
        rows = await fetch(
            platform, "invoicing", "SELECT count(*) AS n FROM invoicing.inbox WHERE ce_id = ANY($1)", ids
        )
        n: int = rows[0]["n"]
        return n

    await wait_until(applied, lambda n: n == len(ids), timeout=30)


def status_changed(factory_id: uuid.UUID, version: int, change: str, previous: str) -> FactoryStatusChanged:
    enrolling = change == "enrolled"
    return FactoryStatusChanged(
        factory_id=factory_id,
        version=version,
        country="KH",
        change=change,  # type: ignore[arg-type]
        status="enrolled" if enrolling else change,  # type: ignore[arg-type]
        previous_status=previous,  # type: ignore[arg-type]
        service_package="core" if enrolling else None,
        start_date=date.today() if enrolling else None,
        changed_at=datetime.now(UTC),
    )


async def invoices_of(client: httpx.AsyncClient, platform: TestPlatform, factory_id: uuid.UUID) -> list[dict[str, Any]]:
    answer = await client.get(
        "/v1/invoices", params={"customer_id": str(factory_id), "sort": "created_at"}, headers=finance(platform)
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_merge_moves_invoicing_to_the_survivor_which_is_not_charged_a_second_initial_package(
    client: httpx.AsyncClient, test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    duplicate, survivor = await known_factory(test_platform), await known_factory(test_platform)
    # Both records were enrolled: each got a first-cycle package draft.
    await deliver(
        dedicated_broker,
        topic_prefix,
        test_platform,
        status_changed(duplicate, 4, "enrolled", "active"),
        status_changed(survivor, 4, "enrolled", "active"),
    )
    (package,) = await invoices_of(client, test_platform, duplicate)
    (survivor_draft,) = await invoices_of(client, test_platform, survivor)
    assert package["cycle"] == survivor_draft["cycle"] == 1
    issued = (await client.post(f"/v1/invoices/{package['id']}/issue", headers=finance(test_platform))).json()
    paid = await client.post(
        "/v1/payments",
        json={
            "amount": "100.00",
            "currency": "USD",
            "received_on": date.today().isoformat(),
            "invoice_id": issued["id"],
        },
        headers=finance(test_platform),
    )
    assert paid.status_code == 201, paid.text
    buyer_id = uuid.uuid4()
    await paid_credits(client, test_platform, buyer_id, 1)
    spent = await client.post(
        "/v1/wallet/spends", json={"factory_id": str(duplicate), "cycle": 1}, headers=buyer(test_platform, buyer_id)
    )
    assert spent.status_code == 201, spent.text

    merged = FactoryMerged(
        factory_id=duplicate, version=5, survivor_id=survivor, country="KH", merged_at=datetime.now(UTC)
    )
    await deliver(dedicated_broker, topic_prefix, test_platform, merged, merged)  # told twice: moved once

    (moved,) = await invoices_of(client, test_platform, survivor)  # its own redundant draft is gone
    assert moved["id"] == issued["id"] and moved["number"] == issued["number"]
    assert moved["customer"]["id"] == str(survivor)
    assert moved["customer"]["name"] == issued["customer"]["name"]  # the issued document stays as issued
    assert moved["status"] == "partially_paid" and moved["amount_paid_minor"] == 10000
    assert (await client.get(f"/v1/invoices/{survivor_draft['id']}", headers=finance(test_platform))).status_code == 404
    assert await invoices_of(client, test_platform, duplicate) == []

    # The survivor's users see what moved; the retired id's users no longer do.
    as_survivor = await client.get(f"/v1/invoices/{issued['id']}", headers=factory(test_platform, survivor))
    assert as_survivor.status_code == 200 and as_survivor.json()["payments"][0]["amount_minor"] == 10000
    assert (
        await client.get(f"/v1/invoices/{issued['id']}", headers=factory(test_platform, duplicate))
    ).status_code == 404
    payments = await fetch(
        test_platform,
        "invoicing",
        "SELECT customer_id FROM invoicing.payment WHERE customer_id = ANY($1)",
        [duplicate, survivor],
    )
    assert [p["customer_id"] for p in payments] == [survivor]
    spends = await fetch(
        test_platform,
        "invoicing",
        "SELECT factory_id, cycle FROM invoicing.credit_entry WHERE buyer_id = $1 AND kind = 'spend'",
        buyer_id,
    )
    assert [(s["factory_id"], s["cycle"]) for s in spends] == [(survivor, 1)]

    # The survivor leaves and comes back: its next package is its second cycle, not a second initial one.
    await deliver(
        dedicated_broker,
        topic_prefix,
        test_platform,
        status_changed(survivor, 5, "exited", "enrolled"),
        status_changed(survivor, 6, "enrolled", "exited"),
    )
    first, second = await invoices_of(client, test_platform, survivor)
    assert first["id"] == issued["id"]
    assert second["status"] == "draft" and second["cycle"] == 2 and second["customer"]["id"] == str(survivor)


@pytest.mark.parametrize("renumbered_first", [False, True], ids=["merge-then-renumbering", "renumbering-then-merge"])
async def test_renumbered_cycles_re_key_the_invoices_and_credit_spends_of_both_records_once(
    client: httpx.AsyncClient,
    test_platform: TestPlatform,
    dedicated_broker: TansuBroker,
    topic_prefix: str,
    renumbered_first: bool,
) -> None:
    duplicate, survivor = await known_factory(test_platform), await known_factory(test_platform)
    await deliver(
        dedicated_broker,
        topic_prefix,
        test_platform,
        status_changed(duplicate, 4, "enrolled", "active"),
        status_changed(survivor, 4, "enrolled", "active"),
    )
    packages = {}
    for factory_id in (duplicate, survivor):
        (draft,) = await invoices_of(client, test_platform, factory_id)
        issued = await client.post(f"/v1/invoices/{draft['id']}/issue", headers=finance(test_platform))
        assert issued.status_code == 200, issued.text
        packages[factory_id] = issued.json()["id"]
    buyer_id = uuid.uuid4()
    await paid_credits(client, test_platform, buyer_id, 2)
    for factory_id in (duplicate, survivor):
        spent = await client.post(
            "/v1/wallet/spends",
            json={"factory_id": str(factory_id), "cycle": 1},
            headers=buyer(test_platform, buyer_id),
        )
        assert spent.status_code == 201, spent.text

    # By date, the retired record's cycle came after the survivor's: it is the survivor's second cycle now.
    merged = FactoryMerged(
        factory_id=duplicate, version=5, survivor_id=survivor, country="KH", merged_at=datetime.now(UTC)
    )
    renumbered = AssessmentCyclesRenumbered(
        factory_id=survivor,
        retired_id=duplicate,
        country="KH",
        moves=[
            CycleMove(factory_id=duplicate, from_cycle=1, to_cycle=2),
            CycleMove(factory_id=survivor, from_cycle=1, to_cycle=1),
        ],
        renumbered_at=datetime.now(UTC),
    )
    steps: list[tuple[IntegrationEvent, str]] = [(merged, "/registry"), (renumbered, "/assessments")]
    for event, source in reversed(steps) if renumbered_first else steps:
        await deliver(dedicated_broker, topic_prefix, test_platform, event, source=source)
    # Told again (a replay under another event id): the survivor's cycles do not move a second time.
    await deliver(dedicated_broker, topic_prefix, test_platform, renumbered, source="/assessments")

    by_id = {i["id"]: i for i in await invoices_of(client, test_platform, survivor)}
    assert by_id[packages[duplicate]]["cycle"] == 2 and by_id[packages[duplicate]]["customer"]["id"] == str(survivor)
    assert by_id[packages[survivor]]["cycle"] == 1
    spends = await fetch(
        test_platform,
        "invoicing",
        "SELECT factory_id, cycle FROM invoicing.credit_entry WHERE buyer_id = $1 AND kind = 'spend' ORDER BY cycle",
        buyer_id,
    )
    assert [(s["factory_id"], s["cycle"]) for s in spends] == [(survivor, 1), (survivor, 2)]
    # The survivor is enrolled for its next cycle: after the two it has now, the third.
    await deliver(
        dedicated_broker,
        topic_prefix,
        test_platform,
        status_changed(survivor, 5, "exited", "enrolled"),
        status_changed(survivor, 6, "enrolled", "exited"),
    )
    cycles = sorted(i["cycle"] for i in await invoices_of(client, test_platform, survivor))
    assert cycles == [1, 2, 3]


def registered(country: str, *, group_name: str, group_id: uuid.UUID | None) -> FactoryRegistered:
    return FactoryRegistered(
        factory_id=uuid.uuid4(),
        version=1,
        country=country,
        name=f"{group_name} {country} {uuid.uuid4().hex[:4]}",
        registered_at=datetime.now(UTC),
        profile=FactoryProfile(group_name=group_name, group_id=group_id),
    )


async def test_the_group_discount_counts_a_group_by_its_id_across_countries_and_by_name_within_one(
    client: httpx.AsyncClient, test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    with_id = [registered(c, group_name=f"Apsara {tag}", group_id=uuid.uuid4()) for c in ("KH",)]
    group_id = with_id[0].profile.group_id  # type: ignore[union-attr]
    with_id += [
        registered(c, group_name=f"Apsara {tag}", group_id=group_id) for c in ("KH", "KH", "VN", "ID")
    ]  # five factories of one group, three of them in Cambodia
    by_name = [registered(c, group_name=f"Mekong {tag}", group_id=None) for c in ("KH", "KH", "KH", "VN", "ID")]
    await deliver(dedicated_broker, topic_prefix, test_platform, *with_id, *by_name)

    async def package_total(factory_id: uuid.UUID) -> int:
        drafted = await client.post(
            "/v1/invoices",
            json={
                "country": "KH",
                "customer_kind": "factory",
                "customer_id": str(factory_id),
                "lines": [{"service": "service_package", "quantity": 1}],
            },
            headers=finance(test_platform),
        )
        assert drafted.status_code == 201, drafted.text
        total: int = drafted.json()["total_minor"]
        return total

    assert await package_total(with_id[0].factory_id) == 399000  # 4,200.00 less the 5% group discount
    assert await package_total(by_name[0].factory_id) == 420000  # three of the name in Cambodia: no discount
