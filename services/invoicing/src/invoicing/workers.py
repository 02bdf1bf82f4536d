"""What the invoicing service runs in the background, beside its HTTP edge (started by `app.py`)."""

from invoicing.handlers import EVENT_HANDLERS
from messaging.runtime import messaging_runtime
from servicekit.app import LifespanHook

WORKERS: list[LifespanHook] = [messaging_runtime(handlers=EVENT_HANDLERS)]
