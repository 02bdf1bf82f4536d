"""Bad events go to `<topic>.dlq.<group>` with their reason, the consumer keeps going, and a fixed one replays once."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from betterwork_contracts.events.registry import FactoryChanges, FactoryRegistered, FactoryUpdated
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.assessments import applied_versions
from devstack.testkit.cli import betterwork
from devstack.testkit.events import cloudevent_headers, produce_raw
from devstack.testkit.registry import write_factories
from devstack.testkit.waiting import metric_value, wait_until
from servicekit.auth import Role


def on(broker: TansuBroker, prefix: str, **extra: Any) -> dict[str, Any]:
    return {"kafka_bootstrap_servers": broker.bootstrap_servers, "kafka_topic_prefix": prefix, **extra}


async def test_poison_event_is_dead_lettered_after_its_retries_and_replays_once_fixed(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    token = test_platform.token(Role.STAFF, country="KH")
    registry_app = test_platform.app("registry", **on(dedicated_broker, topic_prefix))
    assessments_app = test_platform.app("assessments", **on(dedicated_broker, topic_prefix, consumer_retry_budget=3))
    orphan = uuid.uuid4()
    now = datetime.now(UTC)
    cli_env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": dedicated_broker.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
    }
    async with serve_in_process(registry_app) as registry, serve_in_process(assessments_app) as assessments:
        # An update for a factory the assessments service never heard of: retried, then dead-lettered.
        async with registry_app.state.database.unit_of_work() as uow:
            uow.emit(
                FactoryUpdated(
                    factory_id=orphan,
                    version=2,
                    country="KH",
                    changes=FactoryChanges(name="Orphan Garment"),
                    updated_at=now,
                )
            )
            await uow.commit()

        # Later events still flow.
        later = await write_factories(registry, token, factories=3, renames=1)
        await wait_until(lambda: applied_versions(test_platform, later), lambda a: all(v == [1, 2] for v in a.values()))

        metrics = await wait_until(
            lambda: _metrics(assessments), lambda m: metric_value(m, "events_dead_lettered_total") == 1
        )
        assert metric_value(metrics, "events_dead_lettered_total", reason="not-yet-known") == 1
        assert metric_value(metrics, "events_retries_total") == 2  # three attempts in all

        code, listing = await betterwork(
            "dlq", "list", "--topic", "registry.factory", "--group", "assessments", env=cli_env
        )
        assert code == 0, listing
        assert "1 dead letter(s)" in listing
        assert "reason=not-yet-known" in listing
        assert "attempts=3" in listing
        assert f"version 2 of factory {orphan}, which was never registered here" in listing

        # The cause is fixed (the registration arrives); replaying applies the update, once.
        async with registry_app.state.database.unit_of_work() as uow:
            uow.emit(FactoryRegistered(factory_id=orphan, version=1, country="KH", name="Orphan", registered_at=now))
            await uow.commit()
        await wait_until(lambda: applied_versions(test_platform, [orphan]), lambda a: a[orphan] == [1])

        code, output = await betterwork(
            "dlq", "replay", "--topic", "registry.factory", "--group", "assessments", env=cli_env
        )
        assert (code, output.strip()) == (0, "replayed 1 dead letter(s)")
        await wait_until(lambda: applied_versions(test_platform, [orphan]), lambda a: a[orphan] == [1, 2])

        # A second replay of the same letter changes nothing: the inbox has it now.
        code, output = await betterwork(
            "dlq", "replay", "--topic", "registry.factory", "--group", "assessments", env=cli_env
        )
        assert code == 0
        await wait_until(
            lambda: _metrics(assessments), lambda m: metric_value(m, "events_duplicates_skipped_total") >= 1
        )
        assert (await applied_versions(test_platform, [orphan]))[orphan] == [1, 2]


async def test_malformed_events_are_dead_lettered_at_once_with_their_reason(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}registry.factory"
    good = FactoryRegistered(
        factory_id=uuid.uuid4(), version=1, country="KH", name="After the bad ones", registered_at=datetime.now(UTC)
    )
    bad_schema = good.model_dump(mode="json") | {"country": "Cambodia", "factory_id": str(uuid.uuid4())}
    unknown_type = [
        (k, b"org.betterwork.registry.factory.exploded.v1" if k == "ce_type" else v)
        for k, v in cloudevent_headers(good)
    ]
    async with serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))) as assessments:
        await produce_raw(
            dedicated_broker.bootstrap_servers,
            topic,
            [
                (b"k1", b'{"no": "headers"}', []),
                (b"k2", good.model_dump_json().encode(), unknown_type),
                (b"k3", _json(bad_schema), cloudevent_headers(good)),
                (b"k4", b"not json at all", cloudevent_headers(good)),
                (good.aggregate_id.encode(), good.model_dump_json().encode(), cloudevent_headers(good)),
            ],
        )
        await wait_until(
            lambda: applied_versions(test_platform, [good.factory_id]), lambda a: a[good.factory_id] == [1]
        )
        metrics = await wait_until(
            lambda: _metrics(assessments), lambda m: metric_value(m, "events_dead_lettered_total") == 4
        )
    assert metric_value(metrics, "events_dead_lettered_total", reason="invalid-envelope") == 1
    assert metric_value(metrics, "events_dead_lettered_total", reason="unknown-type") == 1
    assert metric_value(metrics, "events_dead_lettered_total", reason="schema-invalid") == 2
    assert metric_value(metrics, "events_retries_total") == 0  # nothing a retry could fix was retried

    code, listing = await betterwork(
        "dlq",
        "list",
        "--group",
        "assessments",
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": dedicated_broker.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": topic_prefix,
        },
    )
    assert code == 0
    assert "4 dead letter(s)" in listing
    assert "missing CloudEvents header(s): ce_id, ce_source, ce_specversion, ce_type" in listing
    assert "no contract for event type 'org.betterwork.registry.factory.exploded.v1'" in listing
    assert "country: String should match pattern" in listing


def _json(value: dict[str, Any]) -> bytes:
    import json

    return json.dumps(value).encode()


async def _metrics(client: Any) -> str:
    return str((await client.get("/metrics")).text)


async def test_an_event_is_trusted_only_from_its_contract_topic_and_source_and_only_with_plausible_times(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    def registered(name: str, at: datetime | None = None) -> FactoryRegistered:
        return FactoryRegistered(
            factory_id=uuid.uuid4(), version=1, country="KH", name=name, registered_at=at or datetime.now(UTC)
        )

    forged_source = registered("Claims to be the registry")
    wrong_topic = registered("On another service's topic")
    from_the_future = registered("Dated 9999", datetime(9999, 1, 1, tzinfo=UTC))
    good = registered("The real one")
    factory_topic = f"{topic_prefix}registry.factory"
    async with serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))) as assessments:
        await produce_raw(
            dedicated_broker.bootstrap_servers,
            f"{topic_prefix}partnerships.report-access",
            [(b"k1", wrong_topic.model_dump_json().encode(), cloudevent_headers(wrong_topic))],
        )
        await produce_raw(
            dedicated_broker.bootstrap_servers,
            factory_topic,
            [
                (
                    b"k2",
                    forged_source.model_dump_json().encode(),
                    cloudevent_headers(forged_source, source="/advisory"),
                ),
                (b"k3", from_the_future.model_dump_json().encode(), cloudevent_headers(from_the_future)),
                (good.aggregate_id.encode(), good.model_dump_json().encode(), cloudevent_headers(good)),
            ],
        )
        await wait_until(
            lambda: applied_versions(test_platform, [good.factory_id]), lambda a: a[good.factory_id] == [1]
        )
        metrics = await wait_until(
            lambda: _metrics(assessments), lambda m: metric_value(m, "events_dead_lettered_total") == 3
        )
    assert metric_value(metrics, "events_dead_lettered_total", reason="unexpected-source") == 2
    assert metric_value(metrics, "events_dead_lettered_total", reason="implausible") == 1
    applied = await applied_versions(
        test_platform, [forged_source.factory_id, wrong_topic.factory_id, from_the_future.factory_id]
    )
    assert all(versions == [] for versions in applied.values())  # none of them changed the read model
