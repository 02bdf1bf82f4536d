"""Which event type goes to which use case (the one place where they meet)."""

from betterwork_contracts.events.partnerships import BuyerRegistered
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from invoicing.service import references
from messaging.consumer import Handler

EVENT_HANDLERS: dict[str, Handler] = {
    FactoryRegistered.type: references.factory_registered,
    FactoryUpdated.type: references.factory_updated,
    FactoryStatusChanged.type: references.factory_status_changed,
    FactoryMerged.type: references.factory_merged,
    BuyerRegistered.type: references.buyer_registered,
}
