"""The assessments service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from assessments.api import assessments, cases, findings, programme, reports, slcp, tools
from assessments.service.country_pack import programme_of
from assessments.settings import AssessmentsSettings
from assessments.workers import WORKERS
from messaging.runtime import outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: AssessmentsSettings | None = None) -> FastAPI:
    settings = settings or AssessmentsSettings()
    app = create_service_app(
        SERVICE,
        settings,
        routers=[
            tools.router,
            assessments.router,
            findings.router,
            reports.router,
            cases.router,
            slcp.router,
            programme.router,
        ],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=WORKERS,
    )
    # A shipped tool or protocol the pack names must be COUNTRY's, at the shipped version (published on first
    # start by `workers.shipped_data`): a mismatch stops the start here. One this release does not ship, the
    # programme uploads (`service/country_pack.py`).
    app.state.country_programme = programme_of(app.state.country_pack)
    return app


SERVICE = ServiceDefinition(
    name="assessments",
    title="Assessments",
    summary="The Compliance Assessment Tool, assessments, findings and zero-tolerance cases.",
    settings_cls=AssessmentsSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
