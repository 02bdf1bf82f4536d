"""Price lists and invoices over HTTP against real Postgres: every state change allowed and refused, gapless
numbering under concurrency, the documents (EN 16931 rules, UBL XML, PDF), overdue steps, who sees what."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import as_role, buyer, factory, staff
from devstack.testkit.database import connect_as, fetch
from devstack.testkit.invoicing import finance, known_factory, price_list
from invoicing.domain.document import digest, problems
from invoicing.service.overdue import sweep
from servicekit.auth import Role


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("invoicing", relay_enabled=False, consumer_enabled=False, overdue_sweep_enabled=False)
    async with serve_in_process(app) as c:
        await price_list(c, staff(test_platform))
        yield c


async def draft(
    client: httpx.AsyncClient, platform: TestPlatform, factory_id: uuid.UUID, **body: Any
) -> dict[str, Any]:
    payload = {
        "country": "KH",
        "customer_kind": "factory",
        "customer_id": str(factory_id),
        "lines": [{"service": "service_package", "quantity": 1}, {"service": "advisory_day", "quantity": 3}],
        **body,
    }
    created = await client.post("/v1/invoices", json=payload, headers=finance(platform))
    assert created.status_code == 201, created.text
    invoice: dict[str, Any] = created.json()
    return invoice


async def issued(
    client: httpx.AsyncClient, platform: TestPlatform, factory_id: uuid.UUID, **body: Any
) -> dict[str, Any]:
    invoice = await draft(client, platform, factory_id, **body)
    answer = await client.post(f"/v1/invoices/{invoice['id']}/issue", headers=finance(platform))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def pay(client: httpx.AsyncClient, platform: TestPlatform, invoice_id: str, amount: str) -> httpx.Response:
    return await client.post(
        "/v1/payments",
        json={"amount": amount, "currency": "USD", "received_on": "2027-01-15", "invoice_id": invoice_id},
        headers=finance(platform),
    )


async def outbox(platform: TestPlatform, aggregate_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await fetch(
        platform,
        "invoicing",
        "SELECT type, payload FROM invoicing.outbox WHERE aggregateid = $1 ORDER BY seq",
        aggregate_id,
    )
    return [(r["type"].split(".")[-3] + "." + r["type"].split(".")[-2], json.loads(r["payload"])) for r in rows]


async def test_a_draft_is_priced_from_the_list_and_keeps_its_prices(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    await price_list(client, staff(test_platform, "BD"), "BD")  # a country of its own: this test adds a version
    group = f"Group {uuid.uuid4().hex[:6]}"
    factories = [await known_factory(test_platform, country="BD", group_name=group) for _ in range(5)]
    created = await client.post(
        "/v1/invoices",
        json={
            "country": "BD",
            "customer_kind": "factory",
            "customer_id": str(factories[0]),
            "lines": [{"service": "service_package", "quantity": 1, "reduced_tariff": "small_factory"}],
            "cycle": 2,
        },
        headers=finance(test_platform, "BD"),
    )
    invoice = created.json()
    (line,) = invoice["lines"]
    assert invoice["status"] == "draft" and invoice["number"] is None and invoice["cycle"] == 2
    assert line["gross_minor"] == 420000
    assert [(d["reason"], d["amount_minor"]) for d in line["discounts"]] == [
        ("group", 21000),  # five factories of one group: 5%
        ("reduced_tariff:small_factory", 99750),  # then 25% of what is left
    ]
    assert line["net_minor"] == invoice["total_minor"] == 420000 - 21000 - 99750
    # a newer price list changes nothing already priced
    newer = await client.post(
        "/v1/price-lists",
        json={
            "country": "BD",
            "currency": "USD",
            "effective_from": (date.today() - timedelta(days=1)).isoformat(),
            "items": [{"service": "service_package", "description": "Core", "unit_price": "9999.00"}],
        },
        headers=staff(test_platform, "BD"),
    )
    assert newer.status_code == 201, newer.text
    again = await client.get(f"/v1/invoices/{invoice['id']}", headers=finance(test_platform, "BD"))
    assert again.json()["lines"][0]["unit_price_minor"] == 420000
    in_force = await client.get("/v1/price-lists/BD/in-force", headers=staff(test_platform, "BD"))
    assert in_force.json()["items"][0]["unit_price_minor"] == 999900


async def test_price_list_rules(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    body = {
        "country": "VN",
        "currency": "VND",
        "effective_from": "2027-01-01",
        "items": [{"service": "advisory_day", "description": "Advisory", "unit_price": "1500.5"}],
    }
    assert (await client.post("/v1/price-lists", json=body, headers=staff(test_platform, "VN"))).status_code == 422
    body["items"] = [{"service": "advisory_day", "description": "Advisory", "unit_price": "8000000"}]
    assert (await client.post("/v1/price-lists", json=body, headers=staff(test_platform, "KH"))).status_code == 403
    created = await client.post("/v1/price-lists", json=body, headers=staff(test_platform, "VN"))
    assert created.status_code == 201, created.text
    assert created.json()["items"][0]["unit_price_minor"] == 8_000_000  # VND has no minor unit
    assert (await client.post("/v1/price-lists", json=body, headers=staff(test_platform, "VN"))).status_code == 409
    gap = {**body, "effective_from": "2027-02-01"}
    gap["items"] = [
        {
            "service": "buyer_credit",
            "description": "Credit",
            "tiers": [
                {"min_quantity": 1, "max_quantity": 9, "unit_price": "1"},
                {"min_quantity": 11, "unit_price": "1"},
            ],
        }
    ]
    assert (await client.post("/v1/price-lists", json=gap, headers=staff(test_platform, "VN"))).status_code == 422
    assert (await client.get("/v1/price-lists/VN", headers=staff(test_platform, "KH"))).status_code == 404


async def test_issue_pay_in_parts_then_paid(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    invoice = await issued(client, test_platform, factory_id)
    assert invoice["status"] == "issued" and invoice["type_code"] == "380"
    assert re.fullmatch(r"BFC-INV-\d{4}-\d{6}", invoice["number"])
    assert invoice["due_date"] == (date.fromisoformat(invoice["issue_date"]) + timedelta(days=30)).isoformat()
    total = invoice["total_minor"]
    assert total == 420000 + 3 * 35000
    first = await pay(client, test_platform, invoice["id"], "1000.00")
    assert first.status_code == 201 and first.json()["invoices"][0]["status"] == "partially_paid"
    rest = await pay(client, test_platform, invoice["id"], f"{(total - 100000) / 100:.2f}")
    assert rest.json()["invoices"][0]["status"] == "paid" and rest.json()["unallocated_minor"] == 0
    again = await pay(client, test_platform, invoice["id"], "1.00")
    assert again.status_code == 409
    detail = (await client.get(f"/v1/invoices/{invoice['id']}", headers=finance(test_platform))).json()
    assert [p["amount_minor"] for p in detail["payments"]] == [100000, total - 100000]
    assert detail["amount_due_minor"] == 0
    events = await outbox(test_platform, invoice["id"])
    assert [kind for kind, _ in events] == ["invoice.issued", "invoice.paid"]
    assert events[1][1]["factory_id"] == str(factory_id) and events[1][1]["open_suspending_invoices"] == 0


async def test_refused_state_changes(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    invoice = await draft(client, test_platform, factory_id)
    url = f"/v1/invoices/{invoice['id']}"
    as_finance = finance(test_platform)
    assert (await pay(client, test_platform, invoice["id"], "1.00")).status_code == 409  # a draft takes no payment
    refused = await client.post(f"{url}/credit-notes", json={"reason": "x"}, headers=as_finance)
    assert refused.status_code == 409  # nor a credit note
    assert (await client.post(f"{url}/write-off", json={"reason": "x"}, headers=as_finance)).status_code == 409
    assert (await client.get(f"{url}/document", headers=as_finance)).status_code == 404  # no document yet
    plain_staff = staff(test_platform)
    assert (await client.post(f"{url}/issue", headers=plain_staff)).status_code == 403  # finance scope needed
    assert (await client.post(f"{url}/issue", headers=finance(test_platform, "VN"))).status_code in (403, 404)
    assert (await client.post(f"{url}/issue", headers=as_finance)).status_code == 200
    assert (await client.post(f"{url}/issue", headers=as_finance)).status_code == 409  # issued once
    paid = await pay(client, test_platform, invoice["id"], f"{invoice['total_minor'] / 100:.2f}")
    assert paid.status_code == 201
    for action, body in (("credit-notes", {"reason": "late"}), ("write-off", {"reason": "late"})):
        assert (await client.post(f"{url}/{action}", json=body, headers=as_finance)).status_code == 409
    too_much = await pay(client, test_platform, invoice["id"], "0.01")
    assert too_much.status_code == 409


async def test_a_credit_note_voids_an_unpaid_invoice_and_has_its_own_series(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    invoice = await issued(client, test_platform, factory_id)
    partial = await client.post(
        f"/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "One advisory day not delivered", "amount": "350.00"},
        headers=finance(test_platform),
    )
    assert partial.status_code == 201, partial.text
    note = partial.json()["credit_note"]
    assert note["type_code"] == "381" and note["number"].startswith("BFC-CN-")
    assert note["preceding_number"] == invoice["number"] and note["total_minor"] == 35000
    assert partial.json()["invoice"]["status"] == "issued"
    rest = await client.post(
        f"/v1/invoices/{invoice['id']}/credit-notes", json={"reason": "Agreement ended"}, headers=finance(test_platform)
    )
    assert rest.json()["invoice"]["status"] == "void" and rest.json()["invoice"]["amount_due_minor"] == 0
    document = (await client.get(f"/v1/invoices/{note['id']}/document", headers=finance(test_platform))).json()
    assert problems(document) == []
    assert document["BillingReference"]["InvoiceDocumentReference"]["ID"] == invoice["number"]
    kinds = [kind for kind, _ in await outbox(test_platform, invoice["id"])]
    assert kinds == ["invoice.issued", "credit_note.issued", "credit_note.issued"]


async def test_write_off(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    invoice = await issued(client, test_platform, factory_id)
    await pay(client, test_platform, invoice["id"], "100.00")
    written = await client.post(
        f"/v1/invoices/{invoice['id']}/write-off", json={"reason": "Factory closed"}, headers=finance(test_platform)
    )
    assert written.status_code == 200 and written.json()["status"] == "written_off"
    assert written.json()["amount_due_minor"] == 0
    events = await outbox(test_platform, invoice["id"])
    assert events[-1][0] == "invoice.written_off"
    assert events[-1][1]["amount_written_off_minor"] == invoice["total_minor"] - 10000


async def test_the_document_meets_en16931_and_renders_as_xml_and_pdf(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    invoice = await issued(client, test_platform, factory_id)
    url = f"/v1/invoices/{invoice['id']}/document"
    document = (await client.get(url, headers=finance(test_platform))).json()
    assert problems(document) == []
    assert digest(document) == invoice["document_hash"]
    assert document["ID"] == invoice["number"] and document["DocumentTypeCode"] == "380"
    assert document["DocumentCurrencyCode"] == "USD" and document["DueDate"] == invoice["due_date"]
    assert document["AccountingSupplierParty"]["PostalAddress"]["Country"] == "KH"
    assert document["AccountingCustomerParty"]["PostalAddress"]["Country"] == "KH"
    assert document["LegalMonetaryTotal"]["PayableAmount"] == f"{invoice['total_minor'] / 100:.2f}"
    assert problems({**document, "LegalMonetaryTotal": {**document["LegalMonetaryTotal"], "LineExtensionAmount": "1"}})
    assert problems({k: v for k, v in document.items() if k not in ("DueDate", "PaymentTerms")})
    xml = await client.get(f"{url}.xml", headers=finance(test_platform))
    root = ET.fromstring(xml.content)
    cbc = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    assert root.find(f"{cbc}ID").text == invoice["number"]  # type: ignore[union-attr]
    assert root.find(f"{cbc}InvoiceTypeCode").text == "380"  # type: ignore[union-attr]
    pdf = await client.get(f"{url}.pdf", headers=factory(test_platform, factory_id))
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    assert invoice["number"].encode() in pdf.content
    start = int(pdf.content.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf.content[start:].startswith(b"xref")


async def test_numbers_have_no_gap_and_no_duplicate_under_concurrency(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country="JO")
    await price_list(client, staff(test_platform, "JO"), "JO")
    drafts = []
    for _ in range(30):
        created = await client.post(
            "/v1/invoices",
            json={
                "country": "JO",
                "customer_kind": "factory",
                "customer_id": str(factory_id),
                "lines": [{"service": "advisory_day", "quantity": 1}],
            },
            headers=finance(test_platform, "JO"),
        )
        drafts.append(created.json()["id"])
    before = await fetch(test_platform, "invoicing", "SELECT max(number) AS n FROM invoice WHERE issuer = 'BWJ'")
    answers = await asyncio.gather(
        *(client.post(f"/v1/invoices/{i}/issue", headers=finance(test_platform, "JO")) for i in drafts)
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    numbers = sorted(int(a.json()["number"].rsplit("-", 1)[1]) for a in answers)
    first = int(before[0]["n"].rsplit("-", 1)[1]) + 1 if before[0]["n"] else 1
    assert numbers == list(range(first, first + 30))


async def test_overdue_steps_are_taken_once_from_the_due_date(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    invoice = await issued(client, test_platform, factory_id)
    due = date.fromisoformat(invoice["due_date"])
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    assert [s for s in await sweep(database, on=due) if str(s.invoice_id) == invoice["id"]] == []  # due, not late
    taken = await sweep(database, on=due + timedelta(days=46))
    mine = [(s.action, s.days_past_due) for s in taken if str(s.invoice_id) == invoice["id"]]
    assert mine == [("reminder", 46), ("reminder", 46), ("hold_reports", 46), ("suspend_factory", 46)]
    assert [s for s in await sweep(database, on=due + timedelta(days=47)) if str(s.invoice_id) == invoice["id"]] == []
    events = [p for kind, p in await outbox(test_platform, invoice["id"]) if kind == "invoice.overdue"]
    assert [e["action"] for e in events][-1] == "suspend_factory" and events[-1]["factory_id"] == str(factory_id)
    second = await issued(client, test_platform, factory_id)
    await sweep(database, on=date.fromisoformat(second["due_date"]) + timedelta(days=46))
    await pay(client, test_platform, invoice["id"], f"{invoice['total_minor'] / 100:.2f}")
    paid = [p for kind, p in await outbox(test_platform, invoice["id"]) if kind == "invoice.paid"]
    assert paid[0]["open_suspending_invoices"] == 1  # the second invoice still holds the suspension
    await pay(client, test_platform, second["id"], f"{second['total_minor'] / 100:.2f}")
    paid = [p for kind, p in await outbox(test_platform, second["id"]) if kind == "invoice.paid"]
    assert paid[0]["open_suspending_invoices"] == 0  # the registry may reactivate the factory now


async def test_nobody_sees_another_customers_invoices(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    mine, theirs = await known_factory(test_platform), await known_factory(test_platform)
    invoice = await issued(client, test_platform, theirs)
    url = f"/v1/invoices/{invoice['id']}"
    assert (await client.get(url, headers=factory(test_platform, theirs))).status_code == 200
    assert (await client.get(url, headers=factory(test_platform, mine))).status_code == 404
    assert (await client.get(url, headers=buyer(test_platform, uuid.uuid4()))).status_code == 404
    assert (await client.get(url, headers=staff(test_platform, "VN"))).status_code == 404
    assert (await client.get(f"{url}/document.pdf", headers=factory(test_platform, mine))).status_code == 404
    listed = await client.get("/v1/invoices", headers=factory(test_platform, mine))
    assert listed.json()["items"] == []
    own = await client.get("/v1/invoices", params={"status": "issued"}, headers=factory(test_platform, theirs))
    assert [i["id"] for i in own.json()["items"]] == [invoice["id"]]
    constituent = as_role(test_platform, Role.CONSTITUENT, country="KH")
    assert (await client.get(url, headers=constituent)).status_code == 403
    assert (await client.post("/v1/invoices", json={}, headers=factory(test_platform, mine))).status_code in (403, 422)


async def test_list_filters_and_cursor_pages(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    for _ in range(3):
        await issued(client, test_platform, factory_id)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"customer_id": str(factory_id), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/invoices", params=params, headers=finance(test_platform))).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 3
    overdue = await client.get(
        "/v1/invoices", params={"customer_id": str(factory_id), "overdue": True}, headers=finance(test_platform)
    )
    assert overdue.json()["items"] == []


async def test_every_write_is_audited(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    invoice = await issued(client, test_platform, factory_id)
    conn = await connect_as(test_platform, "invoicing")
    try:
        actions = [
            r["action"]
            for r in await conn.fetch(
                "SELECT action FROM invoicing.audit_event WHERE entity_id = $1 ORDER BY occurred_at", invoice["id"]
            )
        ]
    finally:
        await conn.close()
    assert actions == ["invoice.drafted", "invoice.issued"]
