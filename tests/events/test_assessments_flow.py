"""Assessments through real events: a factory enrolled at the registry is assessed; a zero-tolerance finding
reaches an outside Kafka consumer at once without evidence; access decisions from partnerships open reports."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from betterwork_contracts.events.partnerships import ReportAccessGranted, ReportAccessRevoked
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff, team_leader
from devstack.testkit.assessments import (
    all_compliant,
    kh_tool,
    known_factory,
    move,
    release,
    schedule,
    status_in_assessments,
)
from devstack.testkit.events import cloudevent_headers, on, produce_raw
from devstack.testkit.registry import new_factory
from devstack.testkit.waiting import wait_until
from servicekit.auth import Role


async def test_an_outside_consumer_hears_of_a_zero_tolerance_finding_at_once_without_evidence(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    headers = staff(test_platform)
    async with (
        serve_in_process(test_platform.app("registry", **on(dedicated_broker, topic_prefix))) as registry,
        serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))) as assessments,
    ):
        created = await registry.post("/v1/factories", json=new_factory(), headers=headers)
        factory_id = created.json()["factory"]["id"]
        enrolled = await registry.post(
            f"/v1/factories/{factory_id}/status-changes",
            json={"change": "enrolled", "service_package": "core", "start_date": "2027-01-01"},
            headers=headers,
        )
        assert enrolled.status_code == 201

        await wait_until(
            lambda: status_in_assessments(test_platform, uuid.UUID(factory_id)),
            lambda status: status == "enrolled",
            timeout=60,
        )
        assessment = await schedule(assessments, headers, uuid.UUID(factory_id))
        assert (await move(assessments, headers, assessment["id"], "in_progress")).status_code == 200

        consumer = AIOKafkaConsumer(bootstrap_servers=dedicated_broker.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            topic = f"{topic_prefix}assessments.zero-tolerance"
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or range(6)]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            question = next(q for q in kh_tool()["questions"] if "zero_tolerance" in (q.get("tags") or []))
            sent = time.monotonic()
            recorded = await assessments.put(
                f"/v1/assessments/{assessment['id']}/findings/{question['code']}",
                json={
                    "result": "non_compliant",
                    "evidence": "Worker Sokha, 13, sewing at line 2",
                    "workers_affected": 1,
                },
                headers=headers,
            )
            (case_id,) = recorded.json()["zero_tolerance_cases_opened"]
            record = await asyncio.wait_for(consumer.getone(), 30)
            waited = time.monotonic() - sent
        finally:
            await consumer.stop()

    headers_of = {k: v.decode() for k, v in record.headers}
    assert headers_of["ce_type"] == "org.betterwork.assessments.zero_tolerance.case_opened.v1"
    assert record.key == case_id.encode()
    payload = json.loads(record.value)
    assert payload["case_id"] == case_id and payload["factory_id"] == factory_id
    assert payload["category"] == question["zero_tolerance_category"]
    assert "evidence" not in payload and "Sokha" not in record.value.decode()
    assert waited < 10, f"the event took {waited:.1f} s"


def partnerships_headers(event: ReportAccessGranted | ReportAccessRevoked) -> list[tuple[str, bytes]]:
    return cloudevent_headers(event, source="/partnerships")


async def test_access_decisions_from_partnerships_open_and_close_a_buyers_report(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    headers = staff(test_platform)
    factory = await known_factory(test_platform)
    buyer_id = uuid.uuid4()
    buyer = {"Authorization": f"Bearer {test_platform.token(Role.BUYER, organisation_id=str(buyer_id))}"}
    async with serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))) as assessments:
        assessment = await schedule(assessments, headers, factory)
        aid = assessment["id"]
        await move(assessments, headers, aid, "in_progress")
        await assessments.put(f"/v1/assessments/{aid}/findings", json={"findings": all_compliant()}, headers=headers)
        await release(assessments, headers, team_leader(test_platform), aid)
        report = f"/v1/assessments/{aid}/report"
        assert (await assessments.get(report, headers=buyer)).status_code == 404

        topic = f"{topic_prefix}partnerships.report-access"
        granted = ReportAccessGranted(factory_id=factory, buyer_id=buyer_id, cycle=1, decided_at=datetime.now(UTC))
        await produce_raw(
            dedicated_broker.bootstrap_servers,
            topic,
            [
                (
                    str(factory).encode(),
                    granted.model_dump_json().encode(),
                    cloudevent_headers(granted, source="/partnerships"),
                )
            ],
        )

        async def buyer_status() -> int:
            return (await assessments.get(report, headers=buyer)).status_code

        await wait_until(buyer_status, lambda status: status == 200, timeout=60)
        revoked = ReportAccessRevoked(factory_id=factory, buyer_id=buyer_id, cycle=1, decided_at=datetime.now(UTC))
        await produce_raw(
            dedicated_broker.bootstrap_servers,
            topic,
            [
                (
                    str(factory).encode(),
                    revoked.model_dump_json().encode(),
                    cloudevent_headers(revoked, source="/partnerships"),
                )
            ],
        )
        await wait_until(buyer_status, lambda status: status == 404, timeout=60)
