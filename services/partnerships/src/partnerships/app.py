"""The partnerships service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from partnerships.settings import PartnershipsSettings
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: PartnershipsSettings | None = None) -> FastAPI:
    return create_service_app(SERVICE, settings or PartnershipsSettings())


SERVICE = ServiceDefinition(
    name="partnerships",
    title="Partnerships",
    summary="Buyers, sourcing links, factory consent, report access, alerts and webhooks.",
    settings_cls=PartnershipsSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
