"""What the invoicing service runs in the background, beside its HTTP edge (started by `app.py`)."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from invoicing.handlers import EVENT_HANDLERS
from invoicing.service.country_pack import seed_price_list, store_payment_terms
from invoicing.service.overdue import scheduled_sweep
from messaging.runtime import messaging_runtime
from servicekit.app import LifespanHook
from servicekit.background import periodic


def _sweep_every(app: FastAPI) -> float:
    every: float = app.state.settings.overdue_sweep_s
    return every


@contextlib.asynccontextmanager
async def country_price_list(app: FastAPI) -> AsyncIterator[None]:
    """At start: the payment terms in force are stored for the event handlers; the country pack's price list
    becomes a price list version, once (idempotent)."""
    await store_payment_terms(app.state.database, app.state.settings, app.state.country_pack)
    if app.state.country_pack is not None:
        await seed_price_list(app.state.database, app.state.country_pack)
    yield


WORKERS: list[LifespanHook] = [
    country_price_list,
    messaging_runtime(handlers=EVENT_HANDLERS),
    periodic("overdue-sweep", scheduled_sweep, every_s=_sweep_every),
]
