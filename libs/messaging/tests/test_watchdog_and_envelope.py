"""A consumer that stops making progress is restarted; envelopes are checked before anything else runs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError

from betterwork_contracts import EVENTS
from betterwork_contracts.events.registry import FactoryRegistered
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform
from messaging.consumer import ConsumerConfig, EventConsumer
from messaging.envelope import Envelope, build_headers
from messaging.errors import InvalidEnvelope, is_transient
from messaging.metrics import MessagingMetrics
from servicekit.database import Database, UnitOfWork


def headers_for(event: FactoryRegistered) -> list[tuple[str, bytes]]:
    headers = build_headers(
        event_id=str(uuid.uuid4()),
        source="/registry",
        event_type=event.type,
        subject=event.aggregate_id,
        time=datetime.now(UTC),
        country="KH",
        correlation_id="req-1",
        trace_carrier={},
    )
    return [(k, v.encode()) for k, v in headers.items()]


async def test_watchdog_restarts_a_consumer_whose_handler_hangs(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    calls = 0
    handled = asyncio.Event()

    async def hangs_the_first_time(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(3600)  # stuck: no progress from here on
        handled.set()

    topic = f"{topic_prefix}registry.factory"
    database = Database(test_platform.settings("assessments").service_database_url(), schema="assessments", pool_size=2)
    metrics = MessagingMetrics(CollectorRegistry())
    consumer = EventConsumer(
        ConsumerConfig(
            group=f"{topic_prefix}watchdog",
            bootstrap_servers=dedicated_broker.bootstrap_servers,
            topics=[topic],
            topic_partitions={topic: 2},
            watchdog_s=2.0,
            session_timeout_ms=3000,
            topic_prefix=topic_prefix,
        ),
        database=database,
        handlers={FactoryRegistered.type: hangs_the_first_time},
        event_types=EVENTS,
        metrics=metrics,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    event = FactoryRegistered(
        factory_id=uuid.uuid4(), version=1, country="KH", name="Slow", registered_at=datetime.now(UTC)
    )
    producer = AIOKafkaProducer(bootstrap_servers=dedicated_broker.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, event.model_dump_json().encode(), key=event.aggregate_id.encode(), headers=headers_for(event)
        )
        await asyncio.wait_for(handled.wait(), 60)
    finally:
        await producer.stop()
        stop.set()
        await asyncio.wait_for(task, 30)
        await database.dispose()
    assert calls == 2
    assert metrics.consumer_restarts.labels(f"{topic_prefix}watchdog")._value.get() >= 1
    assert consumer.processed_total == 1


def test_envelope_requires_the_cloudevents_attributes() -> None:
    with pytest.raises(InvalidEnvelope, match="ce_id, ce_source"):
        Envelope.from_headers([("ce_type", b"x"), ("ce_specversion", b"1.0")])
    with pytest.raises(InvalidEnvelope, match="specversion"):
        Envelope.from_headers([("ce_id", b"1"), ("ce_source", b"/s"), ("ce_type", b"t"), ("ce_specversion", b"0.3")])
    with pytest.raises(InvalidEnvelope, match="content-type"):
        Envelope.from_headers(
            [
                ("ce_id", b"1"),
                ("ce_source", b"/s"),
                ("ce_type", b"t"),
                ("ce_specversion", b"1.0"),
                ("content-type", b"application/xml"),
            ]
        )


def test_envelope_reads_extensions_and_trace_context() -> None:
    event = FactoryRegistered(
        factory_id=uuid.uuid4(), version=1, country="KH", name="X", registered_at=datetime.now(UTC)
    )
    envelope = Envelope.from_headers(
        [*headers_for(event), ("traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01")]
    )
    assert (envelope.source, envelope.type, envelope.subject) == ("/registry", event.type, str(event.factory_id))
    assert (envelope.country, envelope.correlation_id) == ("KH", "req-1")
    assert envelope.traceparent is not None and envelope.time is not None


def test_infrastructure_errors_are_transient_and_bugs_are_not() -> None:
    assert is_transient(ConnectionRefusedError())
    assert is_transient(TimeoutError())
    assert is_transient(OperationalError("select 1", {}, Exception("server closed the connection")))
    assert not is_transient(KeyError("factory_id"))
    assert not is_transient(ValueError("bad"))
