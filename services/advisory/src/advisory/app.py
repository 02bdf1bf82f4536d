"""The advisory service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from advisory.settings import AdvisorySettings
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: AdvisorySettings | None = None) -> FastAPI:
    return create_service_app(SERVICE, settings or AdvisorySettings())


SERVICE = ServiceDefinition(
    name="advisory",
    title="Advisory",
    summary="Improvement plans, progress reports, advisory visits, committees and training.",
    settings_cls=AdvisorySettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
