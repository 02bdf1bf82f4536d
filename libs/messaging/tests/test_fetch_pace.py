"""An idle consumer fetches slowly, a busy one quickly: the wait follows the events (issue: an idle platform
that idles)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from betterwork_contracts import EVENTS
from betterwork_contracts.events.registry import FactoryRegistered
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform
from devstack.testkit.events import cloudevent_headers
from devstack.testkit.waiting import wait_until
from messaging.consumer import ConsumerConfig, EventConsumer, FetchPace
from messaging.envelope import Envelope
from messaging.metrics import MessagingMetrics
from servicekit.database import Database, UnitOfWork


def test_the_wait_is_short_while_events_flow_and_long_once_idle() -> None:
    pace = FetchPace(busy_ms=20, idle_ms=500, idle_after_s=2.0, last_event_at=100.0)
    assert pace.wait_ms(101.0, got_events=False) == 20  # 1 s without events: still busy
    assert pace.wait_ms(102.5, got_events=False) == 166  # a pause: a third of the idle wait
    assert pace.wait_ms(125.0, got_events=False) == 500  # at rest
    assert pace.wait_ms(126.0, got_events=True) == 20  # an event: short again at once
    assert FetchPace(busy_ms=20, idle_ms=None, idle_after_s=0.0).wait_ms(1e9, got_events=False) == 20


async def test_a_consumer_slows_its_fetches_when_idle_and_speeds_up_for_events(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    handled: list[uuid.UUID] = []

    async def record(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
        handled.append(event.factory_id)

    topic = f"{topic_prefix}registry.factory"
    group = f"{topic_prefix}pace"
    database = Database(test_platform.settings("assessments").service_database_url(), schema="assessments", pool_size=2)
    metrics = MessagingMetrics(CollectorRegistry())
    consumer = EventConsumer(
        ConsumerConfig(
            group=group,
            bootstrap_servers=dedicated_broker.bootstrap_servers,
            topics=[topic],
            topic_partitions={topic: 2},
            fetch_max_wait_ms=20,
            fetch_idle_wait_ms=400,
            fetch_idle_after_s=0.3,
            session_timeout_ms=3000,
            topic_prefix=topic_prefix,
        ),
        database=database,
        handlers={FactoryRegistered.type: record},
        event_types=EVENTS,
        metrics=metrics,
    )
    wait = metrics.fetch_wait.labels(group)

    async def fetch_wait() -> float:
        value: float = wait._value.get()
        return value

    async def handled_ids() -> list[uuid.UUID]:
        return handled

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    producer = AIOKafkaProducer(bootstrap_servers=dedicated_broker.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await wait_until(fetch_wait, lambda ms: ms == 400)  # nothing came: the consumer idles
        event = FactoryRegistered(
            factory_id=uuid.uuid4(), version=1, country="KH", name="Pace", registered_at=datetime.now(UTC)
        )
        await producer.send_and_wait(
            topic,
            event.model_dump_json().encode(),
            key=event.aggregate_id.encode(),
            headers=cloudevent_headers(event, source="/registry"),
        )
        assert await wait_until(handled_ids, bool) == [event.factory_id]
        assert await fetch_wait() == 20  # an event came: short fetches again
        await wait_until(fetch_wait, lambda ms: ms == 400)  # and long ones once it is quiet again
    finally:
        await producer.stop()
        stop.set()
        await asyncio.wait_for(task, 30)
        await database.dispose()
