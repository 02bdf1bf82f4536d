"""The advisory service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from advisory.api import committee, plans, reports, training
from advisory.service.country_pack import configured
from advisory.settings import AdvisorySettings
from advisory.workers import WORKERS
from messaging.runtime import outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: AdvisorySettings | None = None) -> FastAPI:
    settings = settings or AdvisorySettings()
    app = create_service_app(
        SERVICE,
        settings,
        routers=[plans.router, reports.router, committee.router, training.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=WORKERS,
    )
    # The pack's training-day entitlement; a progress-report deadline advisory cannot honour stops the start.
    app.state.settings = configured(settings, app.state.country_pack)
    return app


SERVICE = ServiceDefinition(
    name="advisory",
    title="Advisory",
    summary="Improvement plans, progress reports, advisory visits, committees and training.",
    settings_cls=AdvisorySettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
