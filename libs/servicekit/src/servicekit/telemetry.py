"""Tracing (OpenTelemetry) and metrics (Prometheus) for HTTP requests.

Spans are always created, so trace ids reach the logs and the `traceparent`
header propagates; they are exported only when `OTEL_TRACES_EXPORTER` is
`console` or `otlp` (off by default). Span names follow the OpenTelemetry HTTP
conventions: `{method} {route}`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_access_log = logging.getLogger("servicekit.access")
_UNTRACED_PATHS = ("/health/", "/metrics")


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
    """One span, one latency observation and one access-log line per HTTP request."""

    def __init__(self, app: ASGIApp, *, tracer_provider: TracerProvider, metrics: HttpMetrics) -> None:
        self.app = app
        self.tracer = tracer_provider.get_tracer("servicekit.http")
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        context = propagate.extract(carrier)
        status = 500
        started = time.perf_counter()
        with self.tracer.start_as_current_span(
            f"{method} {path}", context=context, kind=SpanKind.SERVER, record_exception=True
        ) as span:
            trace_id = format(span.get_span_context().trace_id, "032x")

            async def send_with_trace(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"x-trace-id", trace_id.encode())]
                await send(message)

            try:
                await self.app(scope, receive, send_with_trace)
            finally:
                route = _route_template(scope)
                elapsed = time.perf_counter() - started
                span.update_name(f"{method} {route}")
                span.set_attributes(
                    {"http.request.method": method, "http.route": route, "url.path": path,
                     "http.response.status_code": status}
                )
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                self.metrics.requests.labels(method, route, str(status)).inc()
                self.metrics.latency.labels(method, route).observe(elapsed)
                if not path.startswith(_UNTRACED_PATHS):
                    _access_log.info(
                        "%s %s %s", method, path, status,
                        extra={"http_method": method, "http_route": route, "http_status": status,
                               "duration_ms": round(elapsed * 1000, 2)},
                    )


def _route_template(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    # Unknown paths are grouped under one label so clients cannot grow the metric set.
    return template if isinstance(template, str) else "unmatched"
