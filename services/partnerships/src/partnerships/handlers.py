"""Which event type goes to which use case (the one place where they meet)."""

from betterwork_contracts.events.assessments import (
    AssessmentCyclesRenumbered,
    AssessmentReleased,
    ZeroToleranceCaseNotConfirmed,
    ZeroToleranceCaseOpened,
    ZeroToleranceCaseUpdated,
)
from betterwork_contracts.events.invoicing import EntitlementPurchased
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.consumer import Handler
from partnerships.service import events_in

EVENT_HANDLERS: dict[str, Handler] = {
    FactoryRegistered.type: events_in.factory_registered,
    FactoryUpdated.type: events_in.factory_updated,
    FactoryStatusChanged.type: events_in.factory_status_changed,
    FactoryMerged.type: events_in.factory_merged,
    AssessmentCyclesRenumbered.type: events_in.cycles_renumbered,
    EntitlementPurchased.type: events_in.entitlement_purchased,
    ZeroToleranceCaseOpened.type: events_in.case_opened,
    ZeroToleranceCaseUpdated.type: events_in.case_updated,
    ZeroToleranceCaseNotConfirmed.type: events_in.case_not_confirmed,
    AssessmentReleased.type: events_in.assessment_released,
}
