"""A factory merge on the real broker: the retired factory's assessments, cycles, zero-tolerance cases and
report access move to the survivor in the transaction of the inbox record, the cycles of both renumbered by
date; a repeat of the event changes nothing; writes naming the retired id answer 409 with the survivor."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from assessments.domain.merge import CycleMember, renumber
from betterwork_contracts.events.registry import FactoryMerged
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, staff, team_leader
from devstack.testkit.advisory import publish
from devstack.testkit.assessments import all_compliant, known_factory, move, release, report_access, schedule
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.waiting import wait_until


def test_cycles_of_two_factories_are_numbered_by_first_visit_and_kept_whole() -> None:
    survivor, retired = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def member(factory_id: uuid.UUID, cycle: int, day: str, *, cancelled: bool = False) -> CycleMember:
        return CycleMember(uuid.uuid4(), factory_id, cycle, datetime.fromisoformat(day).date(), at, cancelled)

    s1, r1, r1_follow_up, s2, r_cancelled = (
        member(survivor, 1, "2026-03-01"),
        member(retired, 1, "2026-01-10"),
        member(retired, 1, "2026-06-01"),  # after the survivor's first visit, yet it stays in its own cycle
        member(survivor, 2, "2026-09-01"),
        member(retired, 2, "2026-10-01", cancelled=True),
    )
    result = renumber([s1, r1, r1_follow_up, s2, r_cancelled], survivor=survivor)
    assert result.assessments == {
        r1.assessment_id: 1, r1_follow_up.assessment_id: 1, s1.assessment_id: 2, s2.assessment_id: 3,
        r_cancelled.assessment_id: 4,
    }  # fmt: skip
    assert result.cycles == {(retired, 1): 1, (survivor, 1): 2, (survivor, 2): 3}  # a cancelled cycle counts for none


async def released_on(client: httpx.AsyncClient, platform: TestPlatform, factory_id: uuid.UUID, **dates: str) -> str:
    headers = staff(platform)
    assessment = await schedule(client, headers, factory_id, **dates)
    assert (await move(client, headers, assessment["id"], "in_progress")).status_code == 200
    recorded = await client.put(
        f"/v1/assessments/{assessment['id']}/findings", json={"findings": all_compliant()}, headers=headers
    )
    assert recorded.status_code == 200, recorded.text
    await release(client, headers, team_leader(platform), assessment["id"])
    return str(assessment["id"])


async def test_a_merge_moves_assessments_cases_and_report_access_to_the_survivor_with_cycles_renumbered(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app("assessments", **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25))
    survivor, retired = await known_factory(test_platform), await known_factory(test_platform)
    reader_of_retired, reader_of_survivor = uuid.uuid4(), uuid.uuid4()
    as_staff = staff(test_platform)
    async with serve_in_process(app) as client:
        survivors_first = await released_on(
            client, test_platform, survivor, start_date="2026-10-05", end_date="2026-10-06"
        )
        retireds_first = await released_on(
            client, test_platform, retired, start_date="2026-09-01", end_date="2026-09-02"
        )  # the earlier visit: it becomes the survivor's cycle 1
        case = await client.post(
            "/v1/zero-tolerance-cases",
            json={"factory_id": str(retired), "category": "forced_labour", "source": "hotline"},
            headers=as_staff,
        )
        assert case.status_code == 201, case.text
        for event in (report_access(retired, reader_of_retired, 1), report_access(survivor, reader_of_survivor, 1)):
            await publish(dedicated_broker.bootstrap_servers, topic_prefix, event, source="/partnerships")

        async def reads(buyer_id: uuid.UUID, assessment_id: str) -> int:
            answer = await client.get(f"/v1/assessments/{assessment_id}/report", headers=buyer(test_platform, buyer_id))
            return answer.status_code

        await wait_until(lambda: reads(reader_of_survivor, survivors_first), lambda s: s == 200, timeout=30)
        await wait_until(lambda: reads(reader_of_retired, retireds_first), lambda s: s == 200, timeout=30)

        merged = FactoryMerged(
            factory_id=retired, version=4, survivor_id=survivor, country="KH", merged_at=datetime.now(UTC)
        )
        for _ in range(2):  # the repeat changes nothing
            await publish(dedicated_broker.bootstrap_servers, topic_prefix, merged, source="/registry")

        async def survivors() -> dict[str, int]:
            listed = await client.get("/v1/assessments", params={"factory_id": str(survivor)}, headers=as_staff)
            return {a["id"]: a["cycle"] for a in listed.json()["items"]}

        cycles = await wait_until(survivors, lambda found: len(found) == 2, timeout=30)
        assert cycles == {retireds_first: 1, survivors_first: 2}
        left = await client.get("/v1/assessments", params={"factory_id": str(retired)}, headers=as_staff)
        assert left.json()["items"] == []

        # each buyer still reads exactly the report it was granted, under its new cycle
        assert await reads(reader_of_retired, retireds_first) == 200
        assert await reads(reader_of_retired, survivors_first) == 404
        assert await reads(reader_of_survivor, survivors_first) == 200
        assert await reads(reader_of_survivor, retireds_first) == 404

        cases = await client.get("/v1/zero-tolerance-cases", params={"factory_id": str(survivor)}, headers=as_staff)
        assert [c["id"] for c in cases.json()["items"]] == [case.json()["id"]]
        results = await client.get(f"/v1/factories/{survivor}/results", headers=as_staff)
        assert [r["cycle"] for r in results.json()] == [1, 2]  # each assessment counted once, for the survivor
        moved = await client.get(f"/v1/factories/{retired}/results", headers=as_staff, follow_redirects=False)
        assert moved.status_code == 308 and moved.headers["location"] == f"/v1/factories/{survivor}/results"
        hidden = await client.get(f"/v1/factories/{retired}/results", headers=buyer(test_platform, uuid.uuid4()))
        assert hidden.status_code == 404  # who may not see the factory learns nothing of the merge

        refused = await schedule_answer(client, as_staff, retired)
        assert refused.status_code == 409
        assert refused.json()["survivor_id"] == str(survivor)
        later = await schedule(
            client, as_staff, survivor, assessment_type="regular", start_date="2026-12-01", end_date="2026-12-02"
        )
        assert later["cycle"] == 3  # no second cycle 1: the survivor's history counts both factories

        renumbered = await fetch(
            test_platform,
            "assessments",
            "SELECT payload FROM assessments.outbox WHERE type = 'org.betterwork.assessments.cycles.renumbered.v1'"
            " AND aggregateid = $1",
            str(survivor),
        )
        assert len(renumbered) == 1  # once, though the merge arrived twice
        moves = json.loads(renumbered[0]["payload"])["moves"]
        assert {(m["factory_id"], m["from_cycle"], m["to_cycle"]) for m in moves} == {
            (str(retired), 1, 1),
            (str(survivor), 1, 2),
        }


async def schedule_answer(client: httpx.AsyncClient, headers: dict[str, str], factory_id: uuid.UUID) -> Any:
    body = {"factory_id": str(factory_id), "assessment_type": "regular", "start_date": "2026-12-01",
            "end_date": "2026-12-02"}  # fmt: skip
    return await client.post("/v1/assessments", json=body, headers=headers)
