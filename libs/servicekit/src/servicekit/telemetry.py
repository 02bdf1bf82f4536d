"""Tracing (OpenTelemetry) and metrics (Prometheus) for HTTP requests.

Spans are always created, so trace ids reach the logs and the `traceparent`
header propagates; they are exported only when `OTEL_TRACES_EXPORTER` is
`console` or `otlp` (off by default). FastAPI's native OpenTelemetry support
makes the request spans (`{method} {route}`, HTTP semantic conventions) with
the provider built here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_access_log = logging.getLogger("servicekit.access")
UNTRACED_PATHS = ("/health/", "/metrics")


def build_tracer_provider(service: str, exporter: str, endpoint: str | None) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.namespace": "betterwork"}))
    span_exporter: SpanExporter | None = None
    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        span_exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None)
    if span_exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    return provider


def install_global_tracer_provider(provider: TracerProvider) -> None:
    """Make `provider` the process-wide one (first app in the process wins; tests build many)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests", "HTTP requests answered", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )


class RequestTelemetryMiddleware:
    """One latency observation, one access-log line and an `x-trace-id` header per HTTP request.

    The request span itself comes from FastAPI's native OpenTelemetry support
    (configured in `app.py`), which wraps this middleware, so the span is
    current here and in every log line the request writes.
    """

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        status = 500
        started = time.perf_counter()
        span_context = trace.get_current_span().get_span_context()
        trace_id = format(span_context.trace_id, "032x").encode() if span_context.is_valid else None

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if trace_id:
                    message["headers"] = [*message.get("headers", []), (b"x-trace-id", trace_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            route = _route_template(scope)
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if not path.startswith(UNTRACED_PATHS):
                _access_log.info(
                    "%s %s %s",
                    method,
                    path,
                    status,
                    extra={
                        "http_method": method,
                        "http_route": route,
                        "http_status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )


def is_untraced(scope: MutableMapping[str, Any]) -> bool:
    """Probes and scrapes are not traced: they would drown the real traffic."""
    return str(scope.get("path", "")).startswith(UNTRACED_PATHS)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    # Unknown paths are grouped under one label so clients cannot grow the metric set.
    return template if isinstance(template, str) else "unmatched"
