"""End to end across registry, partnerships and invoicing, through real events and HTTP:

a factory registered and enrolled at the registry (invoicing learns of it, and drafts its service package
invoice); a buyer registered at partnerships (invoicing learns its name), linked, with the factory's consent;
the buyer buys credits, the invoice is paid, the buyer spends one credit on the factory's cycle, and
partnerships, on `entitlement.purchased`, grants the buyer access to that cycle's reports; assessments hears
the grant, and the buyer reads the factory's released report (which it could not read before paying).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff
from devstack.testkit.assessments import released_assessment, status_in_assessments
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.invoicing import finance, price_list
from devstack.testkit.registry import registered_factory
from devstack.testkit.waiting import wait_until


async def test_a_buyer_buys_credits_pays_spends_one_and_gets_report_access(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    common = on(dedicated_broker, topic_prefix)
    as_staff = staff(test_platform, "KH")
    async with (
        serve_in_process(test_platform.app("registry", **common)) as registry,
        serve_in_process(test_platform.app("partnerships", **common, webhook_worker_enabled=False)) as partnerships,
        serve_in_process(test_platform.app("invoicing", **common, overdue_sweep_enabled=False)) as invoicing,
        serve_in_process(test_platform.app("assessments", **common)) as assessments,
    ):
        await price_list(invoicing, as_staff, "KH")
        record = await registered_factory(registry, as_staff)
        factory_id = uuid.UUID(record["id"])
        for step in (
            {"change": "enrolled", "service_package": "core", "start_date": "2027-01-01"},
            {"change": "activated"},
        ):
            moved = await registry.post(f"/v1/factories/{factory_id}/status-changes", json=step, headers=as_staff)
            assert moved.status_code == 201, moved.text
        created = await partnerships.post(
            "/v1/buyers",
            json={"name": "Nordic Outdoor", "headquarters_country": "NO", "tier": "partner"},
            headers=as_staff,
        )
        assert created.status_code == 201, created.text
        buyer_id = uuid.UUID(created.json()["id"])

        async def known(table: str, column: str, value: uuid.UUID) -> list[Any]:
            return await fetch(
                test_platform, "invoicing", f"SELECT * FROM invoicing.{table} WHERE {column} = $1", value
            )

        await wait_until(
            lambda: known("factory_ref", "factory_id", factory_id),
            lambda rows: rows and rows[0]["status"] == "active",
            timeout=60,
        )
        await wait_until(lambda: known("buyer_ref", "buyer_id", buyer_id), bool, timeout=60)
        drafted = await invoicing.get(
            "/v1/invoices", params={"customer_id": str(factory_id), "status": "draft"}, headers=finance(test_platform)
        )
        (package,) = drafted.json()["items"]  # enrolment drafted the service package of cycle 1
        assert package["cycle"] == 1 and package["lines"][0]["service"] == "service_package"

        # The buyer is linked and the factory consents (partnerships' own API).
        await wait_until(
            lambda: fetch(
                test_platform,
                "partnerships",
                "SELECT 1 FROM partnerships.factory_ref WHERE factory_id = $1",
                factory_id,
            ),
            bool,
            timeout=60,
        )
        link = await partnerships.post(
            "/v1/sourcing-links",
            json={"buyer_id": str(buyer_id), "factory_id": str(factory_id)},
            headers=buyer(test_platform, buyer_id),
        )
        confirmed = await partnerships.post(
            f"/v1/sourcing-links/{link.json()['id']}/confirm", headers=factory(test_platform, factory_id)
        )
        assert confirmed.json()["status"] == "confirmed", confirmed.text
        consent = await partnerships.post(
            f"/v1/factories/{factory_id}/consents",
            json={"buyer_id": str(buyer_id), "scopes": ["assessment_reports"]},
            headers=factory(test_platform, factory_id),
        )
        assert consent.status_code == 201, consent.text

        # The factory's first assessment is released: the buyer may not read it before buying access.
        await wait_until(lambda: status_in_assessments(test_platform, factory_id), lambda s: s == "active", timeout=60)
        released = await released_assessment(assessments, as_staff, factory_id, platform=test_platform)
        aid = released["id"]
        as_buyer = buyer(test_platform, buyer_id)
        assert (await assessments.get(f"/v1/assessments/{aid}/report", headers=as_buyer)).status_code == 404

        # The buyer buys ten credits: an invoice in its registered name, at the 10-20 tier.
        bought = await invoicing.post(
            "/v1/wallet/purchases", json={"quantity": 10, "country": "KH"}, headers=buyer(test_platform, buyer_id)
        )
        assert bought.status_code == 201, bought.text
        invoice = bought.json()["invoice"]
        assert invoice["customer"]["name"] == "Nordic Outdoor" and invoice["total_minor"] == 10 * 130000
        refused = await invoicing.post(
            "/v1/wallet/spends",
            json={"factory_id": str(factory_id), "cycle": 1},
            headers=buyer(test_platform, buyer_id),
        )
        assert refused.status_code == 409  # not paid yet: no credit to spend

        paid = await invoicing.post(
            "/v1/payments",
            json={
                "amount": "13000.00",
                "currency": "USD",
                "received_on": date.today().isoformat(),
                "invoice_id": invoice["id"],
            },
            headers=finance(test_platform),
        )
        assert paid.json()["invoices"][0]["status"] == "paid", paid.text
        spent = await invoicing.post(
            "/v1/wallet/spends",
            json={"factory_id": str(factory_id), "cycle": 1},
            headers=buyer(test_platform, buyer_id),
        )
        assert spent.status_code == 201, spent.text
        wallet = (await invoicing.get("/v1/wallet", headers=buyer(test_platform, buyer_id))).json()
        assert wallet["balance"] == 9

        # Partnerships receives `entitlement.purchased` and grants the buyer access to cycle 1.
        async def access() -> list[dict[str, Any]]:
            answer = await partnerships.get(
                "/v1/report-access", params={"buyer_id": str(buyer_id), "factory_id": str(factory_id)}, headers=as_staff
            )
            decided: list[dict[str, Any]] = answer.json()
            return decided

        decided = await wait_until(access, lambda rows: any(r["granted"] for r in rows), timeout=60)
        assert [(d["cycle"], d["granted"]) for d in decided] == [(1, True)]

        # Assessments hears the grant: the buyer reads cycle 1's released report.
        async def buyer_reads() -> int:
            return (await assessments.get(f"/v1/assessments/{aid}/report", headers=as_buyer)).status_code

        assert await wait_until(buyer_reads, lambda status: status == 200, timeout=60) == 200
