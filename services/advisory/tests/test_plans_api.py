"""Improvement plans over HTTP against real Postgres: built from `assessment.released` without anyone typing the
items, the item lifecycle per role, verification, recurrence after a new assessment, zero-tolerance cases,
evidence, progress figures, access per role."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from betterwork_contracts.events.assessments import ZeroToleranceCaseOpened
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import as_role, buyer, factory, staff
from devstack.testkit.advisory import deliver, items_of, known_factory, non_compliance, plan_of, released
from devstack.testkit.database import fetch
from servicekit.auth import Role

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("advisory", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


FINDINGS = [
    non_compliance("KH-CL-01", zero_tolerance=True, publicly_reported=True, compliance_point="CL-CHILD"),
    non_compliance("KH-OSH-03", publicly_reported=True, workers_affected=40),
    non_compliance("KH-WT-07", compliance_point="WT-OVERTIME", workers_affected=12),
]


async def outbox(platform: TestPlatform, plan_id: str) -> list[dict[str, Any]]:
    rows = await fetch(
        platform, "advisory", "SELECT type, payload FROM advisory.outbox WHERE aggregateid = $1 ORDER BY seq", plan_id
    )
    return [{"type": r["type"].split(".")[-3:-1], "payload": json.loads(r["payload"])} for r in rows]


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], item_id: str, to: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/improvement-items/{item_id}/transitions", json={"to": to, **body}, headers=headers)


async def test_a_released_assessment_becomes_a_plan_with_one_item_per_non_compliance(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    event = released(factory_id, FINDINGS, released_on=date(2026, 10, 1))
    await deliver(test_platform, event, event)  # a redelivery creates nothing twice

    plan = await plan_of(client, staff(test_platform), factory_id)
    assert (plan["cycle"], plan["assessment_id"], plan["pr1_due"]) == (1, str(event.assessment_id), "2026-10-31")
    items = await items_of(client, staff(test_platform), plan["id"])
    assert set(items) == {"KH-CL-01", "KH-OSH-03", "KH-WT-07"}
    zt, public, plain = items["KH-CL-01"], items["KH-OSH-03"], items["KH-WT-07"]
    assert (zt["severity"], zt["due_date"], zt["needs_verification"]) == ("zero_tolerance", "2026-10-08", True)
    assert (public["severity"], public["due_date"], public["workers_affected"]) == (
        "publicly_reported",
        "2026-10-31",
        40,
    )
    assert (plain["severity"], plain["due_date"], plain["needs_verification"]) == ("standard", "2026-12-30", False)
    assert all(i["status"] == "open" and i["source"] == "assessment" for i in items.values())
    assert zt["overdue"] is True  # released on 1 October, due within 7 days
    (created,) = await outbox(test_platform, plan["id"])
    assert created["type"] == ["improvement_plan", "created"] and created["payload"]["item_count"] == 3

    # the finalised event repeats the same non-compliances: nothing new
    await deliver(
        test_platform, released(factory_id, FINDINGS, released_on=date(2026, 10, 1), assessment_id=event.assessment_id)
    )
    assert len(await items_of(client, staff(test_platform), plan["id"])) == 3


async def test_the_item_lifecycle_per_role_with_verification(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    await deliver(test_platform, released(factory_id, FINDINGS))
    as_factory, as_staff = factory(test_platform, factory_id), staff(test_platform)
    plan = await plan_of(client, as_factory, factory_id)
    items = await items_of(client, as_factory, plan["id"])
    public = items["KH-OSH-03"]["id"]

    described = await client.patch(
        f"/v1/improvement-items/{public}",
        json={
            "root_cause_category": "equipment",
            "root_cause": "no extraction at the spraying line",
            "corrective_action": "install local exhaust",
            "preventive_action": "monthly check by the OSH committee",
            "owner": "PICC OSH sub-committee",
        },
        headers=as_factory,
    )
    assert described.status_code == 200, described.text
    later = await client.patch(f"/v1/improvement-items/{public}", json={"due_date": "2027-06-01"}, headers=as_factory)
    assert later.status_code == 409  # only advisors move a due date

    assert (await move(client, as_factory, public, "in_progress")).status_code == 200
    assert (await move(client, as_factory, public, "reported_done")).json()["counts_as_fixed"] is False
    refused = await move(client, as_factory, public, "verified")
    assert refused.status_code == 409 and "advisor" in refused.json()["detail"]
    verified = await move(client, as_staff, public, "verified")
    assert verified.status_code == 200 and verified.json()["counts_as_fixed"] is True
    assert verified.json()["verified_by"] == "ea-dara"
    wrong = await move(client, as_staff, public, "in_progress")
    assert wrong.status_code == 409 and wrong.json()["current_status"] == "verified"

    plain = items["KH-WT-07"]["id"]
    assert (await move(client, as_factory, plain, "disputed")).status_code == 409  # needs a reason
    assert (await move(client, as_factory, plain, "disputed", reason="overtime was voluntary")).status_code == 200
    assert (await move(client, as_factory, plain, "waived", reason="agree")).status_code == 409
    waived = await move(client, as_staff, plain, "waived", reason="records show consent forms")
    assert (waived.json()["status"], waived.json()["waived_by"]) == ("waived", "ea-dara")

    detail = (await client.get(f"/v1/improvement-items/{public}", headers=as_factory)).json()
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        ("open", "in_progress"),
        ("in_progress", "reported_done"),
        ("reported_done", "verified"),
    ]
    events = await outbox(test_platform, plan["id"])
    kinds = [e["payload"]["status"] for e in events if e["type"][0] == "improvement_item"]
    assert kinds == ["in_progress", "reported_done", "verified", "disputed", "waived"]
    audit = await client.get(
        "/v1/audit-events", params={"entity_type": "improvement_item", "entity_id": public}, headers=as_staff
    )
    assert {"improvement_item.verified", "improvement_item.described"} <= {e["action"] for e in audit.json()["items"]}


async def test_a_later_assessment_reopens_fixed_items_and_marks_them_recurring(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    await deliver(test_platform, released(factory_id, FINDINGS))
    as_staff, as_factory = staff(test_platform), factory(test_platform, factory_id)
    first = await plan_of(client, as_staff, factory_id)
    items = await items_of(client, as_staff, first["id"])
    public = items["KH-OSH-03"]["id"]
    for to, who in (("reported_done", as_factory), ("verified", as_staff)):
        assert (await move(client, who, public, to)).status_code == 200

    await deliver(test_platform, released(factory_id, FINDINGS[1:2], cycle=2))

    reopened = (await client.get(f"/v1/improvement-items/{public}", headers=as_staff)).json()
    assert (reopened["status"], reopened["recurring"], reopened["recurrences"]) == ("reopened", True, 1)
    assert reopened["verified_by"] is None and reopened["history"][-1]["to_status"] == "reopened"
    plans = (await client.get("/v1/improvement-plans", params={"factory_id": str(factory_id)}, headers=as_staff)).json()
    second = next(p for p in plans["items"] if p["cycle"] == 2)
    (again,) = (await items_of(client, as_staff, second["id"])).values()
    assert (again["question_code"], again["recurring"], again["status"]) == ("KH-OSH-03", True, "open")


async def test_a_zero_tolerance_case_becomes_an_item(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    before = ZeroToleranceCaseOpened(
        case_id=uuid.uuid4(),
        factory_id=factory_id,
        country="KH",
        category="forced_labour",
        source="hotline",
        opened_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    await deliver(test_platform, before)  # no plan yet: the case waits for the first one
    await deliver(test_platform, released(factory_id, FINDINGS[2:]))
    plan = await plan_of(client, staff(test_platform), factory_id)
    items = await items_of(client, staff(test_platform), plan["id"])
    case_item = items["Zero-tolerance case: forced labour"]
    assert (case_item["source"], case_item["case_id"], case_item["severity"]) == (
        "case",
        str(before.case_id),
        "zero_tolerance",
    )
    after = before.model_copy(update={"case_id": uuid.uuid4(), "category": "imminent_danger"})
    await deliver(test_platform, after, after)
    items = await items_of(client, staff(test_platform), plan["id"])
    assert "Zero-tolerance case: imminent danger" in items and len(items) == 3


async def test_self_diagnosis_plan_and_evidence(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    as_factory = factory(test_platform, factory_id)
    opened = await client.post(
        "/v1/improvement-plans", json={"factory_id": str(factory_id), "cycle": 1}, headers=as_factory
    )
    assert opened.status_code == 201, opened.text
    twice = await client.post(
        "/v1/improvement-plans", json={"factory_id": str(factory_id), "cycle": 1}, headers=as_factory
    )
    assert twice.status_code == 409
    other = await client.post(
        "/v1/improvement-plans",
        json={"factory_id": str(await known_factory(test_platform)), "cycle": 1},
        headers=as_factory,
    )
    assert other.status_code == 404
    plan_id = opened.json()["id"]
    item = await client.post(
        f"/v1/improvement-plans/{plan_id}/items",
        json={"title": "Blocked fire exit on floor 2", "owner": "Safety officer", "root_cause_category": "awareness"},
        headers=as_factory,
    )
    assert item.status_code == 201, item.text
    assert (item.json()["source"], item.json()["severity"]) == ("self_diagnosis", "standard")
    content = b"photo of the cleared exit"
    attached = await client.post(
        f"/v1/improvement-items/{item.json()['id']}/evidence",
        json={
            "file_name": "exit.png",
            "content_type": "image/png",
            "content_base64": base64.b64encode(content).decode(),
        },
        headers=as_factory,
    )
    assert attached.status_code == 201, attached.text
    assert attached.json()["sha256"] == hashlib.sha256(content).hexdigest()
    refused = await client.post(
        f"/v1/improvement-items/{item.json()['id']}/evidence",
        json={"file_name": "x.exe", "content_type": "application/x-msdownload", "content_base64": "AAAA"},
        headers=as_factory,
    )
    assert refused.status_code == 422
    photo = bytes(range(256)) * (1_900_000 // 256)  # a 1.9 MB photo: 2.5 MB as base64, over the 1 MB default cap
    large = await client.post(
        f"/v1/improvement-items/{item.json()['id']}/evidence",
        json={
            "file_name": "floor.jpg",
            "content_type": "image/jpeg",
            "content_base64": base64.b64encode(photo).decode(),
        },
        headers=as_factory,
    )
    assert large.status_code == 201, large.text
    too_large = await client.post(
        f"/v1/improvement-items/{item.json()['id']}/evidence",
        json={"file_name": "big.jpg", "content_type": "image/jpeg", "content_base64": "A" * 4_000_000},
        headers=as_factory,
    )
    assert too_large.status_code == 413
    detail = (await client.get(f"/v1/improvement-items/{item.json()['id']}", headers=staff(test_platform))).json()
    assert [e["file_name"] for e in detail["evidence"]] == ["exit.png", "floor.jpg"]
    file_url = f"/v1/improvement-items/{item.json()['id']}/evidence/{attached.json()['id']}"
    downloaded = await client.get(file_url, headers=staff(test_platform))
    assert (downloaded.status_code, downloaded.content) == (200, content)
    assert downloaded.headers["content-type"] == "image/png"
    assert (await client.get(file_url, headers=factory(test_platform, uuid.uuid4()))).status_code == 404

    # a later release of the cycle fills in the plan opened by hand
    event = released(factory_id, FINDINGS[2:])
    await deliver(test_platform, event)
    plan = (await client.get(f"/v1/improvement-plans/{plan_id}", headers=as_factory)).json()
    assert plan["assessment_id"] == str(event.assessment_id)
    assert len(await items_of(client, as_factory, plan_id)) == 2


async def test_progress_figures_of_a_plan_and_a_country(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform, country="HT")
    await deliver(test_platform, released(factory_id, FINDINGS, country="HT"))
    as_staff, as_factory = staff(test_platform, "HT"), factory(test_platform, factory_id, "HT")
    plan = await plan_of(client, as_staff, factory_id)
    items = await items_of(client, as_staff, plan["id"])
    # weights: KH-CL-01 zero tolerance 3 x 1; KH-OSH-03 public 2 x 40 = 80; KH-WT-07 standard 1 x 12 = 12
    for code in ("KH-OSH-03", "KH-WT-07"):
        assert (await move(client, as_factory, items[code]["id"], "reported_done")).status_code == 200
    figures = (await client.get(f"/v1/improvement-plans/{plan['id']}/progress", headers=as_factory)).json()
    assert figures["weight"] == 95
    assert figures["reported_fixed_share"] == round(92 / 95, 4)
    assert figures["verified_fixed_share"] == 0.0
    assert figures["fixed_share"] == round(12 / 95, 4)  # the public item awaits verification
    assert (await move(client, as_staff, items["KH-OSH-03"]["id"], "verified")).status_code == 200
    figures = (await client.get(f"/v1/improvement-plans/{plan['id']}/progress", headers=as_staff)).json()
    assert (figures["verified_fixed_share"], figures["fixed_share"]) == (round(80 / 95, 4), round(92 / 95, 4))

    yesterday = (date.today() - timedelta(days=1)).isoformat()
    history = await client.get(
        f"/v1/improvement-plans/{plan['id']}/progress/history",
        params={"from": yesterday, "every_days": 1},
        headers=as_factory,
    )
    assert history.status_code == 200, history.text
    before, now = history.json()
    assert (before["day"], before["reported_fixed_share"], before["verified_fixed_share"]) == (yesterday, 0.0, 0.0)
    assert (now["reported_fixed_share"], now["verified_fixed_share"]) == (round(92 / 95, 4), round(80 / 95, 4))
    too_long = await client.get(
        f"/v1/improvement-plans/{plan['id']}/progress/history",
        params={"from": "2020-01-01", "every_days": 1},
        headers=as_factory,
    )
    assert too_long.status_code == 422

    country = await client.get("/v1/progress/countries/HT", headers=as_staff)
    assert country.status_code == 200 and country.json()["weight"] >= 95
    constituent = as_role(test_platform, Role.CONSTITUENT, country="HT", subject="union-ht")
    assert (await client.get("/v1/progress/countries/HT", headers=constituent)).status_code == 200
    assert (await client.get("/v1/progress/countries/HT", headers=staff(test_platform, "KH"))).status_code == 404


async def test_who_sees_and_changes_a_plan(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    factory_id = await known_factory(test_platform)
    await deliver(test_platform, released(factory_id, FINDINGS))
    plan = await plan_of(client, staff(test_platform), factory_id)
    item_id = (await items_of(client, staff(test_platform), plan["id"]))["KH-WT-07"]["id"]
    strangers = [
        factory(test_platform, uuid.uuid4()),
        buyer(test_platform, uuid.uuid4()),
        staff(test_platform, "VN"),
    ]
    for headers in strangers:
        assert (await client.get(f"/v1/improvement-plans/{plan['id']}", headers=headers)).status_code == 404
        assert (await client.get(f"/v1/improvement-items/{item_id}", headers=headers)).status_code == 404
        assert (await move(client, headers, item_id, "in_progress")).status_code == 404
        listed = await client.get("/v1/improvement-plans", params={"factory_id": str(factory_id)}, headers=headers)
        assert listed.json()["items"] == []
    assert (await client.get(f"/v1/improvement-plans/{plan['id']}")).status_code == 401
