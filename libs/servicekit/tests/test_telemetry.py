"""A request continues the caller's trace, the trace id comes back to the client, and logs carry it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from devstack.pytest_plugin import serve_in_process
from servicekit.logs import JsonFormatter

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


async def test_request_span_continues_incoming_traceparent(make_sample_app: Callable[..., FastAPI]) -> None:
    app = make_sample_app()
    exporter = InMemorySpanExporter()
    provider: TracerProvider = app.state.tracer_provider
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("sample"))
    access_log = logging.getLogger("servicekit.access")
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    try:
        async with serve_in_process(app) as client:
            response = await client.get("/v1/me", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN}-01"})
    finally:
        access_log.removeHandler(handler)

    assert response.status_code == 401
    assert response.headers["x-trace-id"] == TRACE_ID
    spans = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert len(spans) == 1, [(s.name, s.attributes) for s in spans]
    span = spans[0]
    assert span.name == "GET /v1/me"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT_SPAN
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 401

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [entry for entry in lines if entry["logger"] == "servicekit.access"]
    assert access and access[0]["trace_id"] == TRACE_ID
    assert access[0]["http_status"] == 401
    assert access[0]["service"] == "sample"


async def test_without_an_exporter_a_request_still_carries_its_trace(make_sample_app: Callable[..., FastAPI]) -> None:
    # No span processor: the ids are still made (continued from `traceparent`, or a new trace per request).
    async with serve_in_process(make_sample_app()) as client:
        continued = await client.get("/v1/me", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN}-01"})
        first, second = await client.get("/v1/me"), await client.get("/v1/me")
    assert continued.headers["x-trace-id"] == TRACE_ID
    fresh = {first.headers["x-trace-id"], second.headers["x-trace-id"]}
    assert len(fresh) == 2 and TRACE_ID not in fresh
    assert all(len(t) == 32 and int(t, 16) for t in fresh)


async def test_an_unhandled_error_is_traced_counted_and_logged_with_its_trace(
    make_sample_app: Callable[..., FastAPI],
) -> None:
    app = make_sample_app()
    exporter = InMemorySpanExporter()
    provider: TracerProvider = app.state.tracer_provider
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("sample"))
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        async with serve_in_process(app) as client:
            answer = await client.get("/v1/sample/boom", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN}-01"})
            metrics = (await client.get("/metrics")).text
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)

    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-trace-id"] == TRACE_ID
    [span] = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert span.name == "GET /v1/sample/boom"
    assert span.status.status_code.name == "ERROR"
    assert span.attributes is not None and span.attributes["error.type"] == "RuntimeError"
    assert 'http_requests_total{method="GET",route="/v1/sample/boom",status="500"} 1.0' in metrics
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    error = next(entry for entry in lines if entry["level"] == "error")
    assert error["trace_id"] == TRACE_ID and "secret internals" in error["exception"]
    access = next(entry for entry in lines if entry["logger"] == "servicekit.access")
    assert access["trace_id"] == TRACE_ID
    assert (access["http_method"], access["http_route"], access["http_status"]) == ("GET", "/v1/sample/boom", 500)
    assert access["duration_ms"] >= 0


async def test_a_refused_request_is_counted_and_answers_with_its_trace(make_sample_app: Callable[..., FastAPI]) -> None:
    async with serve_in_process(make_sample_app(max_body_bytes=1024)) as client:
        refused = await client.post("/v1/sample/workforce", content=b"x" * 2000)
        metrics = (await client.get("/metrics")).text
    assert refused.status_code == 413
    assert len(refused.headers["x-trace-id"]) == 32
    assert 'http_requests_total{method="POST",route="unmatched",status="413"} 1.0' in metrics
