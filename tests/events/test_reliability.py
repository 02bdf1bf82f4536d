"""The promise of the event backbone, under faults: every accepted write reaches every consumer exactly once
in effect, in per-aggregate order, while the broker is away, a consumer dies, or the relay crashes mid-batch.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.assessments import applied_versions
from devstack.testkit.events import on
from devstack.testkit.registry import write_factories
from devstack.testkit.waiting import metric_value, wait_until
from servicekit.auth import Role


def complete(expected: list[int]) -> Any:
    return lambda applied: all(versions == expected for versions in applied.values())


async def test_broker_outage_loses_nothing_and_doubles_nothing(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    token = test_platform.token(Role.STAFF, country="KH")
    async with (
        serve_in_process(test_platform.app("registry", **on(dedicated_broker, topic_prefix))) as registry,
        serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))) as assessments,
    ):
        warm = await write_factories(registry, token, factories=1, renames=0)
        await wait_until(lambda: applied_versions(test_platform, warm), complete([1]))

        dedicated_broker.freeze()
        try:
            # 200 writes while the broker does not answer: 50 factories, each registered and renamed 3 times.
            factory_ids = await write_factories(registry, token, factories=50, renames=3)
            # Writes still go through the outbox, so the service stays ready and reports the broker as down.
            readiness = await registry.get("/health/ready")
            assert readiness.status_code == 200
            assert readiness.json()["checks"]["broker"] != "ok"
            await asyncio.sleep(1)
        finally:
            dedicated_broker.thaw()

        applied = await wait_until(
            lambda: applied_versions(test_platform, factory_ids), complete([1, 2, 3, 4]), timeout=90
        )
        assert sum(len(v) for v in applied.values()) == 200
        metrics = (await assessments.get("/metrics")).text
        assert metric_value(metrics, "events_dead_lettered_total") == 0


async def test_relay_crash_between_send_and_mark_is_absorbed_by_the_inbox(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    token = test_platform.token(Role.STAFF, country="KH")
    crashes = 0

    async def crash_after_send(rows: list[Any]) -> None:
        nonlocal crashes
        if crashes < 3:
            crashes += 1
            raise RuntimeError("relay killed after the broker acknowledged, before marking the rows published")

    registry_app = test_platform.app("registry", **on(dedicated_broker, topic_prefix))
    async with (
        serve_in_process(registry_app) as registry,
        serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))) as assessments,
    ):
        registry_app.state.relay._after_send = crash_after_send
        factory_ids = await write_factories(registry, token, factories=20, renames=2)
        applied = await wait_until(
            lambda: applied_versions(test_platform, factory_ids), complete([1, 2, 3]), timeout=60
        )
        assert crashes == 3
        assert sum(len(v) for v in applied.values()) == 60
        metrics = (await assessments.get("/metrics")).text
        assert metric_value(metrics, "events_duplicates_skipped_total") > 0  # the resent batches arrived again


async def test_consumer_killed_repeatedly_mid_batch_applies_every_event_once(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str, tmp_path: Path
) -> None:
    port, start_consumer = _assessments_process(test_platform, dedicated_broker, topic_prefix, tmp_path)

    token = test_platform.token(Role.STAFF, country="KH")
    process = start_consumer()
    kills = 0
    try:
        async with serve_in_process(test_platform.app("registry", **on(dedicated_broker, topic_prefix))) as registry:
            # 1,000 events over about thirty seconds, so that every kill lands while events flow.
            writer = asyncio.create_task(write_factories(registry, token, factories=250, renames=3, per_second=8))
            for _ in range(4):
                await wait_until(lambda: _processed_any(port), bool, timeout=60, interval=0.2)
                await asyncio.sleep(0.3)
                assert not writer.done(), "the events stopped flowing before the kill: slow the writer down"
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                process = start_consumer()
            factory_ids = await writer
            applied = await wait_until(
                lambda: applied_versions(test_platform, factory_ids), complete([1, 2, 3, 4]), timeout=120
            )
        assert sum(len(v) for v in applied.values()) == 1000
        assert kills == 4

    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_sigterm_finishes_the_batch_commits_and_leaves_the_group(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str, tmp_path: Path
) -> None:
    port, start_consumer = _assessments_process(test_platform, dedicated_broker, topic_prefix, tmp_path)

    token = test_platform.token(Role.STAFF, country="KH")
    process = start_consumer()
    try:
        async with serve_in_process(test_platform.app("registry", **on(dedicated_broker, topic_prefix))) as registry:
            writer = asyncio.create_task(write_factories(registry, token, factories=100, renames=3, per_second=25))
            await wait_until(lambda: _processed_any(port), bool, timeout=60, interval=0.1)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == -signal.SIGTERM  # uvicorn re-raises the signal after its graceful shutdown
            assert time.monotonic() - started < 15
            factory_ids = await writer
            # Written while no consumer runs, so the successor has work however fast its predecessor was.
            later_ids = await write_factories(registry, token, factories=10, renames=0)
            process = start_consumer()
            applied = await wait_until(
                lambda: applied_versions(test_platform, factory_ids), complete([1, 2, 3, 4]), timeout=60
            )
            later = await wait_until(lambda: applied_versions(test_platform, later_ids), complete([1]), timeout=60)
            metrics = await _metrics(port)
        assert sum(len(v) for v in applied.values()) == 400
        assert sum(len(v) for v in later.values()) == 10
        # The stopped consumer committed the offsets of everything whose effects it committed, so its successor
        # saw no repeat. (Tansu lets the successor in only after about two session timeouts even so: BROKER.md.)
        assert metric_value(metrics, "events_duplicates_skipped_total") == 0
        assert metric_value(metrics, "events_consumed_total") > 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _assessments_process(
    platform: TestPlatform, broker: TansuBroker, prefix: str, folder: Path
) -> tuple[int, Callable[[], subprocess.Popen[bytes]]]:
    """The assessments service as a process of its own (its port, and how to start it), logging to `folder`."""
    env = platform.service_env(
        "assessments",
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
        KAFKA_TOPIC_PREFIX=prefix,
        KAFKA_SESSION_TIMEOUT_MS="3000",
        ASSESSMENTS_CONSUMER_BATCH_SIZE="50",
    )
    log = folder / "assessments.log"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "servicekit.serve", "assessments"],
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    return int(env["ASSESSMENTS_PORT"]), start


async def _metrics(port: int) -> str:
    """The process's metrics, once its HTTP side listens: its consumer may apply events before uvicorn binds."""

    async def scrape() -> str | None:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        except httpx.HTTPError:
            return None

    text: str | None = await wait_until(scrape, lambda t: t is not None, timeout=30, interval=0.2)
    assert text is not None
    return text


async def _processed_any(port: int) -> bool:
    """The consumer process is up and has processed (applied or skipped as a repeat) an event since it started."""
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return False
    return metric_value(text, "events_consumed_total") + metric_value(text, "events_duplicates_skipped_total") > 0


async def test_topics_are_created_with_their_configured_partitions(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    async with serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))) as _:
        admin = AIOKafkaAdminClient(bootstrap_servers=dedicated_broker.bootstrap_servers)
        await admin.start()
        try:

            async def described() -> dict[str, int]:
                topics = [t for t in await admin.list_topics() if t.startswith(topic_prefix)]
                return {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(topics)}

            expected = {
                f"{topic_prefix}registry.factory",  # consumed
                f"{topic_prefix}registry.factory.dlq.{topic_prefix}assessments",  # its dead letters
                f"{topic_prefix}assessments.zero-tolerance",  # published
            }
            partitions = await wait_until(described, lambda d: expected <= set(d), timeout=30)
        finally:
            await admin.close()
    # 6 as configured in the contracts, not the broker's automatic 4.
    assert set(partitions.values()) == {6}, partitions
