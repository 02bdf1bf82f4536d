"""Two concurrent updates of one aggregate cannot both win, against real Postgres: the row lock taken by the
use case serialises them, and the second is judged against the first one's result."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff, team_leader
from devstack.testkit.assessments import all_compliant, finalise, kh_tool, known_factory, move, release, schedule
from devstack.testkit.database import fetch

pytestmark = pytest.mark.asyncio

CODES = [q["code"] for q in kh_tool()["questions"]]


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def _types(platform: TestPlatform, assessment_id: str) -> list[str]:
    rows = await fetch(
        platform,
        "assessments",
        "SELECT type, payload FROM assessments.outbox WHERE aggregateid = $1 ORDER BY seq",
        assessment_id,
    )
    return [r["type"].split(".")[-2] + ":" + json.loads(r["payload"]).get("status", "") for r in rows]


async def test_two_concurrent_moves_of_one_assessment_cannot_both_win(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """Both start from `scheduled`: one moves it to in_progress, the other then finds it in progress (409)."""
    headers = staff(test_platform)
    assessment = await schedule(client, headers, await known_factory(test_platform))
    aid = assessment["id"]
    answers = await asyncio.gather(
        move(client, headers, aid, "in_progress"), move(client, team_leader(test_platform), aid, "in_progress")
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    (loser,) = (a for a in answers if a.status_code == 409)
    assert loser.json()["current_status"] == "in_progress"
    stored = await fetch(
        test_platform, "assessments", "SELECT status, version FROM assessments.assessment WHERE id = $1", aid
    )
    assert (stored[0]["status"], stored[0]["version"]) == ("in_progress", 2)
    history = (await client.get(f"/v1/assessments/{aid}/transitions", headers=headers)).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [("scheduled", "in_progress")]
    assert await _types(test_platform, aid) == ["scheduled:", "status_changed:in_progress"]


async def test_two_concurrent_approved_corrections_of_one_finding_are_serialised(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    """Two proposals, both based on revision 1, approved at once: the finding is locked, so they become
    revisions 2 and 3, never two 2s."""
    headers = staff(test_platform)
    assessment = await schedule(client, headers, await known_factory(test_platform))
    aid = assessment["id"]
    await move(client, headers, aid, "in_progress")
    recorded = await client.put(f"/v1/assessments/{aid}/findings", json={"findings": all_compliant()}, headers=headers)
    assert recorded.status_code == 200, recorded.text
    await release(client, headers, team_leader(test_platform), aid)
    await finalise(client, headers, factory(test_platform, assessment["factory_id"]), aid)
    url = f"/v1/assessments/{aid}/findings/{CODES[0]}/revisions"
    proposals = [
        (await client.post(url, json=body, headers=headers)).json()["id"]
        for body in (
            {"result": "non_compliant", "reason": "payslips recounted"},
            {"result": "not_applicable", "reason": "no such workers"},
        )
    ]
    approver = team_leader(test_platform)
    answers = await asyncio.gather(
        *(
            client.post(
                f"/v1/assessments/{aid}/findings/{CODES[0]}/revision-proposals/{pid}/approval",
                json={},
                headers=approver,
            )
            for pid in proposals
        )
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(a.json()["revision"] for a in answers) == [2, 3]
    history = (await client.get(url, headers=headers)).json()
    assert [h["revision"] for h in history] == [1, 2, 3]
    last = max(answers, key=lambda a: a.json()["revision"]).json()
    findings = (await client.get(f"/v1/assessments/{aid}/findings", headers=headers)).json()
    current = next(f for f in findings if f["question_code"] == CODES[0])
    assert (current["revision"], current["result"]) == (3, last["proposal"]["result"])
