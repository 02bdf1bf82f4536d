"""The publication cycle over HTTP against real Postgres: compute, review the differences, approve by a second
person, publish; refused moves; who may see what; a release that rebuilds byte for byte; the factory's reply."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff
from devstack.testkit.database import fetch
from devstack.testkit.transparency import deliver, finalised, item_changed, registered, release, staff_member

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("transparency", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def a_vietnamese_factory(platform: TestPlatform, name: str, results: dict[str, str]) -> uuid.UUID:
    event = registered("VN", name, province="Dong Nai")
    await deliver(platform, event, finalised(event.factory_id, "VN", results, reported={"VN-CL-01", "VN-OSH-02"}))
    factory_id: uuid.UUID = event.factory_id
    return factory_id


async def compute(client: httpx.AsyncClient, headers: dict[str, str], country: str = "VN") -> dict[str, Any]:
    body = {"country": country, "cut_off": datetime.now(UTC).date().isoformat()}
    response = await client.post("/v1/publications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_candidate_is_reviewed_approved_by_a_second_person_and_published(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await a_vietnamese_factory(
        test_platform,
        "Saigon Stitch",
        {"VN-CL-01": "compliant", "VN-OSH-02": "non_compliant", "VN-WT-09": "non_compliant"},
    )
    preparer = staff_member(test_platform, "VN", "ea-lan")
    reviewer = staff_member(test_platform, "VN", "ea-minh")
    approver = staff_member(test_platform, "VN", "tl-hoa")

    candidate = await compute(client, preparer)
    assert candidate["status"] == "candidate" and candidate["rule_set"] == "better-work-portal@1"
    diffs = (await client.get(f"/v1/publications/{candidate['id']}/differences", headers=preparer)).json()
    assert {"factory_id": str(factory_id), "name": "Saigon Stitch", "change": "listed", "details": []} in diffs
    # not public before approval
    assert (await client.get(f"/public/v1/factories/{factory_id}")).status_code == 404

    pid = candidate["id"]
    assert (await client.post(f"/v1/publications/{pid}/approve", headers=approver)).status_code == 409  # no review
    assert (await client.post(f"/v1/publications/{pid}/review", headers=reviewer)).status_code == 200
    assert (await client.post(f"/v1/publications/{pid}/review", headers=reviewer)).status_code == 409
    for same_person in (preparer, reviewer):
        refused = await client.post(f"/v1/publications/{pid}/approve", headers=same_person)
        assert refused.status_code == 403 and "second person" in refused.json()["detail"]
    approved = await client.post(f"/v1/publications/{pid}/approve", headers=approver)
    assert approved.status_code == 200, approved.text
    released = approved.json()
    assert (released["status"], released["approved_by"]) == ("released", "tl-hoa")
    assert released["release_number"] >= 1
    assert (
        await client.post(f"/v1/publications/{pid}/reject", json={"reason": "too late"}, headers=approver)
    ).status_code == 409

    page = (await client.get(f"/public/v1/factories/{factory_id}")).json()
    assert page["listed"] is True and page["latest_release"]["release_number"] == released["release_number"]
    issues = {i["question_code"]: i["result"] for i in page["current"]["issues"]}
    assert issues == {"VN-CL-01": "compliant", "VN-OSH-02": "non_compliant"}  # WT-09 is not publicly reported

    rows = await fetch(
        test_platform,
        "transparency",
        "SELECT type, payload FROM transparency.outbox WHERE type LIKE '%publication.released%'",
    )
    payloads = [json.loads(r["payload"]) for r in rows]
    mine = next(p for p in payloads if p["publication_id"] == pid)
    assert (mine["country"], mine["approved_by"], mine["content_hash"]) == ("VN", "tl-hoa", released["content_hash"])
    audit = await fetch(
        test_platform,
        "transparency",
        "SELECT action, actor FROM transparency.audit_event WHERE entity_id = $1 ORDER BY occurred_at",
        pid,
    )
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("publication.computed", "ea-lan"),
        ("publication.reviewed", "ea-minh"),
        ("publication.released", "tl-hoa"),
    ]


async def test_a_candidate_computed_before_another_release_cannot_be_approved(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    await a_vietnamese_factory(test_platform, "Stale Garment", {"VN-CL-01": "non_compliant"})
    first = await compute(client, staff_member(test_platform, "VN", "ea-a"))
    second = await compute(client, staff_member(test_platform, "VN", "ea-a"))
    for p in (first, second):
        assert (
            await client.post(f"/v1/publications/{p['id']}/review", headers=staff_member(test_platform, "VN", "ea-b"))
        ).status_code == 200
    approver = staff_member(test_platform, "VN", "tl-c")
    assert (await client.post(f"/v1/publications/{first['id']}/approve", headers=approver)).status_code == 200
    stale = await client.post(f"/v1/publications/{second['id']}/approve", headers=approver)
    assert stale.status_code == 409 and "compute a new candidate" in stale.json()["detail"]
    rejected = await client.post(f"/v1/publications/{second['id']}/reject", json={"reason": "stale"}, headers=approver)
    assert rejected.json()["status"] == "rejected"


async def test_only_staff_of_the_country_see_or_move_its_publications(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    candidate = await compute(client, staff_member(test_platform, "VN", "ea-a"))
    other_country = staff(test_platform, "KH")
    assert (await client.get(f"/v1/publications/{candidate['id']}", headers=other_country)).status_code == 404
    assert (await client.post(f"/v1/publications/{candidate['id']}/review", headers=other_country)).status_code == 404
    assert (
        await client.post("/v1/publications", json={"country": "VN", "cut_off": "2025-01-01"}, headers=other_country)
    ).status_code == 403
    listed = (await client.get("/v1/publications", headers=other_country)).json()["items"]
    assert all(p["country"] == "KH" for p in listed)
    assert (await client.get("/v1/publications", headers=factory(test_platform, uuid.uuid4()))).status_code == 403
    assert (await client.get("/v1/publications")).status_code == 401
    future = await client.post(
        "/v1/publications", json={"country": "VN", "cut_off": "2999-01-01"}, headers=staff(test_platform, "VN")
    )
    assert future.status_code == 422
    nowhere = await client.post(
        "/v1/publications", json={"country": "FR", "cut_off": "2025-01-01"}, headers=staff(test_platform, "FR")
    )
    assert nowhere.status_code == 422


async def test_a_release_rebuilds_byte_for_byte_and_cannot_be_changed(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await a_vietnamese_factory(test_platform, "Rebuild Ltd", {"VN-OSH-02": "non_compliant"})
    released = await release(client, test_platform, "VN")
    # more facts arrive after the release: a new assessment, a verification, a late event dated before the cut-off
    await deliver(
        test_platform,
        finalised(factory_id, "VN", {"VN-OSH-02": "compliant"}, cycle=2, on=date(2025, 9, 1)),
        item_changed(factory_id, "VN", "VN-OSH-02", "verified", at=datetime(2025, 4, 1, tzinfo=UTC)),
    )
    rebuilt = await client.post(f"/v1/publications/{released['id']}/rebuild", headers=staff(test_platform, "VN"))
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json()["matches"] is True and rebuilt.json()["content_hash"] == released["content_hash"]
    assert all(f["same_bytes"] for f in rebuilt.json()["files"])

    with pytest.raises(Exception, match="immutable"):
        await fetch(
            test_platform,
            "transparency",
            "UPDATE transparency.publication_file SET content = 'x' WHERE publication_id = $1",
            uuid.UUID(released["id"]),
        )
    with pytest.raises(Exception, match="immutable"):
        await fetch(
            test_platform,
            "transparency",
            "UPDATE transparency.publication SET approved_by = 'someone' WHERE id = $1",
            uuid.UUID(released["id"]),
        )

    # the next candidate sees the new facts, and its differences name the change
    candidate = await compute(client, staff_member(test_platform, "VN", "ea-x"))
    diffs = (
        await client.get(f"/v1/publications/{candidate['id']}/differences", headers=staff(test_platform, "VN"))
    ).json()
    mine = next(d for d in diffs if d["factory_id"] == str(factory_id))
    assert mine["change"] == "changed" and any(d.startswith("VN-OSH-02") for d in mine["details"])


async def test_the_factory_reply_is_shown_unverified_until_an_advisor_verifies(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await a_vietnamese_factory(test_platform, "Reply Co", {"VN-OSH-02": "non_compliant"})
    stranger = factory(test_platform, uuid.uuid4(), "VN")
    body = {"text": "The exit is clear now; photo at the gate."}
    assert (
        await client.put(f"/v1/factories/{factory_id}/replies/VN-OSH-02", json=body, headers=stranger)
    ).status_code == 404
    assert (
        await client.put(f"/v1/factories/{factory_id}/replies/VN-OSH-02", json=body, headers=staff(test_platform, "VN"))
    ).status_code == 403
    own = await client.put(
        f"/v1/factories/{factory_id}/replies/VN-OSH-02", json=body, headers=factory(test_platform, factory_id, "VN")
    )
    assert own.status_code == 200 and own.json()["shown_as"] == "unverified"

    await release(client, test_platform, "VN")
    issue = (await client.get(f"/public/v1/factories/{factory_id}")).json()["current"]["issues"][0]
    assert (issue["reply"], issue["reply_status"], issue["remediation"]) == (body["text"], "unverified", "")

    await deliver(test_platform, item_changed(factory_id, "VN", "VN-OSH-02", "verified", at=datetime.now(UTC)))
    await release(client, test_platform, "VN")
    page = (await client.get(f"/public/v1/factories/{factory_id}")).json()
    issue = page["current"]["issues"][0]
    assert (issue["reply_status"], issue["remediation"]) == ("verified", "verified")
    assert len(page["history"]) == 2  # both releases stay readable


async def test_two_approvals_at_the_same_time_release_once(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    await a_vietnamese_factory(test_platform, "Race Garment", {"VN-OSH-02": "non_compliant"})
    reviewer = staff_member(test_platform, "VN", "ea-review")
    first = await compute(client, staff_member(test_platform, "VN", "ea-a"))
    second = await compute(client, staff_member(test_platform, "VN", "ea-a"))
    for p in (first, second):
        assert (await client.post(f"/v1/publications/{p['id']}/review", headers=reviewer)).status_code == 200
    # the same candidate by two approvers, and another candidate of the same country, all at once
    answers = await asyncio.gather(
        client.post(f"/v1/publications/{first['id']}/approve", headers=staff_member(test_platform, "VN", "tl-1")),
        client.post(f"/v1/publications/{first['id']}/approve", headers=staff_member(test_platform, "VN", "tl-2")),
        client.post(f"/v1/publications/{second['id']}/approve", headers=staff_member(test_platform, "VN", "tl-3")),
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    numbers = await fetch(
        test_platform,
        "transparency",
        "SELECT count(*) AS n FROM transparency.publication WHERE id = ANY($1::uuid[]) AND status = 'released'",
        [uuid.UUID(first["id"]), uuid.UUID(second["id"])],
    )
    assert numbers[0]["n"] == 1
