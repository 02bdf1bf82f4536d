"""Put records on a topic as some other producer would, well formed or not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


async def produce_raw(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]
) -> None:
    """Records as (key, value, headers), sent one by one and acknowledged."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def cloudevent_headers(event: Any, *, source: str = "/registry", country: str | None = "KH") -> list[tuple[str, bytes]]:
    """The headers our outbox would write for `event` (an IntegrationEvent)."""
    from messaging.envelope import build_headers

    headers = build_headers(
        event_id=str(uuid.uuid4()),
        source=source,
        event_type=event.type,
        subject=event.aggregate_id,
        time=datetime.now(UTC),
        country=country,
        correlation_id=None,
        trace_carrier={},
    )
    return [(k, v.encode()) for k, v in headers.items()]


def on(broker: Any, prefix: str, **extra: Any) -> dict[str, Any]:
    """Settings overrides that put a service on a test's own broker, with topics of the test only."""
    return {
        "kafka_bootstrap_servers": broker.bootstrap_servers,
        "kafka_topic_prefix": prefix,
        "kafka_request_timeout_s": 5.0,
        **extra,
    }
