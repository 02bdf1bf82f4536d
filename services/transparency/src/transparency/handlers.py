"""Which event type goes to which use case (the one place where they meet)."""

from betterwork_contracts.events.advisory import ImprovementItemStatusChanged
from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered, AssessmentFinalised, AssessmentRevised
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.consumer import Handler
from transparency.service import events

EVENT_HANDLERS: dict[str, Handler] = {
    FactoryRegistered.type: events.factory_registered,
    FactoryUpdated.type: events.factory_updated,
    FactoryStatusChanged.type: events.factory_status_changed,
    FactoryMerged.type: events.factory_merged,
    AssessmentFinalised.type: events.assessment_finalised,
    AssessmentRevised.type: events.assessment_revised,
    AssessmentCyclesRenumbered.type: events.cycles_renumbered,
    ImprovementItemStatusChanged.type: events.improvement_item_changed,
}
