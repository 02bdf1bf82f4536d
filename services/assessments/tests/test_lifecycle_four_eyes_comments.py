"""Cancel and reschedule before fieldwork ends, four eyes on quality check, release and revisions, the factory's
comment period with its clock, evidence for staff only: over HTTP against real Postgres."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff, team_leader
from devstack.testkit.assessments import all_compliant, finalise, kh_tool, known_factory, move, release, schedule
from devstack.testkit.database import connect_as, fetch

pytestmark = pytest.mark.asyncio

TOOL = kh_tool()
CODES = [q["code"] for q in TOOL["questions"]]
ZT = [q for q in TOOL["questions"] if "zero_tolerance" in (q.get("tags") or [])]
TODAY = datetime.now(UTC).date()
FUTURE = {"start_date": (TODAY + timedelta(days=20)).isoformat(), "end_date": (TODAY + timedelta(days=21)).isoformat()}
ONGOING = {"start_date": (TODAY - timedelta(days=1)).isoformat(), "end_date": (TODAY + timedelta(days=1)).isoformat()}


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def events(platform: TestPlatform, aggregate_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await fetch(
        platform,
        "assessments",
        "SELECT type, payload FROM assessments.outbox WHERE aggregateid = $1 ORDER BY seq",
        aggregate_id,
    )
    return [(r["type"].split(".")[-2], json.loads(r["payload"])) for r in rows]


async def assessed(client: httpx.AsyncClient, platform: TestPlatform, **fields: Any) -> dict[str, Any]:
    """An assessment in progress with every finding recorded by the EA `ea-dara`."""
    headers = staff(platform)
    assessment = await schedule(client, headers, await known_factory(platform), **fields)
    assert (await move(client, headers, assessment["id"], "in_progress")).status_code == 200
    recorded = await client.put(
        f"/v1/assessments/{assessment['id']}/findings", json={"findings": all_compliant()}, headers=headers
    )
    assert recorded.status_code == 200, recorded.text
    return assessment


# ---- item 3: cancel and reschedule -----------------------------------------------------------------------------


async def test_a_scheduled_assessment_is_cancelled_with_a_reason_and_counts_for_no_cycle(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    plant = await known_factory(test_platform)
    first = await schedule(client, headers, plant, **FUTURE)
    url = f"/v1/assessments/{first['id']}/cancellation"
    assert (await client.post(url, json={"reason": ""}, headers=headers)).status_code == 422
    assert (await client.post(url, json={"reason": "  "}, headers=headers)).status_code == 409
    assert (await client.post(url, json={"reason": "x"}, headers=staff(test_platform, "VN"))).status_code == 404
    assert (await client.post(url, json={"reason": "x"}, headers=factory(test_platform, plant))).status_code == 403
    cancelled = await client.post(url, json={"reason": "factory closed for Khmer New Year"}, headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["version"]) == ("cancelled", 2)
    assert (await client.post(url, json={"reason": "again"}, headers=headers)).status_code == 409
    assert (await move(client, headers, first["id"], "in_progress")).status_code == 409
    kinds = await events(test_platform, first["id"])
    assert [k for k, _ in kinds] == ["scheduled", "cancelled"]
    assert kinds[1][1]["reason"] == "factory closed for Khmer New Year"
    assert kinds[1][1]["previous_status"] == "scheduled"
    history = (await client.get(f"/v1/assessments/{first['id']}/transitions", headers=headers)).json()
    assert [(h["to_status"], h["comment"]) for h in history] == [("cancelled", "factory closed for Khmer New Year")]

    again = await schedule(client, headers, plant, **FUTURE)  # the cancelled one took no cycle
    assert (again["cycle"], again["assessment_type"]) == (1, "initial")


async def test_an_assessment_in_progress_is_cancelled_until_its_last_visit_day_and_not_after(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    ongoing = await schedule(client, headers, await known_factory(test_platform), **ONGOING)
    await move(client, headers, ongoing["id"], "in_progress")
    stopped = await client.post(
        f"/v1/assessments/{ongoing['id']}/cancellation", json={"reason": "strike at the gate"}, headers=headers
    )
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"

    ended = await schedule(client, headers, await known_factory(test_platform))  # visit days in the past
    await move(client, headers, ended["id"], "in_progress")
    late = await client.post(f"/v1/assessments/{ended['id']}/cancellation", json={"reason": "x"}, headers=headers)
    assert late.status_code == 409 and "fieldwork has ended" in late.json()["detail"]
    submitted = await assessed(client, test_platform, **ONGOING)
    await move(client, headers, submitted["id"], "draft_submitted")
    refused = await client.post(
        f"/v1/assessments/{submitted['id']}/cancellation", json={"reason": "x"}, headers=headers
    )
    assert refused.status_code == 409 and refused.json()["current_status"] == "draft_submitted"
    by_transition = await move(client, headers, ended["id"], "cancelled")
    assert by_transition.status_code == 422  # not a transition: the reason is required


async def test_rescheduling_moves_the_visit_and_the_due_date_with_a_reason(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    planned = await schedule(client, headers, await known_factory(test_platform), **FUTURE)
    url = f"/v1/assessments/{planned['id']}/reschedule"
    new = {"start_date": (TODAY + timedelta(days=40)).isoformat(), "end_date": (TODAY + timedelta(days=42)).isoformat()}
    assert (await client.post(url, json={**new, "reason": ""}, headers=headers)).status_code == 422
    backwards = {"start_date": new["end_date"], "end_date": new["start_date"], "reason": "x"}
    assert (await client.post(url, json=backwards, headers=headers)).status_code == 409
    moved = await client.post(url, json={**new, "reason": "factory asked: audit by a brand that week"}, headers=headers)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["start_date"], body["end_date"]) == (new["start_date"], new["end_date"])
    assert body["report_due"] == (TODAY + timedelta(days=42 + 28)).isoformat()
    assert body["report_due"] != planned["report_due"]
    kinds = await events(test_platform, planned["id"])
    assert [k for k, _ in kinds] == ["scheduled", "rescheduled"]
    event = kinds[1][1]
    assert (event["previous_start_date"], event["previous_end_date"]) == (FUTURE["start_date"], FUTURE["end_date"])
    assert (event["due_date"], event["reason"]) == (body["report_due"], "factory asked: audit by a brand that week")

    ongoing = await schedule(client, headers, await known_factory(test_platform), **ONGOING)
    await move(client, headers, ongoing["id"], "in_progress")
    url = f"/v1/assessments/{ongoing['id']}/reschedule"
    shifted = {"start_date": TODAY.isoformat(), "end_date": ONGOING["end_date"], "reason": "x"}
    assert (await client.post(url, json=shifted, headers=headers)).status_code == 409  # the visit started
    longer = {"start_date": ONGOING["start_date"], "end_date": (TODAY + timedelta(days=3)).isoformat()}
    extended = await client.post(url, json={**longer, "reason": "more workers to interview"}, headers=headers)
    assert extended.status_code == 200 and extended.json()["report_due"] == (TODAY + timedelta(days=31)).isoformat()

    ended = await schedule(client, headers, await known_factory(test_platform))
    await move(client, headers, ended["id"], "in_progress")
    later = {"start_date": "2026-11-02", "end_date": "2026-11-05", "reason": "x"}
    assert (
        await client.post(f"/v1/assessments/{ended['id']}/reschedule", json=later, headers=headers)
    ).status_code == 409


# ---- item 4: four eyes ---------------------------------------------------------------------------------------------


async def test_quality_check_and_release_are_a_team_leaders_who_was_not_on_the_team(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    assessment = await assessed(client, test_platform, team=["ea-dara", "tl-chenda"])
    aid = assessment["id"]
    assert (await move(client, headers, aid, "draft_submitted")).status_code == 200
    plain = await move(client, staff(test_platform, subject="ea-vanna"), aid, "quality_checked")
    assert plain.status_code == 403 and "team leader" in plain.json()["detail"]
    on_team = await move(client, team_leader(test_platform, subject="tl-chenda"), aid, "quality_checked")
    assert on_team.status_code == 403 and "on the assessment team" in on_team.json()["detail"]
    other_country = await move(client, team_leader(test_platform, "VN"), aid, "quality_checked")
    assert other_country.status_code in (403, 404)
    leader = team_leader(test_platform)
    assert (await move(client, leader, aid, "quality_checked")).status_code == 200
    assert (await move(client, headers, aid, "released")).status_code == 403
    assert (await move(client, leader, aid, "released")).status_code == 200
    history = (await client.get(f"/v1/assessments/{aid}/transitions", headers=headers)).json()
    assert [(h["to_status"], h["by_subject"]) for h in history][-2:] == [
        ("quality_checked", "tl-sophea"),
        ("released", "tl-sophea"),
    ]


async def test_a_team_leader_who_recorded_findings_does_not_check_them(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    leader = team_leader(test_platform, subject="tl-rith")
    assessment = await assessed(client, test_platform)
    aid = assessment["id"]
    own = await client.put(f"/v1/assessments/{aid}/findings/{CODES[3]}", json={"result": "compliant"}, headers=leader)
    assert own.status_code == 200
    assert (await move(client, staff(test_platform), aid, "draft_submitted")).status_code == 200
    assert (await move(client, leader, aid, "quality_checked")).status_code == 403
    assert (await move(client, team_leader(test_platform), aid, "quality_checked")).status_code == 200


async def test_an_approved_revision_to_non_compliant_on_a_zero_tolerance_question_opens_a_case_at_once(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    assessment = await assessed(client, test_platform)
    aid = assessment["id"]
    await release(client, headers, team_leader(test_platform), aid)
    await finalise(client, headers, factory(test_platform, assessment["factory_id"]), aid)
    question = ZT[0]["code"]
    url = f"/v1/assessments/{aid}/findings/{question}"
    proposed = await client.post(
        f"{url}/revisions",
        json={"result": "non_compliant", "reason": "age documents were forged", "severity": "critical"},
        headers=headers,
    )
    assert proposed.status_code == 201, proposed.text
    cases = await client.get(
        "/v1/zero-tolerance-cases", params={"factory_id": assessment["factory_id"]}, headers=headers
    )
    assert cases.json()["items"] == []  # a proposal alone changes nothing
    approved = await client.post(
        f"{url}/revision-proposals/{proposed.json()['id']}/approval", json={}, headers=team_leader(test_platform)
    )
    assert approved.status_code == 200, approved.text
    (case_id,) = approved.json()["zero_tolerance_cases_opened"]
    case = (await client.get(f"/v1/zero-tolerance-cases/{case_id}", headers=headers)).json()
    assert (case["assessment_id"], case["question_code"], case["category"]) == (
        aid,
        question,
        ZT[0]["zero_tolerance_category"],
    )
    assert [k for k, _ in await events(test_platform, case_id)] == ["case_opened"]
    finding = next(
        f
        for f in (await client.get(f"/v1/assessments/{aid}/findings", headers=headers)).json()
        if f["question_code"] == question
    )
    assert (finding["result"], finding["severity"], finding["revision"]) == ("non_compliant", "critical", 2)


# ---- item 5: the factory comment period ---------------------------------------------------------------------------


async def released_one(client: httpx.AsyncClient, platform: TestPlatform) -> dict[str, Any]:
    assessment = await assessed(client, platform)
    await release(client, staff(platform), team_leader(platform), assessment["id"])
    return assessment


async def test_the_factory_comments_per_finding_while_its_period_runs_and_staff_cannot_finalise_early(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    assessment = await released_one(client, test_platform)
    aid, own = assessment["id"], factory(test_platform, assessment["factory_id"])
    url = f"/v1/assessments/{aid}/comments"
    early = await client.post(url, json={"question_code": CODES[0], "comment": "too soon"}, headers=own)
    assert early.status_code == 409  # the period has not opened
    opened = await move(client, headers, aid, "comment_period")
    ends = datetime.fromisoformat(opened.json()["comment_period_ends"])
    assert timedelta(days=13, hours=23) < ends - datetime.now(UTC) <= timedelta(days=14)
    assert (await move(client, headers, aid, "finalised")).status_code == 409  # the factory's time is not up

    made = await client.post(
        url, json={"question_code": CODES[1], "comment": "The age register was updated on 3 Nov."}, headers=own
    )
    assert made.status_code == 201, made.text
    unknown = await client.post(url, json={"question_code": "KH-NOPE-1", "comment": "?"}, headers=own)
    assert unknown.status_code == 404
    stranger = factory(test_platform, uuid.uuid4())
    assert (
        await client.post(url, json={"question_code": CODES[1], "comment": "x"}, headers=stranger)
    ).status_code == 404
    assert (await client.get(url, headers=stranger)).status_code == 404
    for reader in (headers, own):
        seen = await client.get(url, headers=reader)
        assert [(c["question_code"], c["comment"]) for c in seen.json()] == [
            (CODES[1], "The age register was updated on 3 Nov.")
        ]
    (event,) = [p for k, p in await events(test_platform, aid) if k == "comment_received"]
    assert event["question_code"] == CODES[1] and "age register" not in json.dumps(event)


async def test_the_factory_waives_its_comment_period_and_the_assessment_is_finalised_at_once(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    assessment = await released_one(client, test_platform)
    aid, own = assessment["id"], factory(test_platform, assessment["factory_id"])
    waiver = f"/v1/assessments/{aid}/comment-period/waiver"
    assert (await client.post(waiver, headers=own)).status_code == 409  # released, period not open yet
    await move(client, headers, aid, "comment_period")
    assert (await client.post(waiver, headers=factory(test_platform, uuid.uuid4()))).status_code == 404
    assert (await client.post(waiver, headers=headers)).status_code == 403  # the factory's right, not staff's
    waived = await client.post(waiver, headers=own)
    assert waived.status_code == 200, waived.text
    assert (waived.json()["status"], waived.json()["comment_period_waived"]) == ("finalised", True)
    assert [k for k, _ in await events(test_platform, aid)][-2:] == ["status_changed", "finalised"]
    late = await client.post(
        f"/v1/assessments/{aid}/comments", json={"question_code": CODES[0], "comment": "x"}, headers=own
    )
    assert late.status_code == 409


async def test_the_sweep_finalises_an_assessment_when_the_comment_period_ends(test_platform: TestPlatform) -> None:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False, comment_sweep_s=0.05)
    async with serve_in_process(app) as client:
        headers = staff(test_platform)
        running = await released_one(client, test_platform)
        ended = await released_one(client, test_platform)
        for one in (running, ended):
            assert (await move(client, headers, one["id"], "comment_period")).status_code == 200
        conn = await connect_as(test_platform, "assessments")
        try:
            await conn.execute(
                "UPDATE assessments.assessment SET comment_period_ends = now() - interval '1 minute' WHERE id = $1",
                uuid.UUID(ended["id"]),
            )
        finally:
            await conn.close()
        for _ in range(100):
            current = (await client.get(f"/v1/assessments/{ended['id']}", headers=headers)).json()
            if current["status"] == "finalised":
                break
            await asyncio.sleep(0.05)
        assert current["status"] == "finalised"
        assert (await client.get(f"/v1/assessments/{running['id']}", headers=headers)).json()[
            "status"
        ] == "comment_period"
        history = (await client.get(f"/v1/assessments/{ended['id']}/transitions", headers=headers)).json()
        assert (history[-1]["by_subject"], history[-1]["comment"]) == (
            "system:comment-period",
            "the comment period ended",
        )
        assert [k for k, _ in await events(test_platform, ended["id"])][-1] == "finalised"
        late = await client.post(
            f"/v1/assessments/{ended['id']}/comments",
            json={"question_code": CODES[0], "comment": "x"},
            headers=factory(test_platform, ended["factory_id"]),
        )
        assert late.status_code == 409


# ---- item 6 and severity: evidence for staff, explanation for the factory -------------------------------------


async def test_severity_belongs_to_non_compliant_findings_only(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    assessment = await schedule(client, headers, await known_factory(test_platform))
    await move(client, headers, assessment["id"], "in_progress")
    url = f"/v1/assessments/{assessment['id']}/findings"
    wrong = await client.put(f"{url}/{CODES[2]}", json={"result": "compliant", "severity": "high"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["pointer"].endswith("/severity")
    unknown = await client.put(
        f"{url}/{CODES[2]}", json={"result": "non_compliant", "severity": "dire"}, headers=headers
    )
    assert unknown.status_code == 422
    ok = await client.put(
        f"{url}/{CODES[2]}",
        json={"result": "non_compliant", "severity": "high", "evidence": "Worker Sokha", "explanation": "Records lack"},
        headers=headers,
    )
    assert ok.status_code == 200
    (finding,) = (await client.get(url, headers=headers)).json()
    assert (finding["severity"], finding["evidence"], finding["explanation"]) == (
        "high",
        "Worker Sokha",
        "Records lack",
    )
