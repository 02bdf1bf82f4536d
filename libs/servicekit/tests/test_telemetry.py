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
