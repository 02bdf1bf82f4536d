"""Which event type goes to which use case (the one place where they meet)."""

from assessments.service import factory_refs
from betterwork_contracts.events.registry import FactoryRegistered, FactoryUpdated
from messaging.consumer import Handler

EVENT_HANDLERS: dict[str, Handler] = {
    FactoryRegistered.type: factory_refs.record_factory_registered,
    FactoryUpdated.type: factory_refs.record_factory_updated,
}
