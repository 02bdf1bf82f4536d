"""advisory's consumer on a real broker: `assessment.released` from the assessments topic becomes a plan, a
malformed one goes to the dead-letter topic with its reason and the consumer keeps going."""

from __future__ import annotations

import uuid

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.advisory import known_factory, non_compliance, publish, released
from devstack.testkit.events import cloudevent_headers, on, produce_raw
from devstack.testkit.waiting import metric_value, wait_until


async def test_released_events_from_the_broker_become_plans_and_bad_ones_are_dead_lettered(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app("advisory", **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25))
    factory_id = await known_factory(test_platform)
    good = released(factory_id, [non_compliance("KH-OSH-03", publicly_reported=True)])
    bad = released(uuid.uuid4(), [])
    body = bad.model_dump_json().replace('"cycle":1', '"cycle":0').encode()  # below the contract's minimum
    async with serve_in_process(app) as client:
        topic = topic_prefix + good.topic.name
        await produce_raw(
            dedicated_broker.bootstrap_servers,
            topic,
            [(bad.aggregate_id.encode(), body, cloudevent_headers(bad, source="/assessments"))],
        )
        await publish(dedicated_broker.bootstrap_servers, topic_prefix, good, source="/assessments")

        async def plans() -> list[dict[str, object]]:
            found = await client.get(
                "/v1/improvement-plans", params={"factory_id": str(factory_id)}, headers=staff(test_platform)
            )
            items: list[dict[str, object]] = found.json()["items"]
            return items

        (plan,) = await wait_until(plans, bool, timeout=30)
        assert plan["assessment_id"] == str(good.assessment_id)
        metrics = await wait_until(
            lambda: _metrics(client), lambda m: metric_value(m, "events_dead_lettered_total") >= 1, timeout=30
        )
        assert metric_value(metrics, "events_dead_lettered_total", reason="schema-invalid") == 1


async def _metrics(client: object) -> str:
    return str((await client.get("/metrics")).text)  # type: ignore[attr-defined]
