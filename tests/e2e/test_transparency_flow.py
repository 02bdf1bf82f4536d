"""End to end across registry, assessments and transparency, through real events and HTTP:

a Cambodian factory registered and enrolled at the registry; two assessments (2024 and 2025) scheduled, assessed,
released by a team leader and finalised after the factory waives its comment period, the second with an emergency
exit locked (a BFC critical issue); transparency learns all of it from `factory.*` and `assessment.finalised`
events; a candidate under the BFC rule set (two annual assessments) is computed, reviewed, and approved by a
second person; only then does the public factory page show the factory with the issue.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import factory, staff, team_leader
from devstack.testkit.assessments import all_compliant, finalise, move, release, schedule, status_in_assessments
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.registry import enrolled_factory
from devstack.testkit.transparency import staff_member
from devstack.testkit.waiting import wait_until

EXIT_LOCKED = "KH-OS-18"  # BFC critical issue 15: emergency exit doors are unlocked during working hours


async def test_a_finalised_assessment_reaches_the_public_factory_page_after_approval(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    common = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    as_staff = staff(test_platform, "KH")
    async with (
        serve_in_process(test_platform.app("registry", **common)) as registry,
        serve_in_process(test_platform.app("assessments", **common)) as assessments,
        serve_in_process(test_platform.app("transparency", **common)) as transparency,
    ):
        record = await enrolled_factory(registry, as_staff, name=f"Angkor Exit Garment {uuid.uuid4().hex[:6]}")
        factory_id, name = uuid.UUID(record["id"]), record["name"]
        await wait_until(lambda: status_in_assessments(test_platform, factory_id), lambda s: s == "active", timeout=60)

        for year, kind, results in ((2024, "initial", {}), (2025, "regular", {EXIT_LOCKED: "non_compliant"})):
            assessment = await schedule(
                assessments,
                as_staff,
                factory_id,
                assessment_type=kind,
                start_date=f"{year}-05-06",
                end_date=f"{year}-05-07",
            )
            aid = assessment["id"]
            assert (await move(assessments, as_staff, aid, "in_progress")).status_code == 200
            recorded = await assessments.put(
                f"/v1/assessments/{aid}/findings", json={"findings": all_compliant(**results)}, headers=as_staff
            )
            assert recorded.status_code == 200, recorded.text
            await release(assessments, as_staff, team_leader(test_platform), aid)
            finalised = await finalise(assessments, as_staff, factory(test_platform, factory_id), aid)
            assert finalised["status"] == "finalised"

        async def learnt() -> list[Any]:
            return await fetch(
                test_platform,
                "transparency",
                "SELECT kind FROM transparency.fact"
                " WHERE payload->>'factory_id' = $1 AND kind = 'assessment_finalised'",
                str(factory_id),
            )

        await wait_until(learnt, lambda rows: len(rows) == 2, timeout=60)
        assert (await transparency.get(f"/portal/factories/{factory_id}")).status_code == 404

        preparer, reviewer, approver = (staff_member(test_platform, "KH", s) for s in ("ea-dara", "ea-sok", "tl-vanna"))
        created = await transparency.post(
            "/v1/publications", json={"country": "KH", "cut_off": date.today().isoformat()}, headers=preparer
        )
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        diffs = (await transparency.get(f"/v1/publications/{pid}/differences", headers=reviewer)).json()
        assert {"factory_id": str(factory_id), "name": name, "change": "listed", "details": []} in diffs
        assert (await transparency.post(f"/v1/publications/{pid}/review", headers=reviewer)).status_code == 200
        assert (await transparency.get(f"/portal/factories/{factory_id}")).status_code == 404  # not yet approved
        approved = await transparency.post(f"/v1/publications/{pid}/approve", headers=approver)
        assert approved.status_code == 200, approved.text

        page = await transparency.get(f"/portal/factories/{factory_id}")
        assert page.status_code == 200
        assert name in page.text and "Emergency exit doors are unlocked during working hours" in page.text
        shown = (await transparency.get(f"/public/v1/factories/{factory_id}")).json()["current"]
        issues = {i["question_code"]: i["result"] for i in shown["issues"]}
        assert issues[EXIT_LOCKED] == "non_compliant" and len(issues) == 21
        assert (shown["assessments_counted"], shown["assessed_on"]) == (2, "2025-05-07")
