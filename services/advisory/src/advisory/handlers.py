"""Which event type goes to which use case (the one place where they meet): none yet."""

from messaging.consumer import Handler

EVENT_HANDLERS: dict[str, Handler] = {}
