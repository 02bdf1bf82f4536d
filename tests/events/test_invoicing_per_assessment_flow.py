"""Assessments and invoicing through real events: in a country whose price list charges per assessment, staff
schedule an assessment and its factory is invoiced for it; moving the visit changes nothing financial;
cancelling it voids the unpaid charge by a credit note. Finance staff and the factory read it back over HTTP.
Nicaragua ("NI") is the per-assessment country here (its tool is the shipped one, published as Nicaragua's)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import yaml

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit import assessments as assessments_kit
from devstack.testkit import invoicing as invoicing_kit
from devstack.testkit.access import factory, staff
from devstack.testkit.events import on
from devstack.testkit.registry import random_word
from devstack.testkit.waiting import metric_value, wait_until

COUNTRY = "NI"
PER_ASSESSMENT = [
    {"service": "assessment", "description": "Compliance assessment", "unit_price": "3500.00"},
    {"service": "advisory_day", "description": "Advisory day", "unit_price": "350.00"},
]


async def test_a_scheduled_assessment_is_invoiced_and_its_cancellation_voids_the_charge(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    common = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    as_staff, as_finance = staff(test_platform, COUNTRY), invoicing_kit.finance(test_platform, COUNTRY)
    async with (
        serve_in_process(test_platform.app("assessments", **common)) as assessments,
        serve_in_process(test_platform.app("invoicing", **common, overdue_sweep_enabled=False)) as invoicing,
    ):
        await invoicing_kit.price_list(invoicing, as_staff, COUNTRY, items=PER_ASSESSMENT)
        tool = {
            **assessments_kit.kh_tool(),
            "country": COUNTRY,
            "label": f"NI garment {random_word(6)}",
            "effective_from": "2020-01-01",
        }
        yaml_headers = {**as_staff, "Content-Type": "application/yaml"}
        imported = await assessments.post("/v1/tools", content=yaml.safe_dump(tool), headers=yaml_headers)
        assert imported.status_code == 201, imported.text
        published = await assessments.post(f"/v1/tools/{imported.json()['id']}/publish", headers=as_staff)
        assert published.status_code == 200, published.text
        # The same factory as the registry's events leave it in each service's read model.
        factory_id = await assessments_kit.known_factory(test_platform, country=COUNTRY)
        await invoicing_kit.known_factory(test_platform, country=COUNTRY, factory_id=factory_id)

        start = date.today() + timedelta(days=21)
        assessment = await assessments_kit.schedule(
            assessments,
            as_staff,
            factory_id,
            start_date=start.isoformat(),
            end_date=(start + timedelta(days=1)).isoformat(),
        )

        async def charges() -> list[dict[str, Any]]:
            answer = await invoicing.get("/v1/invoices", params={"assessment_id": assessment["id"]}, headers=as_finance)
            items: list[dict[str, Any]] = answer.json()["items"]
            return items

        (charge,) = await wait_until(charges, bool, timeout=60)
        assert charge["status"] == "issued" and charge["customer"]["id"] == str(factory_id)
        assert charge["lines"][0]["assessment_id"] == assessment["id"] and charge["total_minor"] == 350000
        as_factory = factory(test_platform, factory_id, COUNTRY)
        seen = await invoicing.get(f"/v1/invoices/{charge['id']}", headers=as_factory)
        assert seen.status_code == 200 and seen.json()["number"] == charge["number"]
        other = await invoicing.get(
            f"/v1/invoices/{charge['id']}", headers=factory(test_platform, uuid.uuid4(), COUNTRY)
        )
        assert other.status_code == 404

        moved = await assessments.post(
            f"/v1/assessments/{assessment['id']}/reschedule",
            json={
                "start_date": (start + timedelta(days=7)).isoformat(),
                "end_date": (start + timedelta(days=8)).isoformat(),
                "reason": "The factory asked for a later week",
            },
            headers=as_staff,
        )
        assert moved.status_code == 200, moved.text
        called_off = await assessments.post(
            f"/v1/assessments/{assessment['id']}/cancellation",
            json={"reason": "Factory closed for renovation"},
            headers=as_staff,
        )
        assert called_off.status_code == 200, called_off.text

        async def status() -> str:
            found: str = (await invoicing.get(f"/v1/invoices/{charge['id']}", headers=as_factory)).json()["status"]
            return found

        assert await wait_until(status, lambda s: s == "void", timeout=60) == "void"
        detail = (await invoicing.get(f"/v1/invoices/{charge['id']}", headers=as_factory)).json()
        # The move changed nothing financial: the same document, priced as scheduled; the cancellation credited it.
        assert detail["document_hash"] == charge["document_hash"] and detail["total_minor"] == 350000
        (note,) = detail["credit_notes"]
        assert note["total_minor"] == 350000 and note["preceding_number"] == charge["number"]
        assert note["reason"] == "Assessment cancelled: Factory closed for renovation"
        assert metric_value((await invoicing.get("/metrics")).text, "events_dead_lettered_total") == 0
