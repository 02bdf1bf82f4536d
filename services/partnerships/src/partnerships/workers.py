"""What partnerships runs in the background, beside its HTTP edge (started by `app.py`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from messaging.runtime import messaging_runtime
from partnerships.adapters.webhook_sender import WebhookSender
from partnerships.handlers import EVENT_HANDLERS
from partnerships.service.consents import expire_consents
from partnerships.service.delivery_worker import WebhookWorker
from partnerships.settings import PartnershipsSettings
from servicekit.app import LifespanHook
from servicekit.background import periodic


@contextlib.asynccontextmanager
async def webhook_worker(app: FastAPI) -> AsyncIterator[None]:
    """The HTTP client deliveries share (`app.state.webhook_sender`, also used to redeliver by hand), and the
    delivery worker (unless `webhook_worker_enabled` is off)."""
    settings: PartnershipsSettings = app.state.settings
    sender = WebhookSender(settings)
    app.state.webhook_sender = sender
    worker = None
    try:
        if settings.webhook_worker_enabled:
            worker = WebhookWorker(app.state.database, settings, sender=sender)
            app.state.webhook_worker = worker
            await worker.start()
        yield
    finally:
        if worker is not None:
            await worker.stop()
        await sender.aclose()
        app.state.webhook_sender = None
        app.state.webhook_worker = None


async def _expire_consents(app: FastAPI) -> None:
    """Consents whose time ran out are revoked as expired (access closes with them)."""
    async with app.state.database.unit_of_work() as uow:
        if await expire_consents(uow):
            await uow.commit()


def _sweep_every(app: FastAPI) -> float:
    settings: PartnershipsSettings = app.state.settings
    return settings.consent_sweep_s


WORKERS: list[LifespanHook] = [
    messaging_runtime(handlers=EVENT_HANDLERS),  # the outbox relay and the consumer of other services' events
    webhook_worker,
    periodic("consent-expiry", _expire_consents, every_s=_sweep_every),
]
