"""The assessments service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from assessments.handlers import EVENT_HANDLERS
from assessments.settings import AssessmentsSettings
from messaging.runtime import messaging_runtime, outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: AssessmentsSettings | None = None) -> FastAPI:
    settings = settings or AssessmentsSettings()
    return create_service_app(
        SERVICE,
        settings,
        event_sink=outbox_for(settings).write,
        lifespan_hooks=[messaging_runtime(handlers=EVENT_HANDLERS)],
    )


SERVICE = ServiceDefinition(
    name="assessments",
    title="Assessments",
    summary="The Compliance Assessment Tool, assessments, findings and zero-tolerance cases.",
    settings_cls=AssessmentsSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
