"""Build a service's FastAPI app: the same wiring for all six services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from starlette.types import ASGIApp

from servicekit import platform_routes
from servicekit.auth import TokenVerifier
from servicekit.country_pack import load_country_pack_from_env
from servicekit.database import Database, EventSink
from servicekit.definition import ServiceDefinition
from servicekit.edge import EdgeMiddleware, open_unit_of_work
from servicekit.errors import install_problem_handlers
from servicekit.health import ReadinessChecks, broker_check, health_router
from servicekit.hot import HotRead, HotRoutes, HotWrite
from servicekit.kafka_security import kafka_security
from servicekit.limits import RateLimits, RequestLimits, route_body_caps
from servicekit.settings import ServiceSettings
from servicekit.telemetry import HttpMetrics, RequestTelemetry, build_tracer_provider, install_global_tracer_provider

_log = logging.getLogger("servicekit.app")

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}, "code": {"type": "string"}},
            },
        },
    },
    "required": ["type", "title", "status"],
}


class ServiceApp(FastAPI):
    """FastAPI with `EdgeMiddleware` outside everything FastAPI puts in front of the routes.

    Outside its error middleware too, so the span covers the 500 answer to an unhandled error and the error's
    log line carries the trace id. `edge` is set once the app is built; the stack is built on the first request,
    after every service has added its own middleware (transparency's public cache).
    """

    edge: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return self.edge(stack) if self.edge is not None else stack


def create_service_app(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    *,
    routers: Sequence[APIRouter] = (),
    lifespan_hooks: Sequence[LifespanHook] = (),
    event_sink: EventSink | None = None,
    hot_reads: Sequence[HotRead] = (),
    hot_writes: Sequence[HotWrite] = (),
) -> FastAPI:
    """The app for one service: errors, auth, telemetry, health, metrics, then its own routers.

    `lifespan_hooks` start background work (relay, consumers) after the shared
    resources exist and stop it before they close; `event_sink` is where
    `uow.emit()` writes (the transactional outbox); `hot_reads` and `hot_writes` are the GET and POST routes the edge
    answers itself (`servicekit.hot`).
    """
    database = Database(
        settings.service_database_url(),
        schema=settings.db_schema,
        pool_size=settings.db_pool_size,
        application_name=f"betterwork-{definition.name}",
        event_sink=event_sink,
    )
    tracer_provider = build_tracer_provider(
        definition.name, settings.otel_traces_exporter, settings.otel_exporter_otlp_endpoint
    )
    install_global_tracer_provider(tracer_provider)
    metrics_registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.push_async_callback(database.dispose)
            stack.callback(tracer_provider.shutdown)
            for hook in lifespan_hooks:
                await stack.enter_async_context(hook(app))
            _log.info("%s ready to serve on port %s", definition.name, settings.port)
            yield

    app = ServiceApp(
        title=f"Better Work {definition.title}",
        summary=definition.summary,
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=lambda route: f"{definition.name}-{route.name}",
        # Spans, metrics and the access log come from `EdgeMiddleware`; FastAPI's own instrumentation would
        # measure every request a second time.
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.service_name = definition.name
    app.state.settings = settings
    # COUNTRY_PACK, checked against COUNTRY; None in development. A bad pack stops the start here.
    app.state.country_pack = load_country_pack_from_env(settings.country)
    app.state.database = database
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    app.state.metrics_registry = metrics_registry
    app.state.tracer_provider = tracer_provider
    app.state.readiness = ReadinessChecks(
        {
            "database": lambda: database.ping(settings.readiness_timeout_s),
            "broker": broker_check(
                settings.kafka_bootstrap_servers, settings.readiness_timeout_s, kafka_security(settings)
            ),
        },
        timeout_s=settings.readiness_timeout_s,
        gauge=Gauge(
            "dependency_up",
            "Whether a dependency answered the last readiness check (1) or not (0).",
            ["dependency"],
            registry=metrics_registry,
        ),
    )

    app.state.rate_limits = RateLimits()

    install_problem_handlers(app)
    # Limits run before routing, authentication and body parsing; telemetry around them, so refusals count.
    limits = RequestLimits(
        max_body_bytes=settings.max_body_bytes,
        write_rate=settings.rate_limit_writes,
        upload_rate=settings.rate_limit_uploads,
        route_caps=lambda: route_body_caps(app.routes),
        rate_limits=app.state.rate_limits,
    )
    telemetry = RequestTelemetry(tracer_provider, HttpMetrics(metrics_registry))
    app.state.hot_routes = HotRoutes(hot_reads, lambda: app.routes, hot_writes, unit_of_work=open_unit_of_work)
    app.edge = lambda inner: EdgeMiddleware(inner, telemetry=telemetry, limits=limits, hot=app.state.hot_routes)
    app.include_router(health_router)
    app.include_router(platform_routes.router)
    for router in routers:
        app.include_router(router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    app.state.hot_routes.resolve()  # a hot route the app could answer differently stops the start here
    _check_operation_ids(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _check_operation_ids(app: FastAPI) -> None:
    seen: set[str] = set()
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            op_id = route.unique_id
            if op_id in seen:
                raise RuntimeError(f"duplicate operation id {op_id}: name the route functions uniquely")
            seen.add(op_id)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes, description=app.description
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = schema
    return app.openapi_schema
