"""What the invoicing service runs in the background, beside its HTTP edge (started by `app.py`)."""

from fastapi import FastAPI

from invoicing.handlers import EVENT_HANDLERS
from invoicing.service.overdue import scheduled_sweep
from messaging.runtime import messaging_runtime
from servicekit.app import LifespanHook
from servicekit.background import periodic


def _sweep_every(app: FastAPI) -> float:
    every: float = app.state.settings.overdue_sweep_s
    return every


WORKERS: list[LifespanHook] = [
    messaging_runtime(handlers=EVENT_HANDLERS),
    periodic("overdue-sweep", scheduled_sweep, every_s=_sweep_every),
]
