"""What the assessments service runs beside its HTTP edge (started by `app.py`, in this order)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from assessments.handlers import EVENT_HANDLERS
from assessments.service.tools import load_shipped
from messaging.runtime import messaging_runtime
from servicekit.app import LifespanHook


@contextlib.asynccontextmanager
async def shipped_data(app: FastAPI) -> AsyncIterator[None]:
    """At start: publish the shipped tool and protocol on an instance's first start (idempotent), before the
    consumer and relay run."""
    if app.state.settings.load_shipped_data:
        await load_shipped(app.state.database)
    yield


WORKERS: list[LifespanHook] = [
    shipped_data,
    messaging_runtime(handlers=EVENT_HANDLERS),  # the outbox relay and the consumer of registry and partnerships
]
