"""transparency's consumer on a real broker: registry and assessments events become facts (and the factory read
model), a malformed event goes to the dead-letter topic with its reason and the consumer keeps going."""

from __future__ import annotations

from betterwork_contracts.base import IntegrationEvent
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.events import cloudevent_headers, on, produce_raw
from devstack.testkit.transparency import finalised, registered
from devstack.testkit.waiting import metric_value, wait_until


async def test_events_from_the_broker_become_facts_and_bad_ones_are_dead_lettered(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    app = test_platform.app("transparency", **on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25))
    factory = registered("VN", "Broker Garment")
    assessment = finalised(factory.factory_id, "VN", {"VN-OSH-02": "non_compliant"})
    bad = finalised(factory.factory_id, "VN", {"VN-OSH-02": "compliant"})
    body = bad.model_dump_json().replace('"cycle":1', '"cycle":0').encode()  # below the contract's minimum
    bootstrap = dedicated_broker.bootstrap_servers

    def record(event: IntegrationEvent, value: bytes | None = None) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        return (
            event.aggregate_id.encode(),
            value or event.model_dump_json().encode(),
            cloudevent_headers(event, source="/" + event.topic.publisher, country="VN"),
        )

    async with serve_in_process(app) as client:
        await produce_raw(bootstrap, topic_prefix + factory.topic.name, [record(factory)])
        await produce_raw(bootstrap, topic_prefix + bad.topic.name, [record(bad, body), record(assessment)])

        async def kinds() -> list[str]:
            rows = await fetch(
                test_platform,
                "transparency",
                "SELECT kind FROM transparency.fact WHERE payload->>'factory_id' = $1 ORDER BY seq",
                str(factory.factory_id),
            )
            return [r["kind"] for r in rows]

        found = await wait_until(kinds, lambda k: len(k) == 2, timeout=30)
        assert sorted(found) == ["assessment_finalised", "factory_registered"]  # two topics: either order
        refs = await fetch(
            test_platform,
            "transparency",
            "SELECT name, version FROM transparency.factory_ref WHERE factory_id = $1",
            factory.factory_id,
        )
        assert [(r["name"], r["version"]) for r in refs] == [("Broker Garment", 1)]

        async def metrics() -> str:
            return (await client.get("/metrics")).text

        text = await wait_until(metrics, lambda m: metric_value(m, "events_dead_lettered_total") >= 1, timeout=30)
        assert metric_value(text, "events_dead_lettered_total", reason="schema-invalid") == 1
