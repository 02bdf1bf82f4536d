"""A merge at the registry reaches invoicing through real events: the duplicate's issued service package moves
to the survivor, whose own draft for the same first cycle is dropped (one factory, one first package), and the
survivor's users read the invoice that moved."""

from __future__ import annotations

import uuid
from typing import Any

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff
from devstack.testkit.events import on
from devstack.testkit.invoicing import finance, price_list
from devstack.testkit.registry import enrolled_factory
from devstack.testkit.waiting import metric_value, wait_until


async def test_the_survivor_of_a_merge_carries_the_duplicates_package_and_is_not_charged_a_second_one(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    common = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    as_staff, as_finance = staff(test_platform, "KH"), finance(test_platform, "KH")
    async with (
        serve_in_process(test_platform.app("registry", **common)) as registry,
        serve_in_process(test_platform.app("invoicing", **common, overdue_sweep_enabled=False)) as invoicing,
    ):
        await price_list(invoicing, as_staff, "KH")
        duplicate = uuid.UUID((await enrolled_factory(registry, as_staff))["id"])
        survivor = uuid.UUID((await enrolled_factory(registry, as_staff))["id"])

        async def invoices_of(factory_id: uuid.UUID) -> list[dict[str, Any]]:
            answer = await invoicing.get("/v1/invoices", params={"customer_id": str(factory_id)}, headers=as_finance)
            items: list[dict[str, Any]] = answer.json()["items"]
            return items

        (package,) = await wait_until(lambda: invoices_of(duplicate), bool, timeout=60)
        (own_draft,) = await wait_until(lambda: invoices_of(survivor), bool, timeout=60)
        assert package["cycle"] == own_draft["cycle"] == 1
        issued = await invoicing.post(f"/v1/invoices/{package['id']}/issue", headers=as_finance)
        assert issued.status_code == 200, issued.text

        merged = await registry.post(
            f"/v1/factories/{survivor}/merges", json={"merged_id": str(duplicate)}, headers=as_staff
        )
        assert merged.status_code == 200, merged.text

        async def survivors() -> list[str]:
            return [i["id"] for i in await invoices_of(survivor)]

        assert await wait_until(survivors, lambda ids: ids == [package["id"]], timeout=60) == [package["id"]]
        assert await invoices_of(duplicate) == []
        seen = await invoicing.get(f"/v1/invoices/{package['id']}", headers=factory(test_platform, survivor))
        assert seen.status_code == 200 and seen.json()["number"] == issued.json()["number"]
        assert seen.json()["customer"]["id"] == str(survivor) and seen.json()["cycle"] == 1
        gone = await invoicing.get(f"/v1/invoices/{own_draft['id']}", headers=as_finance)
        assert gone.status_code == 404
        assert metric_value((await invoicing.get("/metrics")).text, "events_dead_lettered_total") == 0
