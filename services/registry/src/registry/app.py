"""The registry service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from messaging.runtime import outbox_for
from registry.api import factories, groups, imports, reviews
from registry.settings import RegistrySettings
from registry.workers import WORKERS
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    return create_service_app(
        SERVICE,
        settings,
        routers=[factories.router, reviews.router, imports.router, groups.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=WORKERS,
        hot_reads=factories.HOT_READS,
        hot_writes=factories.HOT_WRITES,
    )


SERVICE = ServiceDefinition(
    name="registry",
    title="Registry",
    summary="Factories, their identity and their enrolment lifecycle.",
    settings_cls=RegistrySettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
