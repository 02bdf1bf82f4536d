"""The committee, advisory visits and training over HTTP against real Postgres: members and women's share
against the workforce, meetings and visits linked to plan items, a progress report that shows them, training
sessions with completion by the course's rule, every people figure split by sex, training days against the
country's entitlement, and xAPI import (idempotent by statement id) and export."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import as_role, buyer, factory, service, staff
from devstack.testkit.advisory import deliver, items_of, known_factory, non_compliance, plan_of, released
from devstack.testkit.database import fetch
from servicekit.auth import Role

pytestmark = pytest.mark.asyncio
TODAY = date.today()


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("advisory", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


def member(side: str, sex: str, **fields: Any) -> dict[str, Any]:
    return {
        "display_name": f"{side} {uuid.uuid4().hex[:4]}",
        "side": side,
        "selection": "elected" if side == "worker" else "appointed",
        "sex": sex,
        "role": "member",
        "term_start": (TODAY - timedelta(days=100)).isoformat(),
        **fields,
    }


async def test_the_committee_women_against_the_workforce_and_meetings(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, workers_women=750, workers_men=250)  # 75% women
    as_factory = factory(test_platform, factory_id)
    url = f"/v1/factories/{factory_id}/committee"
    ids = []
    for body in (
        member("worker", "female"),
        member("worker", "male"),
        member("worker", "male"),
        member("management", "female"),
        member("management", "male"),
    ):
        added = await client.post(f"{url}/members", json=body, headers=as_factory)
        assert added.status_code == 201, added.text
        ids.append(added.json()["id"])
    appointed = await client.post(
        f"{url}/members", json=member("worker", "female", selection="appointed"), headers=as_factory
    )
    assert appointed.status_code == 422  # worker members are elected

    figures = (await client.get(url, headers=staff(test_platform))).json()
    assert figures["worker_members"] == {"women": 1, "men": 2, "other": 0, "total": 3}
    assert figures["management_members"] == {"women": 1, "men": 1, "other": 0, "total": 2}
    assert (figures["women_share_of_worker_members"], figures["women_share_of_workforce"]) == (0.3333, 0.75)
    assert figures["women_under_represented"] is True

    ended = await client.post(
        f"{url}/members/{ids[2]}/end-term",
        json={"term_end": (TODAY - timedelta(days=1)).isoformat()},
        headers=as_factory,
    )
    assert ended.json()["worker_members"]["total"] == 2 and ended.json()["women_share_of_worker_members"] == 0.5

    await deliver(test_platform, released(factory_id, [non_compliance("KH-OSH-03", publicly_reported=True)]))
    plan = await plan_of(client, as_factory, factory_id)
    item_id = (await items_of(client, as_factory, plan["id"]))["KH-OSH-03"]["id"]
    meeting = await client.post(
        f"{url}/meetings",
        json={
            "meeting_date": TODAY.isoformat(),
            "attendee_ids": ids[:2] + ids[3:4],
            "decisions": [{"text": "Buy respirators for the spraying line", "item_id": item_id}],
        },
        headers=as_factory,
    )
    assert meeting.status_code == 201, meeting.text
    assert (meeting.json()["attended_women"], meeting.json()["attended_men"]) == (2, 1)
    former = await client.post(
        f"{url}/meetings", json={"meeting_date": TODAY.isoformat(), "attendee_ids": [ids[2]]}, headers=as_factory
    )
    assert former.status_code == 422  # no longer serving
    foreign = await client.post(
        f"{url}/meetings",
        json={
            "meeting_date": TODAY.isoformat(),
            "attendee_ids": ids[:1],
            "decisions": [{"text": "x", "item_id": str(uuid.uuid4())}],
        },
        headers=as_factory,
    )
    assert foreign.status_code == 422

    for stranger in (
        factory(test_platform, uuid.uuid4()),
        buyer(test_platform, uuid.uuid4()),
        staff(test_platform, "VN"),
    ):
        assert (await client.get(url, headers=stranger)).status_code == 404
        assert (
            await client.post(f"{url}/members", json=member("worker", "female"), headers=stranger)
        ).status_code == 404


async def test_advisory_visits_and_a_progress_report_that_shows_the_period(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform)
    as_staff, as_factory = staff(test_platform), factory(test_platform, factory_id)
    await deliver(
        test_platform, released(factory_id, [non_compliance("KH-WT-07")], released_on=TODAY - timedelta(days=10))
    )
    plan = await plan_of(client, as_staff, factory_id)
    item_id = (await items_of(client, as_staff, plan["id"]))["KH-WT-07"]["id"]
    body = {
        "visit_date": (TODAY - timedelta(days=2)).isoformat(),
        "mode": "joint_union",
        "topics": ["overtime"],
        "item_ids": [item_id],
        "follow_ups": [{"action": "send overtime records", "owner": "HR"}],
    }
    assert (
        await client.post(f"/v1/factories/{factory_id}/advisory-visits", json=body, headers=as_factory)
    ).status_code == 403
    visit = await client.post(f"/v1/factories/{factory_id}/advisory-visits", json=body, headers=as_staff)
    assert visit.status_code == 201, visit.text
    assert visit.json()["advisors"] == ["ea-dara"]
    listed = await client.get(f"/v1/factories/{factory_id}/advisory-visits", headers=as_factory)
    assert [v["id"] for v in listed.json()] == [visit.json()["id"]]
    (event,) = await fetch(
        test_platform, "advisory", "SELECT payload FROM advisory.outbox WHERE aggregateid = $1", str(factory_id)
    )
    assert json.loads(event["payload"])["items_discussed"] == 1

    issued = await client.post(
        f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr1"}, headers=as_staff
    )
    content = (await client.get(f"/v1/progress-reports/{issued.json()['id']}", headers=as_factory)).json()
    assert content["advisory_visits"] == [
        {"visit_date": body["visit_date"], "mode": "joint_union", "topics": ["overtime"], "items_discussed": 1}
    ]


async def course(
    client: httpx.AsyncClient, platform: TestPlatform, country: str, rule: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "country": country,
        "code": f"SHP-{uuid.uuid4().hex[:6].upper()}",
        "title": "Sexual harassment prevention",
        "topic": "sexual_harassment_prevention",
        "modules": [{"title": "What harassment is", "hours": 4}, {"title": "Reporting channels", "hours": 4}],
        "languages": ["vi", "en"],
        "completion_rule": rule,
        **fields,
    }
    created = await client.post("/v1/training/courses", json=body, headers=staff(platform, country))
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def participant(
    client: httpx.AsyncClient, headers: dict[str, str], country: str, sex: str, **fields: Any
) -> dict[str, Any]:
    body = {"country": country, "account": f"acct-{uuid.uuid4().hex[:10]}", "role": "worker", "sex": sex, **fields}
    created = await client.post("/v1/training/participants", json=body, headers=headers)
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def test_a_session_with_completion_by_rule_split_by_sex_and_training_days(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country="VN")
    as_staff, as_factory = staff(test_platform, "VN"), factory(test_platform, factory_id, "VN")
    shp = await course(client, test_platform, "VN", "completed_and_passed", pass_score=70)
    assert shp["hours"] == "8.00"
    assert (
        await client.post(
            "/v1/training/courses",
            json={
                **{k: shp[k] for k in ("country", "code", "title", "topic", "languages", "completion_rule")},
                "modules": [{"title": "x", "hours": 1}],
                "pass_score": 70,
            },
            headers=as_staff,
        )
    ).status_code == 409
    no_pass = await client.post(
        "/v1/training/courses",
        json={
            "country": "VN",
            "code": "OSH-1",
            "title": "OSH",
            "topic": "osh",
            "modules": [{"title": "x", "hours": 2}],
            "languages": ["vi"],
            "completion_rule": "passed",
        },
        headers=as_staff,
    )
    assert no_pass.status_code == 422  # a pass needs a pass score
    catalogue = await client.get("/v1/training/courses", params={"country": "VN"}, headers=as_factory)
    assert shp["code"] in [c["code"] for c in catalogue.json()]

    session = await client.post(
        "/v1/training/sessions",
        json={
            "course_id": shp["id"],
            "factory_id": str(factory_id),
            "session_date": TODAY.isoformat(),
            "language": "vi",
            "trainer_organisation": "Better Work Vietnam",
            "mode": "in_factory",
        },
        headers=as_staff,
    )
    assert session.status_code == 201, session.text
    sid = session.json()["id"]
    wrong_language = await client.post(
        "/v1/training/sessions",
        json={
            "course_id": shp["id"],
            "session_date": TODAY.isoformat(),
            "language": "km",
            "trainer_organisation": "x",
            "mode": "classroom",
        },
        headers=as_staff,
    )
    assert wrong_language.status_code == 422

    women = [
        await participant(
            client, as_factory, "VN", "female", factory_id=str(factory_id), migrant=True, nationality="KH"
        )
        for _ in range(3)
    ]
    men = [await participant(client, as_factory, "VN", "male", factory_id=str(factory_id)) for _ in range(2)]
    brand = await participant(client, as_staff, "VN", "female", role="brand sourcing", buyer_id=str(uuid.uuid4()))
    email = await client.post(
        "/v1/training/participants",
        json={
            "country": "VN",
            "account": "lan@example.com",
            "role": "worker",
            "sex": "female",
            "factory_id": str(factory_id),
        },
        headers=as_factory,
    )
    assert email.status_code == 422  # pseudonymous: never an e-mail
    people = [*women, *men, brand]
    enrolled = await client.post(
        f"/v1/training/sessions/{sid}/enrolments", json={"participant_ids": [p["id"] for p in people]}, headers=as_staff
    )
    assert enrolled.json()["enrolled"] == {"women": 4, "men": 2, "other": 0, "total": 6}

    outcomes = [
        {"participant_id": women[0]["id"], "attended": True, "completed": True, "score": 85, "evaluation": 5},
        {"participant_id": women[1]["id"], "attended": True, "completed": True, "score": 60, "evaluation": 4},
        {"participant_id": women[2]["id"], "attended": False, "waived_reason": "completed the same course in 2025"},
        {"participant_id": men[0]["id"], "attended": True, "completed": True, "score": 70, "evaluation": 3},
        {"participant_id": men[1]["id"], "attended": True, "completed": False, "score": 90},
        {"participant_id": brand["id"], "attended": True, "completed": True, "passed": True},
    ]
    recorded = await client.put(f"/v1/training/sessions/{sid}/outcomes", json={"outcomes": outcomes}, headers=as_staff)
    assert recorded.status_code == 200, recorded.text
    summary = recorded.json()
    # completed and passed: woman 0 (85), man 0 (70), the brand (passed); woman 2 waived; woman 1 failed (60);
    # man 1 did not complete
    assert summary["completed"] == {"women": 3, "men": 1, "other": 0, "total": 4}
    assert summary["attended"] == {"women": 3, "men": 2, "other": 0, "total": 5}
    assert (summary["attendance_rate"], summary["average_evaluation"]) == (round(5 / 6, 4), 4.0)
    assert "lan@example.com" not in json.dumps(summary)

    delivered = await client.post(f"/v1/training/sessions/{sid}/delivered", headers=as_staff)
    assert delivered.status_code == 200 and delivered.json()["delivered_at"]
    assert (await client.post(f"/v1/training/sessions/{sid}/delivered", headers=as_staff)).status_code == 409
    (event,) = await fetch(test_platform, "advisory", "SELECT payload FROM advisory.outbox WHERE aggregateid = $1", sid)
    payload = json.loads(event["payload"])
    assert (payload["participants_women"], payload["participants_men"], payload["mode"]) == (3, 2, "in_factory")

    year = await client.get(f"/v1/factories/{factory_id}/training", params={"year": TODAY.year}, headers=as_factory)
    assert year.json()["entitled_days"] == 15 and year.json()["used_days"] == "1.00"
    assert year.json()["attended"] == {
        "women": 2,
        "men": 2,
        "other": 0,
        "total": 4,
    }  # the brand's staff is not the factory's
    assert (
        await client.get(f"/v1/training/sessions/{sid}", headers=factory(test_platform, uuid.uuid4(), "VN"))
    ).status_code == 404
    assert (await client.get(f"/v1/training/sessions/{sid}", headers=as_factory)).status_code == 200

    union = as_role(test_platform, Role.CONSTITUENT, country="VN", subject="union-vn")
    figures = await client.get("/v1/training/countries/VN/figures", params={"year": TODAY.year}, headers=union)
    assert figures.status_code == 200, figures.text
    harassment = figures.json()["topics"]["sexual_harassment_prevention"]
    assert harassment["sessions"] >= 1 and harassment["completed"]["women"] >= 3
    assert "participants" not in figures.text and "acct-" not in figures.text
    assert (
        await client.get("/v1/training/countries/VN/figures", params={"year": TODAY.year}, headers=as_factory)
    ).status_code == 404


def statement(account: str, session_id: str, verb: str = "completed", **result: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://lms.example.org", "name": account}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {"id": f"https://platform.betterwork.org/xapi/training-sessions/{session_id}"},
        "result": result,
        "timestamp": f"{TODAY.isoformat()}T10:00:00Z",
    }


async def test_xapi_import_is_idempotent_by_statement_id_and_export_gives_them_back(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    factory_id = await known_factory(test_platform, country="VN")
    as_staff = staff(test_platform, "VN")
    elearning = await course(client, test_platform, "VN", "completed")
    session = await client.post(
        "/v1/training/sessions",
        json={
            "course_id": elearning["id"],
            "session_date": TODAY.isoformat(),
            "language": "vi",
            "trainer_organisation": "LMS",
            "mode": "e_learning",
        },
        headers=as_staff,
    )
    sid = session.json()["id"]
    people = [await participant(client, as_staff, "VN", sex, factory_id=str(factory_id)) for sex in ("female", "male")]
    statements = [
        statement(people[0]["account"], sid, completion=True, score={"scaled": 0.9}),
        statement(people[1]["account"], sid, "attended"),
        statement("nobody-here", sid),
        {**statement("x", sid), "actor": {"mbox": "mailto:lan@example.com"}},
        statement(people[0]["account"], str(uuid.uuid4())),
    ]
    lrs = service(test_platform, country="VN")
    first = await client.post("/v1/xapi/statements", json={"statements": statements}, headers=lrs)
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["repeats"]) == (2, 0)
    reasons = [r["reason"] for r in first.json()["rejected"]]
    assert len(reasons) == 3 and any("e-mail" in r for r in reasons) and any("nobody-here" in r for r in reasons)

    summary = (await client.get(f"/v1/training/sessions/{sid}", headers=as_staff)).json()
    assert summary["completed"] == {"women": 1, "men": 0, "other": 0, "total": 1}
    assert summary["attended"]["total"] == 2

    again = await client.post("/v1/xapi/statements", json={"statements": statements}, headers=as_staff)
    assert (again.json()["accepted"], again.json()["repeats"]) == (0, 2)
    assert (await client.get(f"/v1/training/sessions/{sid}", headers=as_staff)).json() == summary
    stored = await fetch(
        test_platform,
        "advisory",
        "SELECT count(*) AS n FROM advisory.xapi_statement WHERE session_id = $1",
        uuid.UUID(sid),
    )
    assert stored[0]["n"] == 2

    exported = (await client.get(f"/v1/training/sessions/{sid}/xapi", headers=as_staff)).json()
    by_account = {s["actor"]["account"]["name"]: s for s in exported}
    assert by_account[people[0]["account"]]["id"] == statements[0]["id"]
    assert by_account[people[0]["account"]]["verb"]["id"].endswith("/completed")
    assert by_account[people[0]["account"]]["result"]["score"]["scaled"] == 0.9
    assert "mbox" not in json.dumps(exported)
    elsewhere = service(test_platform, country="KH")
    foreign = await client.post("/v1/xapi/statements", json={"statements": statements[:1]}, headers=elsewhere)
    assert foreign.json()["accepted"] == 0 and foreign.json()["rejected"]
