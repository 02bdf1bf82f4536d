"""Which event type goes to which use case: the registry reacts to no other service's events yet."""

from messaging.consumer import Handler

EVENT_HANDLERS: dict[str, Handler] = {}
