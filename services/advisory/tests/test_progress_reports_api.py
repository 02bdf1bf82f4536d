"""Progress reports over HTTP against real Postgres: PR1 and PR2 issued from the plan as JSON and a PDF that
renders Khmer and Vietnamese, immutable once issued, and read by staff, the factory and buyers with access only."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import asyncpg
import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff
from devstack.testkit.advisory import access, deliver, items_of, known_factory, non_compliance, plan_of, released
from devstack.testkit.database import connect_as, fetch

pytestmark = pytest.mark.asyncio

NAME = "រោងចក្រ Ánh Dương may mặc"  # Khmer and Vietnamese in one name
RELEASED_ON = date.today() - timedelta(days=16)  # PR1 due in 14 days: issued today, it is on time


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("advisory", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def released_plan(platform: TestPlatform, client: httpx.AsyncClient) -> tuple[uuid.UUID, dict[str, str]]:
    factory_id = await known_factory(platform)
    conn = await connect_as(platform, "advisory")
    try:
        await conn.execute("UPDATE advisory.factory_ref SET name = $1 WHERE factory_id = $2", NAME, factory_id)
    finally:
        await conn.close()
    findings = [
        non_compliance("KH-OSH-03", publicly_reported=True, workers_affected=40),
        non_compliance("KH-WT-07", compliance_point="WT-OVERTIME", workers_affected=12),
    ]
    await deliver(platform, released(factory_id, findings, released_on=RELEASED_ON))
    return factory_id, await plan_of(client, staff(platform), factory_id)


async def test_pr1_is_issued_as_json_and_pdf_and_never_changes(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id, plan = await released_plan(test_platform, client)
    as_staff, as_factory = staff(test_platform), factory(test_platform, factory_id)
    item = (await items_of(client, as_factory, plan["id"]))["KH-WT-07"]
    moved = await client.post(
        f"/v1/improvement-items/{item['id']}/transitions", json={"to": "reported_done"}, headers=as_factory
    )
    assert moved.status_code == 200

    early = await client.post(
        f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr2"}, headers=as_staff
    )
    assert early.status_code == 409  # PR2 follows PR1
    by_factory = await client.post(
        f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr1"}, headers=as_factory
    )
    assert by_factory.status_code == 403
    issued = await client.post(
        f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr1"}, headers=as_staff
    )
    assert issued.status_code == 201, issued.text
    report = issued.json()
    assert (report["kind"], report["cycle"]) == ("pr1", 1)
    assert report["due_date"] == (RELEASED_ON + timedelta(days=30)).isoformat()

    content = (await client.get(f"/v1/progress-reports/{report['id']}", headers=as_factory)).json()
    assert content["factory"]["name"] == NAME
    assert content["progress"]["reported_fixed_share"] == round(12 / 92, 4)
    assert content["progress"]["fixed_share"] == round(12 / 92, 4)
    assert {i["question_code"]: i["status"] for i in content["items"]} == {
        "KH-OSH-03": "open",
        "KH-WT-07": "reported_done",
    }
    assert content["report"]["period"] == {"start": RELEASED_ON.isoformat(), "end": date.today().isoformat()}

    pdf = await client.get(f"/v1/progress-reports/{report['id']}/pdf", headers=as_staff)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and b"NotoSansKhmer" in pdf.content and b"NotoSans" in pdf.content
    assert pdf.headers["etag"] == f'"{report["sha256"]}"'

    again = await client.post(
        f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr1"}, headers=as_staff
    )
    assert again.status_code == 409
    conn = await connect_as(test_platform, "advisory")
    try:
        with pytest.raises(asyncpg.RaiseError, match="immutable"):
            await conn.execute("UPDATE advisory.progress_report SET issued_by = 'someone else' WHERE id = $1",
                               uuid.UUID(report["id"]))  # fmt: skip
    finally:
        await conn.close()

    (event,) = await fetch(
        test_platform,
        "advisory",
        "SELECT payload FROM advisory.outbox WHERE type LIKE '%progress_report.issued%' AND payload->>'report_id' = $1",
        report["id"],
    )
    payload = json.loads(event["payload"])
    assert (payload["kind"], payload["on_time"], payload["cycle"]) == ("pr1", True, 1)

    pr2 = await client.post(
        f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr2"}, headers=as_staff
    )
    assert pr2.status_code == 201, pr2.text


async def test_buyers_read_progress_reports_only_of_cycles_granted_to_them(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id, plan = await released_plan(test_platform, client)
    issued = await client.post(
        f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr1"}, headers=staff(test_platform)
    )
    report_id = issued.json()["id"]
    with_access, without_access, other_cycle = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await deliver(test_platform, access(factory_id, with_access, 1), access(factory_id, other_cycle, 2))

    allowed = buyer(test_platform, with_access)
    assert (await client.get(f"/v1/progress-reports/{report_id}", headers=allowed)).status_code == 200
    assert (await client.get(f"/v1/progress-reports/{report_id}/pdf", headers=allowed)).status_code == 200
    listed = (await client.get("/v1/progress-reports", headers=allowed)).json()["items"]
    assert [r["id"] for r in listed] == [report_id]
    for stranger in (buyer(test_platform, without_access), buyer(test_platform, other_cycle)):
        assert (await client.get(f"/v1/progress-reports/{report_id}", headers=stranger)).status_code == 404
        assert (await client.get(f"/v1/progress-reports/{report_id}/pdf", headers=stranger)).status_code == 404
        assert (await client.get("/v1/progress-reports", headers=stranger)).json()["items"] == []
    # buyers never see the plan itself, only its reports
    assert (await client.get(f"/v1/improvement-plans/{plan['id']}", headers=allowed)).status_code == 404

    await deliver(test_platform, access(factory_id, with_access, 1, granted=False))
    assert (await client.get(f"/v1/progress-reports/{report_id}", headers=allowed)).status_code == 404
    other_factory = factory(test_platform, uuid.uuid4())
    assert (await client.get(f"/v1/progress-reports/{report_id}", headers=other_factory)).status_code == 404
    assert (
        await client.get(f"/v1/progress-reports/{report_id}", headers=staff(test_platform, "VN"))
    ).status_code == 404


async def test_a_plan_without_a_released_report_has_no_progress_report(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    opened = await client.post(
        "/v1/improvement-plans", json={"factory_id": str(factory_id), "cycle": 1}, headers=staff(test_platform)
    )
    refused = await client.post(
        f"/v1/improvement-plans/{opened.json()['id']}/progress-reports",
        json={"kind": "pr1"},
        headers=staff(test_platform),
    )
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
