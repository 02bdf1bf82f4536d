"""The transparency service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from messaging.runtime import outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition
from transparency.settings import TransparencySettings
from transparency.workers import WORKERS


def create_app(settings: TransparencySettings | None = None) -> FastAPI:
    settings = settings or TransparencySettings()
    return create_service_app(
        SERVICE, settings, routers=[], event_sink=outbox_for(settings).write, lifespan_hooks=WORKERS
    )


SERVICE = ServiceDefinition(
    name="transparency",
    title="Transparency",
    summary="The public portal and open data under each country's publication rules.",
    settings_cls=TransparencySettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
