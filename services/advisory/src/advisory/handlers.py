"""Which event type goes to which use case (the one place where they meet)."""

from advisory.service import events
from betterwork_contracts.events.assessments import (
    AssessmentCyclesRenumbered,
    AssessmentFinalised,
    AssessmentReleased,
    ZeroToleranceCaseOpened,
)
from betterwork_contracts.events.partnerships import ProgressReportAccessGranted, ProgressReportAccessRevoked
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.consumer import Handler

EVENT_HANDLERS: dict[str, Handler] = {
    AssessmentReleased.type: events.assessment_released,
    AssessmentFinalised.type: events.assessment_finalised,
    ZeroToleranceCaseOpened.type: events.case_opened,
    FactoryRegistered.type: events.factory_registered,
    FactoryUpdated.type: events.factory_updated,
    FactoryStatusChanged.type: events.factory_status_changed,
    FactoryMerged.type: events.factory_merged,
    AssessmentCyclesRenumbered.type: events.cycles_renumbered,
    ProgressReportAccessGranted.type: events.access_granted,
    ProgressReportAccessRevoked.type: events.access_revoked,
}
