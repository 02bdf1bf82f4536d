"""The partnerships service's FastAPI app, built by one factory function."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from messaging.runtime import messaging_runtime, outbox_for
from partnerships.api import relationships, webhooks
from partnerships.handlers import EVENT_HANDLERS
from partnerships.service.relationships import expire_consents
from partnerships.settings import PartnershipsSettings
from servicekit.app import create_service_app
from servicekit.definition import ServiceDefinition

_log = logging.getLogger("partnerships.consents")


@contextlib.asynccontextmanager
async def consent_expiry(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan hook: consents whose time ran out are revoked as expired (access closes with them)."""
    settings: PartnershipsSettings = app.state.settings

    async def sweep() -> None:
        while True:
            try:
                async with app.state.database.unit_of_work() as uow:
                    if await expire_consents(uow):
                        await uow.commit()
            except Exception:
                _log.exception("consent expiry sweep failed; retrying")
            await asyncio.sleep(settings.consent_sweep_s)

    task = asyncio.create_task(sweep(), name="consent-expiry")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(settings: PartnershipsSettings | None = None) -> FastAPI:
    settings = settings or PartnershipsSettings()
    return create_service_app(
        SERVICE,
        settings,
        routers=[relationships.router, webhooks.router],
        event_sink=outbox_for(settings).write,
        lifespan_hooks=[messaging_runtime(handlers=EVENT_HANDLERS), webhooks.webhook_worker, consent_expiry],
    )


SERVICE = ServiceDefinition(
    name="partnerships",
    title="Partnerships",
    summary="Buyers, sourcing links, factory consent, report access, alerts and webhooks.",
    settings_cls=PartnershipsSettings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
)
