"""Settling refunds due through HTTP, with the refunds made the way they are made: a per-assessment charge paid,
then its assessment cancelled on a real broker. Finance staff of the country list them and settle each once,
refunded (day, method, reference) or set off against another open invoice of the factory as a payment; anyone
else is told they do not exist, and a refused settlement changes nothing. "QR" is this file's country."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from betterwork_contracts.base import IntegrationEvent
from betterwork_contracts.events.assessments import AssessmentCancelled, AssessmentScheduled
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff
from devstack.testkit.database import fetch
from devstack.testkit.events import cloudevent_headers, on, produce_raw
from devstack.testkit.invoicing import finance, known_factory, price_list
from devstack.testkit.waiting import wait_until

COUNTRY = "QR"
PER_ASSESSMENT = [{"service": "assessment", "description": "Compliance assessment", "unit_price": "3500.00"}]


@dataclass
class Refunds:
    client: httpx.AsyncClient
    platform: TestPlatform
    broker: TansuBroker
    prefix: str

    async def deliver(self, *events: IntegrationEvent) -> None:
        """The assessments service's events, in order; returns once invoicing applied them."""
        ids = []
        for event in events:
            headers = cloudevent_headers(event, source="/assessments", country=COUNTRY)
            await produce_raw(
                self.broker.bootstrap_servers,
                self.prefix + event.topic.name,
                [(event.aggregate_id.encode(), event.model_dump_json().encode(), headers)],
            )
            ids.append(dict(headers)["ce_id"].decode())

        async def applied() -> int:
            rows = await fetch(
                self.platform, "invoicing", "SELECT count(*) AS n FROM invoicing.inbox WHERE ce_id = ANY($1)", ids
            )
            n: int = rows[0]["n"]
            return n

        await wait_until(applied, lambda n: n == len(ids), timeout=30)

    async def charge(self, factory_id: uuid.UUID) -> tuple[AssessmentScheduled, dict[str, Any]]:
        event = scheduled(factory_id)
        await self.deliver(event)
        found = await self.client.get(
            "/v1/invoices", params={"assessment_id": str(event.assessment_id)}, headers=finance(self.platform, COUNTRY)
        )
        (invoice,) = found.json()["items"]
        return event, invoice

    async def pay(self, invoice_id: str, amount: str) -> None:
        paid = await self.client.post(
            "/v1/payments",
            json={
                "amount": amount,
                "currency": "USD",
                "received_on": date.today().isoformat(),
                "invoice_id": invoice_id,
            },
            headers=finance(self.platform, COUNTRY),
        )
        assert paid.status_code == 201, paid.text

    async def refund_due(self, factory_id: uuid.UUID) -> dict[str, Any]:
        """A factory's paid charge, its assessment then cancelled: the refund due that leaves (open)."""
        event, invoice = await self.charge(factory_id)
        await self.pay(invoice["id"], "3500.00")
        await self.deliver(cancelled(event))
        detail = await self.invoice(invoice["id"])
        (refund,) = detail["refunds_due"]
        return dict(refund)

    async def invoice(self, invoice_id: str) -> dict[str, Any]:
        found = await self.client.get(f"/v1/invoices/{invoice_id}", headers=finance(self.platform, COUNTRY))
        assert found.status_code == 200, found.text
        body: dict[str, Any] = found.json()
        return body

    async def get(self, refund_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(f"/v1/refunds-due/{refund_id}", headers=headers or finance(self.platform, COUNTRY))


@pytest.fixture
async def refunds(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> AsyncIterator[Refunds]:
    settings = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    app = test_platform.app("invoicing", **settings, overdue_sweep_enabled=False)
    async with serve_in_process(app) as client:
        await price_list(client, staff(test_platform, COUNTRY), COUNTRY, items=PER_ASSESSMENT)
        yield Refunds(client, test_platform, dedicated_broker, topic_prefix)


def scheduled(factory_id: uuid.UUID) -> AssessmentScheduled:
    start = date.today() + timedelta(days=14)
    return AssessmentScheduled(
        assessment_id=uuid.uuid4(),
        factory_id=factory_id,
        country=COUNTRY,
        cycle=1,
        assessment_type="initial",
        mode="announced",
        joint=False,
        tool_version_id=uuid.uuid4(),
        start_date=start,
        end_date=start + timedelta(days=1),
        scheduled_at=datetime.now(UTC),
    )


def cancelled(of: AssessmentScheduled) -> AssessmentCancelled:
    return AssessmentCancelled(
        assessment_id=of.assessment_id,
        factory_id=of.factory_id,
        country=COUNTRY,
        cycle=of.cycle,
        previous_status="scheduled",
        reason="Factory closed",
        cancelled_at=datetime.now(UTC),
    )


async def audit_actions(platform: TestPlatform, refund_id: str) -> list[str]:
    rows = await fetch(
        platform,
        "invoicing",
        "SELECT action FROM invoicing.audit_event WHERE entity_type = 'refund_due' AND entity_id = $1",
        refund_id,
    )
    return [r["action"] for r in rows]


async def test_a_refund_due_is_listed_for_finance_staff_and_refunded_once(
    refunds: Refunds, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country=COUNTRY)
    refund = await refunds.refund_due(factory_id)
    headers = finance(test_platform, COUNTRY)

    listed = await refunds.client.get(
        "/v1/refunds-due", params={"status": "open", "customer_id": str(factory_id)}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["id"] == refund["id"] and item["amount_minor"] == 350000 and item["status"] == "open"
    assert item["customer_kind"] == "factory" and item["customer_id"] == str(factory_id)

    # Only finance staff of the country see it: others are told it does not exist.
    for outsider in (
        staff(test_platform, COUNTRY),
        finance(test_platform, "KH"),
        factory(test_platform, factory_id, COUNTRY),
    ):
        answer = await refunds.get(refund["id"], outsider)
        assert answer.status_code in (403, 404), answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await refunds.get(refund["id"], staff(test_platform, COUNTRY))).status_code == 404
    assert (await refunds.get(refund["id"], finance(test_platform, "KH"))).status_code == 404
    other_country = await refunds.client.post(
        f"/v1/refunds-due/{refund['id']}/refund",
        json={"refunded_on": date.today().isoformat(), "method": "bank_transfer", "reference": "X"},
        headers=finance(test_platform, "KH"),
    )
    assert other_country.status_code == 404
    assert (await refunds.get(refund["id"])).json()["status"] == "open"

    body = {"refunded_on": date.today().isoformat(), "method": "bank_transfer", "reference": "ABA-20270121-0042"}
    done = await refunds.client.post(f"/v1/refunds-due/{refund['id']}/refund", json=body, headers=headers)
    assert done.status_code == 200, done.text
    settled = done.json()
    assert settled["status"] == "refunded" and settled["method"] == "bank_transfer"
    assert settled["reference"] == "ABA-20270121-0042" and settled["refunded_on"] == date.today().isoformat()
    assert settled["settled_by"] == "finance-mealea" and settled["set_off_invoice_id"] is None

    # Settling it again, either way, is refused and changes nothing.
    again = await refunds.client.post(
        f"/v1/refunds-due/{refund['id']}/refund", json=body | {"reference": "second"}, headers=headers
    )
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    _, other = await refunds.charge(factory_id)
    set_off = await refunds.client.post(
        f"/v1/refunds-due/{refund['id']}/set-off", json={"invoice_id": other["id"]}, headers=headers
    )
    assert set_off.status_code == 409
    assert (await refunds.get(refund["id"])).json() == settled
    assert (await refunds.invoice(other["id"]))["amount_due_minor"] == 350000
    assert await audit_actions(test_platform, refund["id"]) == ["refund.refunded"]

    assert (
        await refunds.client.get(
            "/v1/refunds-due", params={"status": "open", "customer_id": str(factory_id)}, headers=headers
        )
    ).json()["items"] == []
    refunded = await refunds.client.get(
        "/v1/refunds-due", params={"status": "refunded", "customer_id": str(factory_id)}, headers=headers
    )
    assert [r["id"] for r in refunded.json()["items"]] == [refund["id"]]
    assert (await refunds.client.get("/v1/refunds-due", headers=staff(test_platform, COUNTRY))).status_code == 403
    # The invoice it came from lists it as settled.
    (listed_on_invoice,) = (await refunds.invoice(settled["invoice_id"]))["refunds_due"]
    assert listed_on_invoice["status"] == "refunded"


async def test_a_refund_due_set_off_pays_another_invoice_of_the_factory_never_more_than_it_owes(
    refunds: Refunds, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country=COUNTRY)
    stranger = await known_factory(test_platform, country=COUNTRY)
    headers = finance(test_platform, COUNTRY)
    refund = await refunds.refund_due(factory_id)
    _, owed = await refunds.charge(factory_id)
    await refunds.pay(owed["id"], "3000.00")  # 500.00 still owed
    _, strangers = await refunds.charge(stranger)

    refused = [
        (refund["invoice_id"], 409),  # the credited invoice itself
        (strangers["id"], 409),  # another customer's invoice
        (str(uuid.uuid4()), 404),
    ]
    for invoice_id, status in refused:
        answer = await refunds.client.post(
            f"/v1/refunds-due/{refund['id']}/set-off", json={"invoice_id": invoice_id}, headers=headers
        )
        assert answer.status_code == status, (invoice_id, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await refunds.invoice(strangers["id"]))["amount_due_minor"] == 350000
    assert (await refunds.get(refund["id"])).json()["status"] == "open"

    done = await refunds.client.post(
        f"/v1/refunds-due/{refund['id']}/set-off", json={"invoice_id": owed["id"]}, headers=headers
    )
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["allocated_minor"] == 50000 and result["unallocated_minor"] == 300000
    assert result["refund_due"]["status"] == "set_off" and result["refund_due"]["set_off_invoice_id"] == owed["id"]
    invoice = await refunds.invoice(owed["id"])
    assert invoice["status"] == "paid" and invoice["amount_paid_minor"] == 350000 and invoice["amount_due_minor"] == 0
    set_off_payment = [p for p in invoice["payments"] if p["payment_id"] == result["refund_due"]["payment_id"]]
    assert [p["amount_minor"] for p in set_off_payment] == [50000]
    rows = await fetch(
        test_platform,
        "invoicing",
        "SELECT amount, unallocated FROM invoicing.payment WHERE id = $1",
        uuid.UUID(result["refund_due"]["payment_id"]),
    )
    assert [(r["amount"], r["unallocated"]) for r in rows] == [(350000, 300000)]
    paid_events = await fetch(
        test_platform,
        "invoicing",
        "SELECT count(*) AS n FROM invoicing.outbox WHERE aggregateid = $1 AND type LIKE '%invoice.paid%'",
        owed["id"],
    )
    assert paid_events[0]["n"] == 1

    again = await refunds.client.post(
        f"/v1/refunds-due/{refund['id']}/set-off", json={"invoice_id": strangers["id"]}, headers=headers
    )
    assert again.status_code == 409
    assert await audit_actions(test_platform, refund["id"]) == ["refund.set_off"]
