"""Background work a service runs beside its HTTP edge, as lifespan hooks listed in its `workers.py`.

Every service's `workers.py` holds `WORKERS`, the one list of what it runs in the background (relay and
consumer, import or delivery workers, sweeps); `app.py` hands that list to `create_service_app`. A sweep
that only repeats one job is a `periodic(...)` hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI

from servicekit.app import LifespanHook

_log = logging.getLogger("servicekit.background")


def periodic(
    name: str, job: Callable[[FastAPI], Awaitable[object]], *, every_s: Callable[[FastAPI], float]
) -> LifespanHook:
    """Lifespan hook: run `job(app)` every `every_s(app)` seconds while the app runs.

    A failing round is logged and the next one runs as planned: a sweep must never stop for good because the
    database was away once. Shutdown cancels the wait, never a round half-way (each round is one transaction).
    """

    @contextlib.asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                try:
                    await job(app)
                except Exception:
                    _log.exception("%s failed; trying again in the next round", name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every_s(app))

        task = asyncio.create_task(loop(), name=name)
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return run
