"""End to end across registry, assessments and partnerships, through real events and HTTP: a factory merge
propagates.

Two registered and enrolled factories, each with a released assessment and a buyer linked with consent and an
entitlement to its cycle 1. The registry merges the duplicate (assessed first) into the survivor. Then the
survivor holds both assessments, numbered by date (the duplicate's is cycle 1, the survivor's own cycle 2: no
second "initial" cycle 1); each buyer still reads exactly the report it paid for, under its new cycle; a
zero-tolerance case at the survivor alerts the buyer who was linked through the retired id; a write naming the
retired id is answered 409 with the survivor.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff, team_leader
from devstack.testkit.assessments import all_compliant, move, release, schedule, status_in_assessments
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.registry import new_factory
from devstack.testkit.waiting import wait_until


async def enrolled(registry: httpx.AsyncClient, headers: dict[str, str]) -> uuid.UUID:
    created = await registry.post("/v1/factories", json=new_factory(), headers=headers)
    assert created.status_code == 201, created.text
    factory_id = created.json()["factory"]["id"]
    moved = await registry.post(
        f"/v1/factories/{factory_id}/status-changes",
        json={"change": "enrolled", "service_package": "core", "start_date": "2026-08-01"},
        headers=headers,
    )
    assert moved.status_code == 201, moved.text
    return uuid.UUID(factory_id)


async def known_to(platform: TestPlatform, service: str, factory_id: uuid.UUID) -> bool:
    rows = await fetch(platform, service, f"SELECT 1 FROM {service}.factory_ref WHERE factory_id = $1", factory_id)
    return bool(rows)


async def linked_buyer(
    partnerships: httpx.AsyncClient, platform: TestPlatform, factory_id: uuid.UUID, name: str
) -> uuid.UUID:
    """A buyer with a confirmed link, the factory's consent (reports and alerts) and cycle 1 unlocked."""
    as_staff = staff(platform)
    made = await partnerships.post(
        "/v1/buyers", json={"name": name, "headquarters_country": "SE", "tier": "partner"}, headers=as_staff
    )
    assert made.status_code == 201, made.text
    buyer_id = made.json()["id"]
    link = await partnerships.post(
        "/v1/sourcing-links", json={"buyer_id": buyer_id, "factory_id": str(factory_id)}, headers=as_staff
    )
    assert link.status_code == 201, link.text
    consent = await partnerships.post(
        f"/v1/factories/{factory_id}/consents",
        json={"buyer_id": buyer_id, "scopes": ["assessment_reports", "zero_tolerance_alerts"]},
        headers=factory(platform, factory_id),
    )
    assert consent.status_code == 201, consent.text
    entitled = await partnerships.post(
        "/v1/entitlements", json={"buyer_id": buyer_id, "factory_id": str(factory_id), "cycle": 1}, headers=as_staff
    )
    assert entitled.status_code == 201, entitled.text
    return uuid.UUID(buyer_id)


async def released_on(
    assessments: httpx.AsyncClient, platform: TestPlatform, factory_id: uuid.UUID, start: str, end: str
) -> str:
    headers = staff(platform)
    assessment = await schedule(assessments, headers, factory_id, start_date=start, end_date=end)
    assert (await move(assessments, headers, assessment["id"], "in_progress")).status_code == 200
    recorded = await assessments.put(
        f"/v1/assessments/{assessment['id']}/findings", json={"findings": all_compliant()}, headers=headers
    )
    assert recorded.status_code == 200, recorded.text
    await release(assessments, headers, team_leader(platform), assessment["id"])
    return str(assessment["id"])


