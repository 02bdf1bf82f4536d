"""What the assessments service runs beside its HTTP edge (started by `app.py`, in this order)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from assessments.handlers import EVENT_HANDLERS
from assessments.service.country_pack import warn_what_is_missing
from assessments.service.scheduling import finalise_ended_comment_periods
from assessments.service.tools import load_shipped
from messaging.runtime import messaging_runtime
from servicekit.app import LifespanHook
from servicekit.background import periodic


@contextlib.asynccontextmanager
async def shipped_data(app: FastAPI) -> AsyncIterator[None]:
    """At start: publish the shipped tool and protocol of the instance's country (`COUNTRY`, or what its country
    pack names) on its first start (idempotent), before the consumer and relay run; then warn of what the pack
    names that is not loaded (a tool or protocol this release does not ship, which staff upload)."""
    settings = app.state.settings
    programme = app.state.country_programme
    if settings.load_shipped_data:
        await load_shipped(app.state.database, settings.country, programme)
    if programme is not None:
        await warn_what_is_missing(app.state.database, programme)
    yield


async def comment_period_clock(app: FastAPI) -> None:
    """Finalise the assessments whose factory comment period has run out."""
    await finalise_ended_comment_periods(app.state.database)


WORKERS: list[LifespanHook] = [
    shipped_data,
    messaging_runtime(handlers=EVENT_HANDLERS),  # the outbox relay and the consumer of registry and partnerships
    periodic(
        "assessments.comment-period", comment_period_clock, every_s=lambda app: app.state.settings.comment_sweep_s
    ),
]
