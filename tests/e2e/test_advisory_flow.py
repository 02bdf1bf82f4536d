"""End to end across registry, assessments, partnerships and advisory, through real events and HTTP:

a factory registered and enrolled at the registry; three buyers linked with the factory's consent: one entitled to
cycle 1 with a consent covering progress reports (partnerships publishes `progress_report_access.granted`), one
entitled with a consent to assessment reports only, one consenting but not entitled; an assessment released with
non-compliances (advisory builds the improvement plan from `assessment.released` without anyone typing the
items); the factory works an item, staff issue PR1; the first buyer reads PR1 as JSON and PDF, the other two
cannot see it (the second reads the assessment report: the two kinds of report are decided apart).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff, team_leader
from devstack.testkit.assessments import kh_tool, released_assessment, status_in_assessments
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.partnerships import linked_buyer
from devstack.testkit.registry import enrolled_factory
from devstack.testkit.waiting import wait_until

QUESTIONS = kh_tool()["questions"]
PUBLIC = next(q["code"] for q in QUESTIONS if (q.get("tags") or []) == ["publicly_reported"])
PLAIN = [q["code"] for q in QUESTIONS if not q.get("tags")][:2]


async def test_a_released_assessment_becomes_a_plan_and_a_pr1_only_an_entitled_buyer_reads(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    common = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    as_staff = staff(test_platform, "KH")
    async with (
        serve_in_process(test_platform.app("registry", **common)) as registry,
        serve_in_process(test_platform.app("assessments", **common)) as assessments,
        serve_in_process(test_platform.app("partnerships", **common, webhook_worker_enabled=False)) as partnerships,
        serve_in_process(test_platform.app("advisory", **common)) as advisory,
    ):
        factory_id = uuid.UUID((await enrolled_factory(registry, as_staff))["id"])
        await wait_until(lambda: status_in_assessments(test_platform, factory_id), lambda s: s == "active", timeout=60)

        async def in_read_model(service: str) -> list[Any]:
            return await fetch(
                test_platform, service, f"SELECT 1 FROM {service}.factory_ref WHERE factory_id = $1", factory_id
            )

        await wait_until(lambda: in_read_model("partnerships"), bool, timeout=60)
        await wait_until(lambda: in_read_model("advisory"), bool, timeout=60)
        everything = ("assessment_reports", "progress_reports", "zero_tolerance_alerts")
        entitled = await linked_buyer(partnerships, test_platform, factory_id, cycle=1, scopes=everything)
        consenting_only = await linked_buyer(partnerships, test_platform, factory_id, cycle=None, scopes=everything)
        assessment_only = await linked_buyer(
            partnerships, test_platform, factory_id, cycle=1, scopes=("assessment_reports",)
        )

        results = {PUBLIC: "non_compliant", PLAIN[0]: "non_compliant", PLAIN[1]: "non_compliant"}
        released = await released_assessment(
            assessments, as_staff, factory_id, results=results, checker=team_leader(test_platform)
        )
        assert released["status"] == "released"

        async def plans() -> list[dict[str, Any]]:
            found = await advisory.get(
                "/v1/improvement-plans", params={"factory_id": str(factory_id)}, headers=as_staff
            )
            items: list[dict[str, Any]] = found.json()["items"]
            return items

        (plan,) = await wait_until(plans, bool, timeout=60)
        assert (plan["assessment_id"], plan["cycle"]) == (released["id"], 1)
        as_factory = factory(test_platform, factory_id)
        listed = await advisory.get(f"/v1/improvement-plans/{plan['id']}/items", headers=as_factory)
        items = {i["question_code"]: i for i in listed.json()["items"]}
        assert set(items) == set(results)
        assert items[PUBLIC]["publicly_reported"] and items[PUBLIC]["severity"] == "publicly_reported"

        done = await advisory.post(
            f"/v1/improvement-items/{items[PLAIN[0]]['id']}/transitions",
            json={"to": "reported_done"},
            headers=as_factory,
        )
        assert done.status_code == 200, done.text
        issued = await advisory.post(
            f"/v1/improvement-plans/{plan['id']}/progress-reports", json={"kind": "pr1"}, headers=as_staff
        )
        assert issued.status_code == 201, issued.text
        report_id = issued.json()["id"]

        reader = buyer(test_platform, entitled.buyer_id)

        async def read_as_entitled() -> httpx.Response:
            return await advisory.get(f"/v1/progress-reports/{report_id}", headers=reader)

        pr1 = await wait_until(read_as_entitled, lambda r: r.status_code == 200, timeout=60)
        content = pr1.json()
        assert content["report"]["kind"] == "pr1" and content["factory"]["id"] == str(factory_id)
        assert {i["question_code"]: i["status"] for i in content["items"]}[PLAIN[0]] == "reported_done"
        pdf = await advisory.get(f"/v1/progress-reports/{report_id}/pdf", headers=reader)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

        outsider = buyer(test_platform, consenting_only.buyer_id)
        assert (await advisory.get(f"/v1/progress-reports/{report_id}", headers=outsider)).status_code == 404
        assert (await advisory.get(f"/v1/progress-reports/{report_id}/pdf", headers=outsider)).status_code == 404
        assert (await advisory.get("/v1/progress-reports", headers=outsider)).json()["items"] == []

        # Entitled, but the factory consented to assessment reports only: the assessment report opens, PR1 does not.
        decisions = await partnerships.get(
            "/v1/report-access",
            params={"buyer_id": str(assessment_only.buyer_id), "factory_id": str(factory_id)},
            headers=as_staff,
        )
        assert [(d["cycle"], d["granted"], d["progress_reports_granted"]) for d in decisions.json()] == [
            (1, True, False)
        ]
        narrow = buyer(test_platform, assessment_only.buyer_id)
        report = await wait_until(
            lambda: assessments.get(f"/v1/assessments/{released['id']}/report", headers=narrow),
            lambda r: r.status_code == 200,
            timeout=60,
        )
        assert report.json()["assessment"]["id"] == released["id"]
        assert (await advisory.get(f"/v1/progress-reports/{report_id}", headers=narrow)).status_code == 404
        assert (await advisory.get("/v1/progress-reports", headers=narrow)).json()["items"] == []
