"""The transparency service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition
from transparency.settings import TransparencySettings


def create_app(settings: TransparencySettings | None = None) -> FastAPI:
    return create_service_app(SERVICE, settings or TransparencySettings())


SERVICE = ServiceDefinition(
    name="transparency",
    title="Transparency",
    summary="The public portal and open data under each country's publication rules.",
    settings_cls=TransparencySettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
