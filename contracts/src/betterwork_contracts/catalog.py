"""The one list of event types and topics; add a model here when a service starts publishing it."""

from __future__ import annotations

from betterwork_contracts.base import IntegrationEvent, Topic
from betterwork_contracts.events.advisory import (
    AdvisoryVisitRecorded,
    ImprovementItemStatusChanged,
    ImprovementPlanCreated,
    ProgressReportIssued,
    TrainingSessionDelivered,
)
from betterwork_contracts.events.assessments import (
    AssessmentCancelled,
    AssessmentCommentReceived,
    AssessmentCyclesRenumbered,
    AssessmentFinalised,
    AssessmentReleased,
    AssessmentRescheduled,
    AssessmentRevised,
    AssessmentScheduled,
    AssessmentStatusChanged,
    ZeroToleranceCaseNotConfirmed,
    ZeroToleranceCaseOpened,
    ZeroToleranceCaseUpdated,
)
from betterwork_contracts.events.invoicing import (
    CreditNoteIssued,
    CreditsPurchased,
    EntitlementPurchased,
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceWrittenOff,
)
from betterwork_contracts.events.partnerships import (
    AlertRaised,
    BuyerRegistered,
    BuyerTierChanged,
    ConsentGranted,
    ConsentRevoked,
    IndustryAlertIssued,
    ProgressReportAccessGranted,
    ProgressReportAccessRevoked,
    ReportAccessGranted,
    ReportAccessRevoked,
    SourcingLinkChanged,
)
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from betterwork_contracts.events.transparency import PublicationReleased

_ALL: tuple[type[IntegrationEvent], ...] = (
    FactoryRegistered,
    FactoryUpdated,
    FactoryStatusChanged,
    FactoryMerged,
    AssessmentScheduled,
    AssessmentStatusChanged,
    AssessmentReleased,
    AssessmentFinalised,
    AssessmentRevised,
    AssessmentCancelled,
    AssessmentRescheduled,
    AssessmentCommentReceived,
    AssessmentCyclesRenumbered,
    ZeroToleranceCaseOpened,
    ZeroToleranceCaseUpdated,
    ZeroToleranceCaseNotConfirmed,
    ReportAccessGranted,
    ReportAccessRevoked,
    ProgressReportAccessGranted,
    ProgressReportAccessRevoked,
    BuyerRegistered,
    BuyerTierChanged,
    SourcingLinkChanged,
    ConsentGranted,
    ConsentRevoked,
    AlertRaised,
    IndustryAlertIssued,
    EntitlementPurchased,
    InvoiceIssued,
    InvoicePaid,
    InvoiceOverdue,
    InvoiceWrittenOff,
    CreditNoteIssued,
    CreditsPurchased,
    ImprovementPlanCreated,
    ImprovementItemStatusChanged,
    ProgressReportIssued,
    AdvisoryVisitRecorded,
    TrainingSessionDelivered,
    PublicationReleased,
)

EVENTS: dict[str, type[IntegrationEvent]] = {model.type: model for model in _ALL}
TOPICS: dict[str, Topic] = {model.topic.name: model.topic for model in _ALL}

if len(EVENTS) != len(_ALL):
    raise RuntimeError("two event models declare the same type")


def event_class(event_type: str) -> type[IntegrationEvent] | None:
    return EVENTS.get(event_type)
