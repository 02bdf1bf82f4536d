"""What the registry runs in the background, beside its HTTP edge (started by `app.py`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from messaging.runtime import messaging_runtime
from registry.handlers import EVENT_HANDLERS
from registry.service.import_worker import ImportWorker
from servicekit.app import LifespanHook


@contextlib.asynccontextmanager
async def import_worker(app: FastAPI) -> AsyncIterator[None]:
    """The worker that runs uploaded factory lists (and resumes interrupted ones); an upload wakes it through
    `app.state.import_worker`."""
    worker = ImportWorker(app.state.database, app.state.settings)
    app.state.import_worker = worker
    await worker.start()
    try:
        yield
    finally:
        await worker.stop()


WORKERS: list[LifespanHook] = [
    messaging_runtime(handlers=EVENT_HANDLERS),  # the outbox relay, and the consumer of invoicing's fee events
    import_worker,
]
