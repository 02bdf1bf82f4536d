"""What the transparency service runs in the background, beside its HTTP edge (started by `app.py`)."""

from messaging.runtime import messaging_runtime
from servicekit.app import LifespanHook
from transparency.handlers import EVENT_HANDLERS

WORKERS: list[LifespanHook] = [messaging_runtime(handlers=EVENT_HANDLERS)]
