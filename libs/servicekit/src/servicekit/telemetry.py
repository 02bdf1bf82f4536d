"""Tracing (OpenTelemetry), metrics (Prometheus) and the access log of HTTP requests.

One request span per request (`{method} {route}`, HTTP semantic conventions, continuing an incoming
`traceparent`), made by `servicekit.edge.EdgeMiddleware` through `RequestTelemetry`; FastAPI's own
instrumentation is switched off so nothing is measured twice. Spans are exported only when
`OTEL_TRACES_EXPORTER` is `console` or `otlp` (off by default). While nothing would receive them (no span
processor on the provider), a request carries only its ids: the trace id still reaches the logs, the
`x-trace-id` header and the events the request emits, and `traceparent` propagates, but no span object is
built for nobody. Adding a processor (an exporter, a test's in-memory one) records full spans from the next
request on.

https://opentelemetry.io/docs/specs/semconv/http/http-spans/#http-server-span
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import Scope

_access_log = logging.getLogger("servicekit.access")
UNTRACED_PATHS = ("/health/", "/metrics")
_PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage"})
_KNOWN_METHODS = frozenset({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"})
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SENSITIVE_QUERY_PARAMETERS = frozenset(
    {"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig", "X-Goog-Signature"}
)


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
    """Requests by method, route template and status, and latency by method and route template.

    Labels are bounded: the route is the template (`/v1/factories/{factory_id}`, or `unmatched`), an unknown
    method is `_OTHER`. The labelled children are kept, so counting a request costs two dictionary look-ups.
    """

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
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    def observe(self, method: str, route: str, status: int, elapsed_s: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = self.requests.labels(method, route, str(status))
        counter.inc()
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._histograms[(method, route)] = self.latency.labels(method, route)
        histogram.observe(elapsed_s)


class RequestTelemetry:
    """The span, metrics and access-log line of each HTTP request (used by `servicekit.edge.EdgeMiddleware`)."""

    def __init__(self, tracer_provider: TracerProvider, metrics: HttpMetrics) -> None:
        self.provider = tracer_provider
        self.tracer = tracer_provider.get_tracer("servicekit.http")
        self.metrics = metrics

    def _recording(self) -> bool:
        """Whether any span processor would receive a span (the SDK keeps them on a private multiplexer)."""
        processors = getattr(self.provider._active_span_processor, "_span_processors", None)
        return processors is None or bool(processors)

    def start(self, scope: Scope, method: str) -> tuple[trace.Span, object]:
        """The request's span, made current; returns it and the token that `finish()` detaches."""
        carrier: dict[str, str] | None = None
        for name, value in scope["headers"]:
            if name in _PROPAGATED:
                key, text = name.decode(), value.decode("latin-1")
                if carrier is None:
                    carrier = {}
                carrier[key] = f"{carrier[key]},{text}" if key in carrier else text
        # Like `propagate.extract`, a request without trace headers starts from the root context, not from
        # whatever the server's task happens to hold.
        parent = propagate.extract(carrier) if carrier else otel_context.Context()
        span: trace.Span
        if self._recording():
            span = self.tracer.start_span(
                method if method != "_OTHER" else "HTTP",
                context=parent,
                kind=SpanKind.SERVER,
                attributes=_request_attributes(scope, method),
            )
        else:
            span = self._ids_only(parent if carrier else None)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return span, token

    def _ids_only(self, parent: otel_context.Context | None) -> NonRecordingSpan:
        """What an SDK span would carry (the caller's trace, a new span id, the caller's sampling flag, or a new
        sampled trace), without building a span no processor would see."""
        ids = self.provider.id_generator
        caller = trace.get_current_span(parent).get_span_context() if parent is not None else None
        if caller is not None and caller.is_valid:
            context = SpanContext(
                caller.trace_id, ids.generate_span_id(), False, caller.trace_flags, caller.trace_state
            )
        else:
            context = SpanContext(ids.generate_trace_id(), ids.generate_span_id(), False, _SAMPLED)
        return NonRecordingSpan(context)

    def finish(
        self,
        scope: Scope,
        span: trace.Span,
        token: object,
        *,
        method: str,
        status: int,
        elapsed_s: float,
        error: BaseException | None,
    ) -> None:
        """Count the request, write its access-log line (inside the span, so it carries the ids), end the span."""
        route = route_template(scope)
        self.metrics.observe(method, route, status, elapsed_s)
        try:
            if _access_log.isEnabledFor(logging.INFO):
                path = scope["path"]
                _access_log.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "http_method": scope["method"],
                        "http_route": route,
                        "http_status": status,
                        "duration_ms": round(elapsed_s * 1000, 2),
                    },
                )
            if span.is_recording():
                _end_attributes(span, scope, method, route, status, error)
            span.end()
        finally:
            otel_context.detach(token)  # type: ignore[arg-type]


def _request_attributes(scope: Scope, method: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.scheme": scope.get("scheme", "http"),
        "url.path": scope["path"],
    }
    if method != scope["method"]:
        attributes["http.request.method_original"] = scope["method"]
    if scope.get("http_version"):
        attributes["network.protocol.version"] = scope["http_version"]
    query = scope.get("query_string", b"")
    if query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        attributes["url.query"] = urlencode(
            [(key, "REDACTED" if key in _SENSITIVE_QUERY_PARAMETERS else value) for key, value in pairs]
        )
    host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), None)
    if host:
        address, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not address or not port.isdigit():
            address, port = host, ""
        attributes["server.address"] = address.strip("[]")
        if port:
            attributes["server.port"] = int(port)
    elif scope.get("server"):
        attributes["server.address"], attributes["server.port"] = scope["server"]
    return attributes


def _end_attributes(
    span: trace.Span, scope: Scope, method: str, route: str, status: int, error: BaseException | None
) -> None:
    attributes: dict[str, Any] = {"http.response.status_code": status}
    if route != "unmatched":
        attributes["http.route"] = route
        span.update_name(f"{method if method != '_OTHER' else 'HTTP'} {route}")
    if error is not None or status >= 500:
        attributes["error.type"] = type(error).__qualname__ if error is not None else str(status)
        span.set_status(StatusCode.ERROR)
    span.set_attributes(attributes)


def known_method(scope: Scope) -> str:
    """The request method for labels and spans; one not in the HTTP registry is `_OTHER` (bounded labels)."""
    method: str = scope["method"]
    return method if method in _KNOWN_METHODS else "_OTHER"


def is_untraced(scope: MutableMapping[str, Any]) -> bool:
    """Probes and scrapes are not traced: they would drown the real traffic."""
    return str(scope.get("path", "")).startswith(UNTRACED_PATHS)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    # Unknown paths are grouped under one label so clients cannot grow the metric set.
    return template if isinstance(template, str) else "unmatched"
