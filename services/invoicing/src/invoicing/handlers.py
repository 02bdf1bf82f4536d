"""Which event type goes to which use case (the one place where they meet).

Each type is accepted only on its contract's topic and from its publisher's source (`messaging.consumer`), so an
`assessment.scheduled` that did not come from the assessments service charges nothing.
"""

from betterwork_contracts.events.assessments import (
    AssessmentCancelled,
    AssessmentCyclesRenumbered,
    AssessmentScheduled,
)
from betterwork_contracts.events.partnerships import BuyerRegistered
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from invoicing.service import assessment_charges, references
from messaging.consumer import Handler

EVENT_HANDLERS: dict[str, Handler] = {
    FactoryRegistered.type: references.factory_registered,
    FactoryUpdated.type: references.factory_updated,
    FactoryStatusChanged.type: references.factory_status_changed,
    FactoryMerged.type: references.factory_merged,
    BuyerRegistered.type: references.buyer_registered,
    AssessmentScheduled.type: assessment_charges.assessment_scheduled,
    AssessmentCancelled.type: assessment_charges.assessment_cancelled,
    AssessmentCyclesRenumbered.type: references.cycles_renumbered,
}
