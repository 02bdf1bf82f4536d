"""Invoicing's overdue policy reaches the registry: a factory whose service-package invoice stays unpaid past the
suspension step is suspended for unpaid fees, and reactivated once it is paid, through real events."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.invoicing import finance, price_list
from devstack.testkit.registry import registered_factory
from devstack.testkit.waiting import metric_value, wait_until
from invoicing.service.overdue import sweep


async def test_an_unpaid_service_package_suspends_the_factory_and_payment_reactivates_it(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    common = on(dedicated_broker, topic_prefix)
    as_staff, as_finance = staff(test_platform, "KH"), finance(test_platform, "KH")
    invoicing_app = test_platform.app("invoicing", **common, overdue_sweep_enabled=False)
    async with (
        serve_in_process(test_platform.app("registry", **common)) as registry,
        serve_in_process(invoicing_app) as invoicing,
    ):
        await price_list(invoicing, as_staff, "KH")
        factory_id = uuid.UUID((await registered_factory(registry, as_staff))["id"])
        for step in (
            {"change": "enrolled", "service_package": "core", "start_date": "2027-01-01"},
            {"change": "activated"},
        ):
            moved = await registry.post(f"/v1/factories/{factory_id}/status-changes", json=step, headers=as_staff)
            assert moved.status_code == 201, moved.text

        async def drafts() -> list[dict[str, Any]]:
            answer = await invoicing.get(
                "/v1/invoices", params={"customer_id": str(factory_id), "status": "draft"}, headers=as_finance
            )
            items: list[dict[str, Any]] = answer.json()["items"]
            return items

        (package,) = await wait_until(drafts, bool, timeout=60)
        issued = await invoicing.post(f"/v1/invoices/{package['id']}/issue", headers=as_finance)
        assert issued.status_code == 200, issued.text
        invoice = issued.json()

        # 46 days past the due date: Cambodia's policy suspends the factory at 45.
        await sweep(invoicing_app.state.database, on=date.fromisoformat(invoice["due_date"]) + timedelta(days=46))

        async def status() -> str:
            answer = await registry.get(f"/v1/factories/{factory_id}", headers=as_staff)
            value: str = answer.json()["status"]
            return value

        assert await wait_until(status, lambda s: s == "suspended", timeout=60) == "suspended"
        (suspension,) = await fetch(
            test_platform,
            "registry",
            "SELECT * FROM registry.factory_status_change WHERE factory_id = $1 AND change = 'suspended'",
            factory_id,
        )
        assert suspension["suspension_reason"] == "unpaid_fees"
        assert suspension["by_subject"] == "system:invoicing"
        assert invoice["number"] in suspension["reason"]

        paid = await invoicing.post(
            "/v1/payments",
            json={
                "amount": f"{invoice['total_minor'] / 100:.2f}",
                "currency": "USD",
                "received_on": date.today().isoformat(),
                "invoice_id": invoice["id"],
            },
            headers=as_finance,
        )
        assert paid.status_code == 201, paid.text
        assert await wait_until(status, lambda s: s == "active", timeout=60) == "active"
        history = await registry.get(f"/v1/factories/{factory_id}/status-changes", headers=as_staff)
        assert [h["change"] for h in history.json()][-2:] == ["suspended", "reactivated"]
        metrics = (await registry.get("/metrics")).text
        assert metric_value(metrics, "events_dead_lettered_total") == 0
