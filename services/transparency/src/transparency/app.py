"""The transparency service's FastAPI app, built by one factory function."""

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from messaging.runtime import outbox_for
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition
from transparency.api import portal, public, publications, replies
from transparency.api.caching import PublicCache, PublicCacheMiddleware
from transparency.service.country_pack import publication_rules_of
from transparency.settings import TransparencySettings
from transparency.workers import WORKERS


def create_app(settings: TransparencySettings | None = None) -> FastAPI:
    settings = settings or TransparencySettings()
    app = create_service_app(
        SERVICE,
        settings,
        routers=[publications.router, replies.router, public.router, portal.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=WORKERS,
    )
    # The pack's publication rules must be the rule set transparency applies to COUNTRY: else the start stops here.
    app.state.publication_rules = publication_rules_of(app.state.country_pack)
    app.state.public_cache = PublicCache(settings.public_cache_s, settings.public_cache_entries)
    # innermost (appended, not added on top): request limits and telemetry still count every cached answer
    app.user_middleware.append(Middleware(PublicCacheMiddleware, cache=app.state.public_cache))
    return app


SERVICE = ServiceDefinition(
    name="transparency",
    title="Transparency",
    summary="The public portal and open data under each country's publication rules.",
    settings_cls=TransparencySettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
