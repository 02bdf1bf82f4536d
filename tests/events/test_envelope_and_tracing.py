"""What we put on the wire is standard CloudEvents, and one trace runs from the request to the consumer's effect."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer
from cloudevents.v1.kafka import KafkaMessage, from_binary
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.assessments import applied_versions
from devstack.testkit.registry import new_factory
from devstack.testkit.waiting import wait_until
from servicekit.auth import Role

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"


def on(broker: TansuBroker, prefix: str) -> dict[str, Any]:
    return {"kafka_bootstrap_servers": broker.bootstrap_servers, "kafka_topic_prefix": prefix}


def record_spans(app: Any) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider: TracerProvider = app.state.tracer_provider
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_the_official_cloudevents_sdk_reads_what_we_publish(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    token = test_platform.token(Role.STAFF, country="KH")
    async with serve_in_process(
        test_platform.app("registry", **on(dedicated_broker, topic_prefix), country="KH")
    ) as registry:
        body = new_factory("Mekong Apparel")
        created = await registry.post(
            "/v1/factories",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        factory_id = created.json()["factory"]["id"]
        consumer = AIOKafkaConsumer(
            f"{topic_prefix}registry.factory",
            bootstrap_servers=dedicated_broker.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), 30)
        finally:
            await consumer.stop()

    assert record.key == factory_id.encode()
    event = from_binary(KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value))
    assert event["specversion"] == "1.0"
    assert event["type"] == "org.betterwork.registry.factory.registered.v1"
    assert event["source"] == "/registry"
    assert event["subject"] == factory_id
    assert event["country"] == "KH"
    assert event["datacontenttype"] == "application/json"
    uuid.UUID(event["id"])
    assert event["time"].endswith("Z")
    assert event.data["factory_id"] == factory_id
    assert event.data["name"] == body["name"]
    assert json.loads(record.value)["version"] == 1


async def test_one_trace_from_the_request_through_outbox_and_relay_to_the_consumer(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    registry_app = test_platform.app("registry", **on(dedicated_broker, topic_prefix))
    assessments_app = test_platform.app("assessments", **on(dedicated_broker, topic_prefix))
    registry_spans, assessments_spans = record_spans(registry_app), record_spans(assessments_app)
    token = test_platform.token(Role.STAFF, country="KH")
    async with serve_in_process(registry_app) as registry, serve_in_process(assessments_app):
        created = await registry.post(
            "/v1/factories",
            json=new_factory("Traced Garment"),
            headers={"Authorization": f"Bearer {token}", "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
        )
        factory_id = uuid.UUID(created.json()["factory"]["id"])
        await wait_until(lambda: applied_versions(test_platform, [factory_id]), lambda a: a[factory_id] == [1])
        process = await wait_until(lambda: _spans(assessments_spans, SpanKind.CONSUMER), lambda spans: len(spans) >= 1)

    server = [
        s for s in registry_spans.get_finished_spans() if s.kind == SpanKind.SERVER and s.name == "POST /v1/factories"
    ]
    assert len(server) == 1
    request_span = server[0]
    assert format(request_span.context.trace_id, "032x") == TRACE_ID

    send = [s for s in registry_spans.get_finished_spans() if s.kind == SpanKind.PRODUCER]
    assert send and send[0].name == f"send {topic_prefix}registry.factory"
    assert any(link.context.span_id == request_span.context.span_id for link in send[0].links)

    consumer_span = process[0]
    assert consumer_span.name == f"process {topic_prefix}registry.factory"
    assert format(consumer_span.context.trace_id, "032x") == TRACE_ID  # the same trace as the request
    assert consumer_span.parent is not None and consumer_span.parent.span_id == request_span.context.span_id
    assert [link.context.span_id for link in consumer_span.links] == [request_span.context.span_id]
    assert consumer_span.attributes is not None
    assert consumer_span.attributes["messaging.consumer.group.name"] == f"{topic_prefix}assessments"
    assert consumer_span.attributes["messaging.kafka.message.key"] == str(factory_id)


async def _spans(exporter: InMemorySpanExporter, kind: SpanKind) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.kind == kind]
