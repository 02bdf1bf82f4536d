"""The assessments service's FastAPI app, built by one factory function."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from assessments.api import assessments, cases
from assessments.handlers import EVENT_HANDLERS
from assessments.service.tools import load_shipped
from assessments.settings import AssessmentsSettings
from messaging.runtime import messaging_runtime, outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


@contextlib.asynccontextmanager
async def shipped_data(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan hook: publish the shipped tool and protocol on an instance's first start (idempotent)."""
    if app.state.settings.load_shipped_data:
        await load_shipped(app.state.database)
    yield


def create_app(settings: AssessmentsSettings | None = None) -> FastAPI:
    settings = settings or AssessmentsSettings()
    return create_service_app(
        SERVICE,
        settings,
        routers=[assessments.router, cases.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=[shipped_data, messaging_runtime(handlers=EVENT_HANDLERS)],
    )


SERVICE = ServiceDefinition(
    name="assessments",
    title="Assessments",
    summary="The Compliance Assessment Tool, assessments, findings and zero-tolerance cases.",
    settings_cls=AssessmentsSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
