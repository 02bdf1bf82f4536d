"""The report as a hot read: rendered once per version and served as bytes, yet a revision, a revoked access and
the reader's kind show in the very next answer (real Postgres, the real broker for partnerships' decisions)."""

from __future__ import annotations

import uuid

import httpx

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import buyer, factory, staff, team_leader
from devstack.testkit.advisory import publish
from devstack.testkit.assessments import (
    all_compliant,
    finalise,
    kh_tool,
    known_factory,
    move,
    release,
    released_assessment,
    report_access,
    schedule,
)
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.waiting import wait_until

PLAIN = [q["code"] for q in kh_tool()["questions"] if not q.get("tags")]


def result_of(report: httpx.Response, code: str) -> str:
    questions = (q for c in report.json()["clusters"] for p in c["compliance_points"] for q in p["questions"])
    return str(next(q["result"] for q in questions if q["code"] == code))


async def test_a_revision_shows_in_the_next_read_of_the_report_for_every_reader(
    test_platform: TestPlatform,
) -> None:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    factory_id = await known_factory(test_platform)
    as_staff, as_factory = staff(test_platform), factory(test_platform, factory_id)
    async with serve_in_process(app) as client:
        assessment = await released_assessment(
            client, as_staff, factory_id, results={PLAIN[0]: "non_compliant"}, platform=test_platform
        )
        aid = assessment["id"]
        await finalise(client, as_staff, as_factory, aid)
        url = f"/v1/assessments/{aid}/report"
        first, again = await client.get(url, headers=as_factory), await client.get(url, headers=as_factory)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content and result_of(first, PLAIN[0]) == "non_compliant"
        assert first.headers["content-type"] == "application/json"
        overall = first.json()["non_compliance"]["non_compliant"]

        finding = f"/v1/assessments/{aid}/findings/{PLAIN[0]}"
        proposed = await client.post(
            f"{finding}/revisions", json={"result": "compliant", "reason": "records found later"}, headers=as_staff
        )
        assert proposed.status_code == 201, proposed.text
        approved = await client.post(
            f"{finding}/revision-proposals/{proposed.json()['id']}/approval",
            json={},
            headers=staff(test_platform, subject="ea-vanna"),
        )
        assert approved.status_code == 200, approved.text

        revised = await client.get(url, headers=as_factory)
        assert revised.status_code == 200
        assert result_of(revised, PLAIN[0]) == "compliant"
        assert revised.json()["non_compliance"]["non_compliant"] == overall - 1
        question = next(
            q
            for c in revised.json()["clusters"]
            for p in c["compliance_points"]
            for q in p["questions"]
            if q["code"] == PLAIN[0]
        )
        assert question["revision"] == 2
        assert result_of(await client.get(url, headers=as_staff), PLAIN[0]) == "compliant"


async def test_evidence_served_to_staff_is_never_served_to_the_factory(test_platform: TestPlatform) -> None:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    factory_id = await known_factory(test_platform)
    as_staff = staff(test_platform)
    async with serve_in_process(app) as client:
        aid = (await schedule(client, as_staff, factory_id))["id"]
        assert (await move(client, as_staff, aid, "in_progress")).status_code == 200
        noted = {"evidence": "Worker Dara, 14, line 3", "severity": "critical"}
        findings = [
            f | noted if f["question_code"] == PLAIN[0] else f for f in all_compliant(**{PLAIN[0]: "non_compliant"})
        ]
        recorded = await client.put(f"/v1/assessments/{aid}/findings", json={"findings": findings}, headers=as_staff)
        assert recorded.status_code == 200, recorded.text
        await release(client, as_staff, team_leader(test_platform), aid)
        url = f"/v1/assessments/{aid}/report"
        for_staff = await client.get(url, headers=as_staff)  # rendered with evidence first
        assert for_staff.status_code == 200 and "Worker Dara, 14, line 3" in for_staff.text
        for_factory = await client.get(url, headers=factory(test_platform, factory_id))
        assert for_factory.status_code == 200
        assert "evidence" not in for_factory.text and "Dara" not in for_factory.text
        assert (await client.get(url, headers=as_staff)).content == for_staff.content
        assert (await client.get(url, headers=staff(test_platform, "VN"))).status_code == 404
        stranger = factory(test_platform, uuid.uuid4())
        assert (await client.get(url, headers=stranger)).status_code == 404
        missing = await client.get(f"/v1/assessments/{uuid.uuid4()}/report", headers=as_staff)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_a_revoked_access_closes_the_report_to_the_buyer_in_the_next_read(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app("assessments", **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25))
    factory_id, buyer_id = await known_factory(test_platform), uuid.uuid4()
    as_buyer = buyer(test_platform, buyer_id)
    async with serve_in_process(app) as client:
        assessment = await released_assessment(
            client, staff(test_platform), factory_id, checker=team_leader(test_platform)
        )
        url = f"/v1/assessments/{assessment['id']}/report"
        assert (await client.get(url, headers=as_buyer)).status_code == 404  # nothing granted yet

        async def reads() -> int:
            return (await client.get(url, headers=as_buyer)).status_code

        await publish(
            dedicated_broker.bootstrap_servers,
            topic_prefix,
            report_access(factory_id, buyer_id, 1),
            source="/partnerships",
        )
        await wait_until(reads, lambda status: status == 200, timeout=30)
        assert "evidence" not in (await client.get(url, headers=as_buyer)).text

        revoked = report_access(factory_id, buyer_id, 1, granted=False)
        await publish(dedicated_broker.bootstrap_servers, topic_prefix, revoked, source="/partnerships")

        async def recorded() -> bool:
            query = "SELECT granted FROM assessments.report_access WHERE buyer_id = $1 AND factory_id = $2"
            rows = await fetch(test_platform, "assessments", query, buyer_id, factory_id)
            return bool(rows) and rows[0]["granted"] is False

        await wait_until(recorded, lambda done: done, timeout=30)
        closed = await client.get(url, headers=as_buyer)  # the very next read after the projection changed
        assert closed.status_code == 404
        assert (await client.get(url, headers=staff(test_platform))).status_code == 200
