"""The partnerships service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI

from messaging.runtime import outbox_for
from partnerships.adapters.subscription_rules import subscription_rules
from partnerships.api import industry_alerts, relationships, sealing_keys, webhooks
from partnerships.settings import PartnershipsSettings
from partnerships.workers import WORKERS
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition


def create_app(settings: PartnershipsSettings | None = None) -> FastAPI:
    settings = settings or PartnershipsSettings()
    subscription_rules()  # read and checked at start: a bad rules file stops the start
    return create_service_app(
        SERVICE,
        settings,
        routers=[relationships.router, industry_alerts.router, webhooks.router, sealing_keys.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=WORKERS,
        hot_reads=relationships.HOT_READS,
    )


SERVICE = ServiceDefinition(
    name="partnerships",
    title="Partnerships",
    summary="Buyers, sourcing links, factory consent, report access, alerts and webhooks.",
    settings_cls=PartnershipsSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
