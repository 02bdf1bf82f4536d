"""The assessments service over HTTP against real Postgres: tool versions, scheduling, the lifecycle, findings
and revisions, zero-tolerance cases, reports and figures, access per role, SLCP exchange."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import yaml

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory as factory_user
from devstack.testkit.access import staff, team_leader
from devstack.testkit.assessments import (
    all_compliant,
    finalise,
    kh_tool,
    known_factory,
    move,
    release,
    released_assessment,
    schedule,
)
from devstack.testkit.database import connect_as, fetch
from servicekit.auth import Role

pytestmark = pytest.mark.asyncio

TOOL = kh_tool()
CODES = [q["code"] for q in TOOL["questions"]]
ZT = [q for q in TOOL["questions"] if "zero_tolerance" in (q.get("tags") or [])]
PUBLIC = [q["code"] for q in TOOL["questions"] if "publicly_reported" in (q.get("tags") or [])]
PLAIN = [q["code"] for q in TOOL["questions"] if not q.get("tags")]


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def in_progress(client: httpx.AsyncClient, platform: TestPlatform, **fields: Any) -> dict[str, Any]:
    assessment = await schedule(client, staff(platform), await known_factory(platform), **fields)
    assert (await move(client, staff(platform), assessment["id"], "in_progress")).status_code == 200
    return assessment


async def finalised(
    client: httpx.AsyncClient, platform: TestPlatform, overrides: dict[str, str], **fields: Any
) -> dict[str, Any]:
    headers = staff(platform)
    assessment = await in_progress(client, platform, **fields)
    recorded = await client.put(
        f"/v1/assessments/{assessment['id']}/findings", json={"findings": all_compliant(**overrides)}, headers=headers
    )
    assert recorded.status_code == 200, recorded.text
    await release(client, headers, team_leader(platform), assessment["id"])
    await finalise(client, headers, factory_user(platform, assessment["factory_id"]), assessment["id"])
    return assessment


async def outbox(platform: TestPlatform, aggregate_id: str) -> list[dict[str, Any]]:
    rows = await fetch(
        platform,
        "assessments",
        "SELECT topic, type, payload FROM assessments.outbox WHERE aggregateid = $1 ORDER BY seq",
        aggregate_id,
    )
    return [{"topic": r["topic"], "type": r["type"].split(".")[-2], "payload": json.loads(r["payload"])} for r in rows]


# ---- the tool -----------------------------------------------------------------------------------------------------


async def test_tool_versions_are_imported_published_and_pinned(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    tools = (await client.get("/v1/tools", params={"country": "KH"}, headers=headers)).json()
    shipped = next(t for t in tools if t["label"] == "KH garment 2026.1")
    assert shipped["status"] in ("published", "retired") and shipped["question_count"] >= 60
    current = next(t for t in tools if t["status"] == "published")
    pinned = await in_progress(client, test_platform)
    assert pinned["tool_version_id"] == current["id"]

    exported = await client.get(f"/v1/tools/{current['id']}/export", headers=headers)
    assert exported.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(exported.text)
    assert document["kind"] == "cat-tool-version"
    label = f"KH garment test {uuid.uuid4().hex[:6]}"
    document["tool"]["label"] = label
    document["tool"]["questions"][0]["text"]["en"] = "Reworded after the law changed?"
    imported = await client.post(
        "/v1/tools",
        content=yaml.safe_dump(document, allow_unicode=True),
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["status"] == "draft"
    again = await client.post(
        "/v1/tools",
        content=yaml.safe_dump(document, allow_unicode=True),
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert again.status_code == 409
    published = await client.post(f"/v1/tools/{imported.json()['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["status"] == "published"
    tools = {t["id"]: t for t in (await client.get("/v1/tools", params={"country": "KH"}, headers=headers)).json()}
    assert tools[current["id"]]["status"] == "retired"

    newer = await in_progress(client, test_platform)
    assert newer["tool_version_id"] == imported.json()["id"]
    old = await client.get(f"/v1/assessments/{pinned['id']}", headers=headers)
    assert old.json()["tool_version_id"] == current["id"]  # the one it started with
    question = (await client.get(f"/v1/tools/{newer['tool_version_id']}", headers=headers)).json()["questions"][0]
    assert question["text"]["en"] == "Reworded after the law changed?"

    broken = await client.post(
        "/v1/tools",
        content=b"kind: cat-country-tool\ncountry: KH\n",
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert broken.status_code == 400 and "not valid" in broken.json()["detail"]


# ---- scheduling and the lifecycle ------------------------------------------------------------------------------


async def test_only_enrolled_or_active_factories_are_scheduled_and_cycles_are_counted(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    registered = await known_factory(test_platform, status="registered")
    body = {
        "factory_id": str(registered),
        "assessment_type": "initial",
        "start_date": "2026-11-02",
        "end_date": "2026-11-03",
    }
    refused = await client.post("/v1/assessments", json=body, headers=headers)
    assert refused.status_code == 409 and refused.json()["factory_status"] == "registered"
    unknown = await client.post("/v1/assessments", json={**body, "factory_id": str(uuid.uuid4())}, headers=headers)
    assert unknown.status_code == 409

    factory = await known_factory(test_platform, status="enrolled")
    first = await schedule(client, headers, factory, mode="announced", joint=True, inspectors=["Inspector Vuthy"])
    assert (first["cycle"], first["report_due"], first["joint"]) == (1, "2026-12-01", True)
    twice = await client.post("/v1/assessments", json={**body, "factory_id": str(factory)}, headers=headers)
    assert twice.status_code == 409
    follow_up = await schedule(client, headers, factory, assessment_type="follow_up")
    regular = await schedule(client, headers, factory, assessment_type="regular")
    assert (follow_up["cycle"], regular["cycle"]) == (1, 2)
    no_inspectors = await client.post(
        "/v1/assessments",
        json={**body, "factory_id": str(factory), "assessment_type": "regular", "joint": True},
        headers=headers,
    )
    assert no_inspectors.status_code == 422
    backwards = await client.post(
        "/v1/assessments",
        json={**body, "factory_id": str(factory), "assessment_type": "regular", "end_date": "2026-11-01"},
        headers=headers,
    )
    assert backwards.status_code == 422
    events = await outbox(test_platform, first["id"])
    assert [e["type"] for e in events] == ["scheduled"]


async def test_the_lifecycle_with_a_return_to_the_team(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    headers = staff(test_platform)
    assessment = await schedule(client, headers, await known_factory(test_platform))
    aid = assessment["id"]
    assert (await move(client, headers, aid, "released")).status_code == 409
    assert (await move(client, headers, aid, "in_progress")).status_code == 200
    early = await move(client, headers, aid, "draft_submitted")
    assert early.status_code == 409 and f"{len(CODES)} question(s)" in early.json()["detail"]
    await client.put(f"/v1/assessments/{aid}/findings", json={"findings": all_compliant()}, headers=headers)
    assert (await move(client, headers, aid, "draft_submitted")).status_code == 200
    locked = await client.put(
        f"/v1/assessments/{aid}/findings/{CODES[0]}", json={"result": "compliant"}, headers=headers
    )
    assert locked.status_code == 409
    leader = team_leader(test_platform)
    assert (await move(client, leader, aid, "in_progress")).status_code == 409  # a return needs comments
    assert (await move(client, headers, aid, "in_progress", comment="Fix it")).status_code == 403  # not a leader
    returned = await move(client, leader, aid, "in_progress", comment="Check the overtime records again")
    assert returned.status_code == 200
    await release(client, headers, leader, aid)
    await finalise(client, headers, factory_user(test_platform, assessment["factory_id"]), aid)
    assert (await move(client, headers, aid, "in_progress")).status_code == 409
    history = (await client.get(f"/v1/assessments/{aid}/transitions", headers=headers)).json()
    assert [(h["from_status"], h["to_status"]) for h in history][2:4] == [
        ("draft_submitted", "in_progress"),
        ("in_progress", "draft_submitted"),
    ]
    assert history[2]["comment"] == "Check the overtime records again"
    kinds = [e["type"] for e in await outbox(test_platform, aid)]
    assert kinds.count("status_changed") == 8
    assert kinds.count("released") == 1 and kinds.count("finalised") == 1
    finalised_event = next(e for e in await outbox(test_platform, aid) if e["type"] == "finalised")["payload"]
    assert len(finalised_event["results"]) == len(CODES)
    assert "evidence" not in json.dumps(finalised_event)


async def test_a_batch_is_all_or_nothing(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    headers = staff(test_platform)
    assessment = await in_progress(client, test_platform)
    findings = all_compliant()
    findings.append({"question_code": "KH-NOPE-99", "result": "compliant"})
    findings.append({"question_code": CODES[1], "result": "compliant", "workers_affected": 3})
    refused = await client.put(
        f"/v1/assessments/{assessment['id']}/findings", json={"findings": findings}, headers=headers
    )
    assert refused.status_code == 422
    pointers = {e["pointer"] for e in refused.json()["errors"]}
    assert f"#/body/findings/{len(CODES)}/question_code" in pointers
    assert f"#/body/findings/{len(CODES) + 1}/question_code" in pointers  # twice
    assert f"#/body/findings/{len(CODES) + 1}/workers_affected" in pointers  # only for non-compliance
    assert (await client.get(f"/v1/assessments/{assessment['id']}/findings", headers=headers)).json() == []


# ---- zero tolerance ------------------------------------------------------------------------------------------------


async def test_a_zero_tolerance_finding_opens_a_case_at_once_without_evidence_in_the_event(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    assessment = await in_progress(client, test_platform)
    question = ZT[0]
    recorded = await client.put(
        f"/v1/assessments/{assessment['id']}/findings/{question['code']}",
        json={"result": "non_compliant", "evidence": "Worker Srey Pov, 13, at line 4", "workers_affected": 1},
        headers=headers,
    )
    (case_id,) = recorded.json()["zero_tolerance_cases_opened"]
    again = await client.put(
        f"/v1/assessments/{assessment['id']}/findings/{question['code']}",
        json={"result": "non_compliant", "evidence": "Confirmed", "workers_affected": 1},
        headers=headers,
    )
    assert again.json()["zero_tolerance_cases_opened"] == []  # one case per finding
    (event,) = await outbox(test_platform, case_id)
    assert event["topic"] == "assessments.zero-tolerance" and event["type"] == "case_opened"
    assert set(event["payload"]) == {"case_id", "factory_id", "country", "category", "source", "opened_at", "notify"}
    assert event["payload"]["category"] == question["zero_tolerance_category"]
    assert "Srey" not in json.dumps(event)

    case = (await client.get(f"/v1/zero-tolerance-cases/{case_id}", headers=headers)).json()
    assert case["status"] == "opened" and case["assessment_id"] == assessment["id"]
    assert "ministry_of_labour" in case["notify"]
    skip = await client.post(f"/v1/zero-tolerance-cases/{case_id}/transitions", json={"to": "closed"}, headers=headers)
    assert skip.status_code == 409
    for step in ("referred", "acknowledged", "remediation"):
        moved = await client.post(f"/v1/zero-tolerance-cases/{case_id}/transitions", json={"to": step}, headers=headers)
        assert moved.status_code == 200, moved.text
    closed = await client.post(
        f"/v1/zero-tolerance-cases/{case_id}/transitions",
        json={"to": "closed", "note": "child removed from work, schooling paid"},
        headers=headers,
    )
    assert closed.json()["status"] == "closed"
    assert [s["to_status"] for s in closed.json()["steps"]] == [
        "opened",
        "referred",
        "acknowledged",
        "remediation",
        "closed",
    ]
    assert [e["type"] for e in await outbox(test_platform, case_id)] == ["case_opened"] + ["case_updated"] * 4


async def test_staff_report_a_case_from_outside_an_assessment(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    factory = await known_factory(test_platform)
    reported = await client.post(
        "/v1/zero-tolerance-cases",
        json={"factory_id": str(factory), "category": "forced_labour", "source": "hotline", "details": "exit locked"},
        headers=headers,
    )
    assert reported.status_code == 201, reported.text
    case = reported.json()
    assert (case["source"], case["assessment_id"], case["overdue"]) == ("hotline", None, False)
    (event,) = await outbox(test_platform, case["id"])
    assert event["payload"]["source"] == "hotline" and "exit locked" not in json.dumps(event)
    conn = await connect_as(test_platform, "assessments")
    try:
        await conn.execute(
            "UPDATE assessments.zt_case"
            " SET deadlines = jsonb_set(deadlines, '{referred}', '\"2020-01-01T00:00:00+00:00\"') WHERE id = $1",
            uuid.UUID(case["id"]),
        )
    finally:
        await conn.close()
    late = await client.get(
        "/v1/zero-tolerance-cases", params={"overdue": "true", "factory_id": str(factory)}, headers=headers
    )
    assert [(c["id"], c["overdue_steps"]) for c in late.json()["items"]] == [(case["id"], ["referred"])]
    other = await client.get(f"/v1/zero-tolerance-cases/{case['id']}", headers=staff(test_platform, "VN"))
    assert other.status_code == 404
    buyer = {"Authorization": f"Bearer {test_platform.token(Role.BUYER, organisation_id=str(uuid.uuid4()))}"}
    assert (await client.get("/v1/zero-tolerance-cases", headers=buyer)).status_code == 403


async def test_the_overdue_filter_gives_full_pages_of_late_cases(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """Five cases at a factory, the three oldest late: `overdue=true` pages through exactly those three, two to a
    page (the filter is applied before the page is cut, not to the page), and `overdue=false` gives the others."""
    headers = staff(test_platform)
    factory = await known_factory(test_platform)
    ids = []
    for _ in range(5):
        reported = await client.post(
            "/v1/zero-tolerance-cases",
            json={"factory_id": str(factory), "category": "forced_labour", "source": "hotline"},
            headers=headers,
        )
        assert reported.status_code == 201, reported.text
        ids.append(reported.json()["id"])
    late, on_time = ids[:3], ids[3:]
    conn = await connect_as(test_platform, "assessments")
    try:
        await conn.execute(
            "UPDATE assessments.zt_case"
            " SET deadlines = jsonb_set(deadlines, '{referred}', '\"2020-01-01T00:00:00+00:00\"') WHERE id = ANY($1)",
            [uuid.UUID(i) for i in late],
        )
    finally:
        await conn.close()

    async def pages(overdue: str) -> list[list[str]]:
        found, cursor = [], None
        while True:
            params = {"overdue": overdue, "factory_id": str(factory), "limit": "2"} | (
                {"cursor": cursor} if cursor else {}
            )
            answer = await client.get("/v1/zero-tolerance-cases", params=params, headers=headers)
            assert answer.status_code == 200, answer.text
            found.append([c["id"] for c in answer.json()["items"]])
            assert all(c["overdue"] is (overdue == "true") for c in answer.json()["items"])
            cursor = answer.json()["next_cursor"]
            if cursor is None:
                return found

    assert await pages("true") == [late[::-1][:2], late[::-1][2:]]  # newest first
    assert await pages("false") == [on_time[::-1]]


# ---- revisions, reports, figures ------------------------------------------------------------------------------------


async def test_a_finalised_finding_is_corrected_only_by_a_revision_another_staff_member_approves(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    assessment = await finalised(client, test_platform, {PLAIN[0]: "non_compliant"})
    url = f"/v1/assessments/{assessment['id']}/findings/{PLAIN[0]}"
    assert (await client.put(url, json={"result": "compliant"}, headers=headers)).status_code == 409
    no_reason = await client.post(f"{url}/revisions", json={"result": "compliant", "reason": ""}, headers=headers)
    assert no_reason.status_code == 422
    proposed = await client.post(
        f"{url}/revisions",
        json={"result": "compliant", "reason": "payroll records found after the visit"},
        headers=headers,
    )
    assert proposed.status_code == 201 and proposed.json()["status"] == "proposed"
    pid = proposed.json()["id"]
    unchanged = (await client.get(f"/v1/assessments/{assessment['id']}/findings", headers=headers)).json()
    assert next(f for f in unchanged if f["question_code"] == PLAIN[0])["result"] == "non_compliant"
    own = await client.post(f"{url}/revision-proposals/{pid}/approval", json={}, headers=headers)
    assert own.status_code == 403  # nobody approves their own correction
    other = staff(test_platform, subject="ea-vanna")
    approved = await client.post(f"{url}/revision-proposals/{pid}/approval", json={}, headers=other)
    assert approved.status_code == 200, approved.text
    assert approved.json()["revision"] == 2 and approved.json()["proposal"]["decided_by"] == "ea-vanna"
    twice = await client.post(f"{url}/revision-proposals/{pid}/approval", json={}, headers=team_leader(test_platform))
    assert twice.status_code == 409
    history = (await client.get(f"{url}/revisions", headers=headers)).json()
    assert [(h["revision"], h["result"], h["author"], h["approved_by"]) for h in history] == [
        (1, "non_compliant", "ea-dara", None),
        (2, "compliant", "ea-dara", "ea-vanna"),
    ]
    assert history[1]["reason"] == "payroll records found after the visit"

    back = await client.post(f"{url}/revisions", json={"result": "non_compliant", "reason": "undo"}, headers=other)
    no_note = await client.post(f"{url}/revision-proposals/{back.json()['id']}/rejection", json={}, headers=headers)
    assert no_note.status_code == 409
    rejected = await client.post(
        f"{url}/revision-proposals/{back.json()['id']}/rejection", json={"note": "no new facts"}, headers=headers
    )
    assert rejected.status_code == 200 and rejected.json()["proposal"]["status"] == "rejected"
    assert len((await client.get(f"{url}/revisions", headers=headers)).json()) == 2
    proposals = (await client.get(f"{url}/revision-proposals", headers=headers)).json()
    assert [p["status"] for p in proposals] == ["approved", "rejected"]
    event = next(e for e in await outbox(test_platform, assessment["id"]) if e["type"] == "revised")["payload"]
    assert (event["revision"], event["result"], event["previous_result"]) == (2, "compliant", "non_compliant")


async def test_report_figures_on_a_known_assessment(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    """Hand-checked: 2 non-compliant and 1 not applicable of the 6 Child Labour questions."""
    headers = staff(test_platform)
    cl = [q["code"] for q in TOOL["questions"] if q["code"].startswith("KH-CL-")]
    overrides = {cl[1]: "non_compliant", cl[3]: "non_compliant", cl[5]: "not_applicable"}
    assessment = await finalised(client, test_platform, overrides)
    report = (await client.get(f"/v1/assessments/{assessment['id']}/report", headers=headers)).json()
    clusters = {c["code"]: c for c in report["clusters"]}
    assert len(clusters) == 8
    assert clusters["CL"]["non_compliance"] == {"non_compliant": 2, "applicable": 5, "rate": 0.4}
    assert clusters["OS"]["non_compliance"]["rate"] == 0.0
    assert report["non_compliance"] == {
        "non_compliant": 2,
        "applicable": len(CODES) - 1,
        "rate": round(2 / (len(CODES) - 1), 4),
    }
    marked = {
        q["code"]
        for c in report["clusters"]
        for p in c["compliance_points"]
        for q in p["questions"]
        if q["publicly_reported"]
    }
    assert marked == set(PUBLIC)
    public_nc = sum(1 for code in (cl[1], cl[3]) if code in PUBLIC)
    assert report["publicly_reported_non_compliance"]["non_compliant"] == public_nc

    as_csv = await client.get(f"/v1/assessments/{assessment['id']}/report", params={"format": "csv"}, headers=headers)
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == len(CODES)
    assert {r["question_code"]: r["result"] for r in rows}[cl[1]] == "non_compliant"


async def test_country_average_is_mean_per_factory_then_averaged(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """Factory A: 1 of 23 publicly reported issues non-compliant, B: 3 of 23; (1/23 + 3/23) / 2 = 0.087."""
    country = "KH"
    headers = staff(test_platform)
    window = {"start_date": "2031-03-02", "end_date": "2031-03-03"}
    await finalised(client, test_platform, {PUBLIC[0]: "non_compliant"}, **window)
    await finalised(client, test_platform, dict.fromkeys(PUBLIC[:3], "non_compliant"), **window)
    figures = await client.get(
        "/v1/statistics/public-non-compliance",
        params={"country": country, "from": "2031-03-01", "to": "2031-03-31"},
        headers=headers,
    )
    assert figures.status_code == 200, figures.text
    assert (figures.json()["factories"], figures.json()["average_rate"]) == (2, 0.087)


# ---- who may read ----------------------------------------------------------------------------------------------------


async def test_report_access_per_role(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    headers = staff(test_platform)
    assessment = await in_progress(client, test_platform)
    aid, factory = assessment["id"], assessment["factory_id"]
    factory_user = {"Authorization": f"Bearer {test_platform.token(Role.FACTORY, organisation_id=factory)}"}
    buyer_id = uuid.uuid4()
    buyer = {"Authorization": f"Bearer {test_platform.token(Role.BUYER, organisation_id=str(buyer_id))}"}
    other_staff = staff(test_platform, "VN")
    report = f"/v1/assessments/{aid}/report"
    assert (await client.get(report, headers=factory_user)).status_code == 404  # not released yet
    findings = all_compliant()
    findings[0] = {
        **findings[0],
        "result": "non_compliant",
        "evidence": "Worker Dara, 14, line 3",
        "explanation": "A worker under the minimum age was found at work.",
        "severity": "critical",
    }
    await client.put(f"/v1/assessments/{aid}/findings", json={"findings": findings}, headers=headers)
    await release(client, headers, team_leader(test_platform), aid)
    mine = await client.get(report, headers=factory_user)
    assert mine.status_code == 200
    first = mine.json()["clusters"][0]["compliance_points"][0]["questions"][0]
    assert "evidence" not in first and "Dara" not in mine.text  # evidence is for staff only
    assert (first["explanation"], first["severity"]) == (
        "A worker under the minimum age was found at work.",
        "critical",
    )
    as_csv = await client.get(report, params={"format": "csv"}, headers=factory_user)
    assert "Dara" not in as_csv.text
    first_row = next(csv.DictReader(io.StringIO(as_csv.text)))
    assert (first_row["severity"], first_row["evidence"]) == ("critical", "")
    assert first_row["explanation"] == "A worker under the minimum age was found at work."
    staff_view = (await client.get(report, headers=headers)).json()["clusters"][0]["compliance_points"][0]
    assert staff_view["questions"][0]["evidence"] == "Worker Dara, 14, line 3"
    assert (await client.get(report, headers=buyer)).status_code == 404  # no access granted
    assert (await client.get(report, headers=other_staff)).status_code == 404
    assert (await client.get(report)).status_code == 401

    conn = await connect_as(test_platform, "assessments")
    try:  # as the report-access projection records a grant (the event path is tested in tests/events)
        await conn.execute(
            "INSERT INTO assessments.report_access VALUES ($1, $2, 1, true, now())", buyer_id, uuid.UUID(factory)
        )
    finally:
        await conn.close()
    seen = await client.get(report, headers=buyer)
    assert seen.status_code == 200
    assert "evidence" not in seen.json()["clusters"][0]["compliance_points"][0]["questions"][0]
    assert (await client.get(f"/v1/assessments/{aid}/findings", headers=buyer)).status_code == 403
    stranger = {"Authorization": f"Bearer {test_platform.token(Role.FACTORY, organisation_id=str(uuid.uuid4()))}"}
    assert (await client.get(report, headers=stranger)).status_code == 404
    results = await client.get(f"/v1/factories/{factory}/results", headers=factory_user)
    assert [r["assessment_id"] for r in results.json()] == [aid]


async def test_the_test_kit_releases_assessments_cycle_by_cycle_through_the_api(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    factory = await known_factory(test_platform)
    first = await released_assessment(
        client, headers, factory, results={PLAIN[0]: "non_compliant"}, platform=test_platform
    )
    second = await released_assessment(client, headers, factory, checker=team_leader(test_platform))
    assert [(a["cycle"], a["assessment_type"], a["status"]) for a in (first, second)] == [
        (1, "initial", "released"),
        (2, "regular", "released"),
    ]
    factory_user = {"Authorization": f"Bearer {test_platform.token(Role.FACTORY, organisation_id=str(factory))}"}
    results = (await client.get(f"/v1/factories/{factory}/results", headers=factory_user)).json()
    assert [(r["cycle"], r["non_compliance"]["non_compliant"]) for r in results] == [(1, 1), (2, 0)]


# ---- SLCP -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["ASI", "ASC", "VRP", "VRQ", "VRE", "VRC", "VRD", "VRF"])
async def test_slcp_import_of_each_status(client: httpx.AsyncClient, test_platform: TestPlatform, status: str) -> None:
    headers = staff(test_platform)
    facility = f"SLCP-F-{uuid.uuid4().hex[:8]}"
    factory = await known_factory(test_platform, slcp_facility_id=facility)
    mapped = [q for q in TOOL["questions"] if q.get("slcp")]
    document = {
        "format": "betterwork-slcp/1",
        "assessment_id": f"SLCP-{uuid.uuid4().hex[:8]}",
        "facility_id": facility,
        "status": status,
        "status_date": "2026-10-01",
        "answers": [
            {"question_id": mapped[0]["slcp"][0], "answer": "No", "finding": "non_compliant"},
            {"question_id": mapped[1]["slcp"][0], "answer": "Yes", "finding": "compliant"},
            {"question_id": "XX-UNK-01", "answer": "Yes", "finding": "compliant"},
        ],
    }
    imported = await client.post("/v1/slcp/imports", json=document, headers=headers)
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert body["factory_id"] == str(factory)
    assert body["verified"] is (status == "VRF")
    assert body["unmapped"] == ["XX-UNK-01"]
    assert body["findings"][mapped[0]["code"]] == "non_compliant"
    changed = {**document, "answers": document["answers"][:1]}
    again = await client.post("/v1/slcp/imports", json=changed, headers=headers)
    if status == "VRF":
        assert again.status_code == 409  # verified data is immutable
        same = await client.post("/v1/slcp/imports", json=document, headers=headers)
        assert same.json()["repeat"] is True
    else:
        assert again.status_code == 201  # unverified data may be replaced by a later state


async def test_a_released_assessment_exports_in_the_slcp_format(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    facility = f"SLCP-F-{uuid.uuid4().hex[:8]}"
    factory = await known_factory(test_platform, slcp_facility_id=facility)
    mapped = [q for q in TOOL["questions"] if q.get("slcp")]
    assessment = await schedule(client, headers, factory)
    await move(client, headers, assessment["id"], "in_progress")
    await client.put(
        f"/v1/assessments/{assessment['id']}/findings",
        json={"findings": all_compliant(**{mapped[0]["code"]: "non_compliant"})},
        headers=headers,
    )
    assert (await client.get(f"/v1/assessments/{assessment['id']}/slcp", headers=headers)).status_code == 409
    await release(client, headers, team_leader(test_platform), assessment["id"])
    exported = (await client.get(f"/v1/assessments/{assessment['id']}/slcp", headers=headers)).json()
    assert (exported["format"], exported["facility_id"], exported["assessment_status"]) == (
        "betterwork-assessment-for-slcp/1",
        facility,
        "released",
    )
    assert exported["slcp_verified"] is False and "not an SLCP-verified assessment" in exported["statement"]
    assert "status" not in exported and "verifier" not in exported  # no SLCP status, no pretended verifier
    answers = {a["question_id"]: a for a in exported["answers"]}
    under_15 = answers[mapped[0]["slcp"][0]]  # "Does the employer employ any workers under the age of 15?"
    assert (under_15["finding"], under_15["answer"]) == ("non_compliant", "Yes")
    hours = next(q for q in mapped if q["code"] == "KH-WT-01")  # "Do regular working hours exceed ...?"
    assert (answers[hours["slcp"][0]]["finding"], answers[hours["slcp"][0]]["answer"]) == ("compliant", "No")
    leave = next(q for q in mapped if q["code"] == "KH-FL-01")  # "Are workers free to leave ...?"
    assert answers[leave["slcp"][0]]["answer"] == "Yes"
    assert all(a["id_confirmed"] is False for a in answers.values())  # the shipped ids are patterned guesses
    assert sorted(exported["unconfirmed_question_ids"]) == sorted(answers)
    reimported = await client.post("/v1/slcp/imports", json=exported, headers=headers)
    assert reimported.status_code == 422  # Better Work data does not come back in as an SLCP assessment
