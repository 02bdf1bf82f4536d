"""Per-assessment charges through invoicing's consumer on a real broker and real Postgres, read back over HTTP by
finance staff and by the factory: a scheduled assessment is invoiced once, a cancelled one is voided by a credit
note (or, once paid, credited with the payment owed back), a moved one changes nothing, and only the assessments
service is believed. Nicaragua ("NI") is this file's per-assessment country: no other test prices it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from betterwork_contracts.base import IntegrationEvent
from betterwork_contracts.events.assessments import AssessmentCancelled, AssessmentRescheduled, AssessmentScheduled
from betterwork_contracts.events.registry import FactoryStatusChanged
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff
from devstack.testkit.database import fetch
from devstack.testkit.events import cloudevent_headers, on, produce_raw
from devstack.testkit.invoicing import finance, known_factory, price_list
from devstack.testkit.waiting import metric_value, wait_until

COUNTRY = "NI"
PER_ASSESSMENT = [
    {"service": "assessment", "description": "Compliance assessment", "unit_price": "3500.00"},
    {"service": "advisory_day", "description": "Advisory day", "unit_price": "350.00"},
]


@dataclass
class Invoicing:
    client: httpx.AsyncClient
    platform: TestPlatform
    broker: TansuBroker
    prefix: str

    async def deliver(self, event: IntegrationEvent, *, source: str = "/assessments") -> str:
        """Put `event` on its topic as `source`'s relay would; its CloudEvents id."""
        headers = cloudevent_headers(event, source=source, country=getattr(event, "country", None))
        topic = self.prefix + event.topic.name
        await produce_raw(
            self.broker.bootstrap_servers,
            topic,
            [(event.aggregate_id.encode(), event.model_dump_json().encode(), headers)],
        )
        event_id: str = dict(headers)["ce_id"].decode()
        return event_id

    async def handled(self, *event_ids: str) -> None:
        """Wait until the consumer has applied these events (their inbox rows exist)."""

        async def count() -> int:
            rows = await fetch(
                self.platform, "invoicing", "SELECT count(*) AS n FROM invoicing.inbox WHERE ce_id = ANY($1)", event_ids
            )
            n: int = rows[0]["n"]
            return n

        await wait_until(count, lambda n: n == len(event_ids), timeout=30)

    async def charges_of(self, assessment_id: uuid.UUID, country: str = COUNTRY) -> list[dict[str, Any]]:
        answer = await self.client.get(
            "/v1/invoices", params={"assessment_id": str(assessment_id)}, headers=finance(self.platform, country)
        )
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    async def detail(self, invoice_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.get(f"/v1/invoices/{invoice_id}", headers=headers)


@pytest.fixture
async def invoicing(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> AsyncIterator[Invoicing]:
    settings = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    app = test_platform.app("invoicing", **settings, overdue_sweep_enabled=False)
    async with serve_in_process(app) as client:
        await price_list(client, staff(test_platform, COUNTRY), COUNTRY, items=PER_ASSESSMENT)
        await price_list(client, staff(test_platform, "KH"), "KH")  # Cambodia charges per cycle
        yield Invoicing(client, test_platform, dedicated_broker, topic_prefix)


def scheduled(factory_id: uuid.UUID, *, country: str = COUNTRY, cycle: int = 1) -> AssessmentScheduled:
    start = date.today() + timedelta(days=14)
    return AssessmentScheduled(
        assessment_id=uuid.uuid4(),
        factory_id=factory_id,
        country=country,
        cycle=cycle,
        assessment_type="initial",
        mode="announced",
        joint=False,
        tool_version_id=uuid.uuid4(),
        start_date=start,
        end_date=start + timedelta(days=1),
        scheduled_at=datetime.now(UTC),
    )


def cancelled(of: AssessmentScheduled, reason: str = "Factory closed for Semana Santa") -> AssessmentCancelled:
    return AssessmentCancelled(
        assessment_id=of.assessment_id,
        factory_id=of.factory_id,
        country=of.country,
        cycle=of.cycle,
        previous_status="scheduled",
        reason=reason,
        cancelled_at=datetime.now(UTC),
    )


async def outbox_types(platform: TestPlatform, aggregate_id: str) -> list[str]:
    rows = await fetch(
        platform, "invoicing", "SELECT type FROM invoicing.outbox WHERE aggregateid = $1 ORDER BY seq", aggregate_id
    )
    return [".".join(r["type"].split(".")[-3:-1]) for r in rows]


async def test_a_scheduled_assessment_is_invoiced_once_to_its_factory_and_a_move_changes_nothing(
    invoicing: Invoicing, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country=COUNTRY)
    event = scheduled(factory_id)
    first = await invoicing.deliver(event)
    again = await invoicing.deliver(event)  # a replay under another event id: still one charge
    await invoicing.handled(first, again)

    (invoice,) = await invoicing.charges_of(event.assessment_id)
    assert invoice["status"] == "issued" and invoice["number"].startswith("BWG-INV-")
    assert invoice["customer"]["kind"] == "factory" and invoice["customer"]["id"] == str(factory_id)
    assert invoice["assessment_id"] == str(event.assessment_id) and invoice["cycle"] == 1
    (line,) = invoice["lines"]
    assert line["service"] == "assessment" and line["assessment_id"] == str(event.assessment_id)
    assert line["description"] == "Compliance assessment: initial assessment, cycle 1"
    assert invoice["total_minor"] == invoice["amount_due_minor"] == 350000
    assert await outbox_types(test_platform, invoice["id"]) == ["invoice.issued"]
    document = await invoicing.client.get(
        f"/v1/invoices/{invoice['id']}/document", headers=finance(test_platform, COUNTRY)
    )
    assert document.json()["InvoiceLines"][0]["DocumentReference"]["ID"] == str(event.assessment_id)

    # The factory reads its own charge; another factory and another country's staff are told it does not exist.
    own = await invoicing.detail(invoice["id"], factory(test_platform, factory_id, COUNTRY))
    assert own.status_code == 200 and own.json()["number"] == invoice["number"]
    listed = await invoicing.client.get("/v1/invoices", headers=factory(test_platform, factory_id, COUNTRY))
    assert [i["id"] for i in listed.json()["items"]] == [invoice["id"]]
    stranger = await invoicing.detail(invoice["id"], factory(test_platform, uuid.uuid4(), COUNTRY))
    assert stranger.status_code == 404 and stranger.headers["content-type"] == "application/problem+json"
    assert (await invoicing.detail(invoice["id"], staff(test_platform, "KH"))).status_code == 404

    moved = AssessmentRescheduled(
        assessment_id=event.assessment_id,
        factory_id=factory_id,
        country=COUNTRY,
        cycle=1,
        start_date=event.start_date + timedelta(days=7),
        end_date=event.end_date + timedelta(days=7),
        due_date=event.end_date + timedelta(days=35),
        previous_start_date=event.start_date,
        previous_end_date=event.end_date,
        reason="Peak season",
        rescheduled_at=datetime.now(UTC),
    )
    await invoicing.deliver(moved)
    later = scheduled(factory_id, cycle=2)  # same partition as nothing in particular: wait for it and the move
    await invoicing.handled(await invoicing.deliver(later))
    after = await invoicing.detail(invoice["id"], finance(test_platform, COUNTRY))
    for key in ("status", "total_minor", "amount_due_minor", "due_date", "version", "document_hash", "lines"):
        assert after.json()[key] == invoice[key], key
    assert [c["number"] for c in await invoicing.charges_of(later.assessment_id)] != []


async def test_only_the_assessments_service_is_believed(invoicing: Invoicing, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform, country=COUNTRY)
    forged = scheduled(factory_id)
    await invoicing.deliver(forged, source="/registry")  # the registry does not schedule assessments

    async def dead_letters() -> float:
        text = (await invoicing.client.get("/metrics")).text
        count: float = metric_value(text, "events_dead_lettered_total", reason="unexpected-source")
        return count

    assert await wait_until(dead_letters, lambda n: n >= 1, timeout=30) == 1
    assert await invoicing.charges_of(forged.assessment_id) == []


async def test_cancelled_before_payment_the_charge_is_voided_by_a_credit_note(
    invoicing: Invoicing, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country=COUNTRY)
    event = scheduled(factory_id)
    await invoicing.handled(await invoicing.deliver(event))
    (invoice,) = await invoicing.charges_of(event.assessment_id)

    first = await invoicing.deliver(cancelled(event))
    again = await invoicing.deliver(cancelled(event))  # told twice: credited once
    await invoicing.handled(first, again)

    detail = (await invoicing.detail(invoice["id"], factory(test_platform, factory_id, COUNTRY))).json()
    assert detail["status"] == "void" and detail["amount_due_minor"] == 0 and detail["refund_due_minor"] == 0
    (note,) = detail["credit_notes"]
    assert note["type_code"] == "381" and note["number"].startswith("BWG-CN-")
    assert note["preceding_number"] == invoice["number"] and note["total_minor"] == 350000
    assert note["reason"] == "Assessment cancelled: Factory closed for Semana Santa"
    assert note["lines"][0]["assessment_id"] == str(event.assessment_id)
    assert detail["refunds_due"] == []
    assert await outbox_types(test_platform, invoice["id"]) == ["invoice.issued", "credit_note.issued"]
    payment = await invoicing.client.post(
        "/v1/payments",
        json={
            "amount": "3500.00",
            "currency": "USD",
            "received_on": date.today().isoformat(),
            "invoice_id": invoice["id"],
        },
        headers=finance(test_platform, COUNTRY),
    )
    assert payment.status_code == 409  # nothing is due on a void charge


async def test_cancelled_after_payment_the_charge_is_credited_and_the_payment_is_owed_back(
    invoicing: Invoicing, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country=COUNTRY)
    event = scheduled(factory_id)
    await invoicing.handled(await invoicing.deliver(event))
    (invoice,) = await invoicing.charges_of(event.assessment_id)
    paid = await invoicing.client.post(
        "/v1/payments",
        json={
            "amount": "3500.00",
            "currency": "USD",
            "received_on": date.today().isoformat(),
            "invoice_id": invoice["id"],
        },
        headers=finance(test_platform, COUNTRY),
    )
    assert paid.status_code == 201, paid.text

    await invoicing.handled(await invoicing.deliver(cancelled(event, "Duplicate booking")))

    detail = (await invoicing.detail(invoice["id"], factory(test_platform, factory_id, COUNTRY))).json()
    assert detail["status"] == "paid"  # settled: what was charged is credited, what was paid stays recorded
    assert detail["amount_paid_minor"] == detail["amount_credited_minor"] == 350000
    assert detail["amount_due_minor"] == 0 and detail["refund_due_minor"] == 350000
    (note,) = detail["credit_notes"]
    (refund,) = detail["refunds_due"]
    assert refund["credit_note_id"] == note["id"] and refund["amount_minor"] == 350000
    assert refund["status"] == "open" and refund["reason"] == "Assessment cancelled: Duplicate booking"
    # `invoice.paid` once, from the payment; the credit note does not announce a second payment.
    assert await outbox_types(test_platform, invoice["id"]) == ["invoice.issued", "invoice.paid", "credit_note.issued"]
    (payload,) = [
        json.loads(r["payload"])
        for r in await fetch(
            test_platform,
            "invoicing",
            "SELECT payload FROM invoicing.outbox WHERE aggregateid = $1 AND type LIKE '%credit_note.issued%'",
            invoice["id"],
        )
    ]
    assert payload["invoice_status"] == "paid" and payload["amount_minor"] == 350000
    assert payload["credit_note_id"] == note["id"]


async def test_a_country_that_charges_per_cycle_charges_no_assessment_and_one_that_charges_per_assessment_no_package(
    invoicing: Invoicing, test_platform: TestPlatform
) -> None:
    kh_factory = await known_factory(test_platform, country="KH")
    kh_assessment = scheduled(kh_factory, country="KH")
    ni_factory = await known_factory(test_platform, country=COUNTRY)
    enrolled = FactoryStatusChanged(
        factory_id=ni_factory,
        version=4,  # the read model holds version 3
        country=COUNTRY,
        change="enrolled",
        status="enrolled",
        previous_status="registered",
        service_package="core",
        start_date=date.today(),
        changed_at=datetime.now(UTC),
    )
    await invoicing.handled(
        await invoicing.deliver(kh_assessment), await invoicing.deliver(enrolled, source="/registry")
    )
    assert await invoicing.charges_of(kh_assessment.assessment_id, "KH") == []
    for country, factory_id in (("KH", kh_factory), (COUNTRY, ni_factory)):
        listed = await invoicing.client.get(
            "/v1/invoices", params={"customer_id": str(factory_id)}, headers=finance(test_platform, country)
        )
        assert listed.json()["items"] == [], country
