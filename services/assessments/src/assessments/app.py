"""The assessments service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from assessments.api import assessments, cases, findings, reports, slcp, tools
from assessments.settings import AssessmentsSettings
from assessments.workers import WORKERS
from messaging.runtime import outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: AssessmentsSettings | None = None) -> FastAPI:
    settings = settings or AssessmentsSettings()
    return create_service_app(
        SERVICE,
        settings,
        routers=[tools.router, assessments.router, findings.router, reports.router, cases.router, slcp.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=WORKERS,
    )


SERVICE = ServiceDefinition(
    name="assessments",
    title="Assessments",
    summary="The Compliance Assessment Tool, assessments, findings and zero-tolerance cases.",
    settings_cls=AssessmentsSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
