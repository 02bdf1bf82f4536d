"""`assessment.released` and `assessment.finalised` carry what advisory builds an improvement plan from: each
non-compliant question with its compliance point, cluster and tags, the last visit day and the cycle."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff, team_leader
from devstack.testkit.assessments import all_compliant, finalise, kh_tool, known_factory, move, release, schedule
from devstack.testkit.database import fetch

pytestmark = pytest.mark.asyncio

TOOL = kh_tool()
QUESTIONS = {q["code"]: q for q in TOOL["questions"]}


def tagged(tag: str) -> str:
    return next(str(code) for code, q in QUESTIONS.items() if tag in (q.get("tags") or []))


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def payload(platform: TestPlatform, aggregate_id: str, kind: str) -> dict[str, Any]:
    rows = await fetch(
        platform,
        "assessments",
        "SELECT type, payload FROM assessments.outbox WHERE aggregateid = $1 ORDER BY seq",
        aggregate_id,
    )
    found: dict[str, Any] = next(json.loads(r["payload"]) for r in rows if r["type"].split(".")[-2] == kind)
    return found


async def test_released_and_finalised_events_carry_each_non_compliance_with_its_tags(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    public, gender = tagged("publicly_reported"), tagged("gender_sensitive")
    plain = next(code for code, q in QUESTIONS.items() if not q.get("tags"))
    assessment = await schedule(
        client, headers, await known_factory(test_platform), start_date="2026-11-02", end_date="2026-11-04"
    )
    aid = assessment["id"]
    assert (await move(client, headers, aid, "in_progress")).status_code == 200
    findings = all_compliant(**{public: "non_compliant", gender: "non_compliant", plain: "non_compliant"})
    for finding in findings:
        if finding["question_code"] == plain:
            finding["workers_affected"] = 37
    recorded = await client.put(f"/v1/assessments/{aid}/findings", json={"findings": findings}, headers=headers)
    assert recorded.status_code == 200, recorded.text
    for to, who in (
        ("draft_submitted", headers),
        ("quality_checked", team_leader(test_platform)),
        ("released", team_leader(test_platform)),
    ):
        assert (await move(client, who, aid, to)).status_code == 200

    released = await payload(test_platform, aid, "released")

    assert (released["cycle"], released["last_visit_day"]) == (1, "2026-11-04")
    assert released["tool_version_id"] == assessment["tool_version_id"]
    lines = {line["question_code"]: line for line in released["non_compliances"]}
    assert set(lines) == {public, gender, plain}
    assert lines[public]["publicly_reported"] is True
    assert lines[gender]["gender_sensitive"] is True
    assert lines[plain] == {
        "question_code": plain,
        "compliance_point": QUESTIONS[plain]["compliance_point"],
        "cluster": QUESTIONS[plain]["compliance_point"].split("-")[0],
        "publicly_reported": False,
        "gender_sensitive": False,
        "zero_tolerance": False,
        "workers_affected": 37,
    }

    await finalise(client, headers, factory(test_platform, assessment["factory_id"]), aid)
    finalised = await payload(test_platform, aid, "finalised")
    assert finalised["last_visit_day"] == "2026-11-04"
    assert finalised["non_compliances"] == released["non_compliances"]
    assert len(finalised["results"]) == len(QUESTIONS)


async def test_a_release_with_no_non_compliance_says_so(client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    headers = staff(test_platform)
    assessment = await schedule(client, headers, await known_factory(test_platform))
    aid = assessment["id"]
    assert (await move(client, headers, aid, "in_progress")).status_code == 200
    recorded = await client.put(f"/v1/assessments/{aid}/findings", json={"findings": all_compliant()}, headers=headers)
    assert recorded.status_code == 200
    await release(client, headers, team_leader(test_platform), aid)
    released = await payload(test_platform, aid, "released")
    assert released["non_compliances"] == [] and released["last_visit_day"] == "2026-11-03"
    assert uuid.UUID(released["tool_version_id"])