async def test_a_merge_moves_assessments_cycles_report_access_and_alerts_to_the_survivor(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    common = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    as_staff = staff(test_platform)
    async with (
        serve_in_process(test_platform.app("registry", **common)) as registry,
        serve_in_process(test_platform.app("assessments", **common)) as assessments,
        serve_in_process(
            test_platform.app("partnerships", **common, webhook_allow_private_targets=True)
        ) as partnerships,
    ):
        survivor, duplicate = await enrolled(registry, as_staff), await enrolled(registry, as_staff)
        for factory_id in (survivor, duplicate):
            await wait_until(lambda f=factory_id: known_to(test_platform, "partnerships", f), bool, timeout=60)
            await wait_until(
                lambda f=factory_id: status_in_assessments(test_platform, f), lambda s: s == "enrolled", timeout=60
            )
        via_duplicate = await linked_buyer(partnerships, test_platform, duplicate, "Nordic Outdoor")
        via_survivor = await linked_buyer(partnerships, test_platform, survivor, "Sunrise Apparel")
        duplicates_report = await released_on(assessments, test_platform, duplicate, "2026-09-01", "2026-09-02")
        survivors_report = await released_on(assessments, test_platform, survivor, "2026-10-05", "2026-10-06")

        async def reads(buyer_id: uuid.UUID, assessment_id: str) -> int:
            answer = await assessments.get(
                f"/v1/assessments/{assessment_id}/report", headers=buyer(test_platform, buyer_id)
            )
            return answer.status_code

        await wait_until(lambda: reads(via_duplicate, duplicates_report), lambda s: s == 200, timeout=60)
        await wait_until(lambda: reads(via_survivor, survivors_report), lambda s: s == 200, timeout=60)

        merged = await registry.post(
            f"/v1/factories/{survivor}/merges",
            json={"merged_id": str(duplicate), "reason": "same factory"},
            headers=as_staff,
        )
        assert merged.status_code == 200, merged.text

        # assessments: both assessments are the survivor's, the cycles numbered by date
        async def survivors_cycles() -> dict[str, int]:
            listed = await assessments.get("/v1/assessments", params={"factory_id": str(survivor)}, headers=as_staff)
            return {a["id"]: a["cycle"] for a in listed.json()["items"]}

        cycles = await wait_until(survivors_cycles, lambda found: len(found) == 2, timeout=60)
        assert cycles == {duplicates_report: 1, survivors_report: 2}

        # report access follows each cycle to its new number, in assessments and in partnerships
        async def access(buyer_id: uuid.UUID) -> list[tuple[int, bool]]:
            answer = await partnerships.get(
                "/v1/report-access", params={"buyer_id": str(buyer_id), "factory_id": str(survivor)}, headers=as_staff
            )
            return [(d["cycle"], d["granted"]) for d in answer.json()]

        await wait_until(lambda: access(via_duplicate), lambda d: d == [(1, True)], timeout=60)
        await wait_until(lambda: access(via_survivor), lambda d: d == [(2, True)], timeout=60)
        assert await reads(via_duplicate, duplicates_report) == 200
        assert await reads(via_survivor, survivors_report) == 200
        await wait_until(lambda: reads(via_duplicate, survivors_report), lambda s: s == 404, timeout=60)
        assert await reads(via_survivor, duplicates_report) == 404

        # the next assessment counts on from the survivor's merged history: cycle 3, not a second cycle 1
        refused = await assessments.post(
            "/v1/assessments",
            json={
                "factory_id": str(duplicate),
                "assessment_type": "regular",
                "start_date": "2026-12-01",
                "end_date": "2026-12-02",
            },
            headers=as_staff,
        )
        assert refused.status_code == 409 and refused.json()["survivor_id"] == str(survivor)
        later = await schedule(
            assessments, as_staff, survivor, assessment_type="regular", start_date="2026-12-01", end_date="2026-12-02"
        )
        assert later["cycle"] == 3

        # a zero-tolerance case at the survivor alerts the buyer linked through the retired id
        case = await assessments.post(
            "/v1/zero-tolerance-cases",
            json={"factory_id": str(survivor), "category": "forced_labour", "source": "hotline"},
            headers=as_staff,
        )
        assert case.status_code == 201, case.text

        async def alerts_of(buyer_id: uuid.UUID) -> list[dict[str, Any]]:
            answer = await partnerships.get("/v1/alerts", headers=buyer(test_platform, buyer_id))
            found: list[dict[str, Any]] = answer.json()["items"]
            return found

        (alert,) = await wait_until(lambda: alerts_of(via_duplicate), lambda found: len(found) == 1, timeout=60)
        assert (alert["case_id"], alert["factory_id"]) == (case.json()["id"], str(survivor))
        (other,) = await alerts_of(via_survivor)
        assert other["case_id"] == case.json()["id"]
        consent = await partnerships.post(
            f"/v1/factories/{duplicate}/consents",
            json={"buyer_id": str(via_survivor), "scopes": ["assessment_reports"]},
            headers=factory(test_platform, duplicate),
        )
        assert consent.status_code == 409 and consent.json()["survivor_id"] == str(survivor)
