"""Which event type goes to which use case (the one place where they meet)."""

from assessments.service import factory_refs, report_access
from betterwork_contracts.events.partnerships import ReportAccessGranted, ReportAccessRevoked
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.consumer import Handler

EVENT_HANDLERS: dict[str, Handler] = {
    FactoryRegistered.type: factory_refs.record_factory_registered,
    FactoryUpdated.type: factory_refs.record_factory_updated,
    FactoryStatusChanged.type: factory_refs.record_factory_status_changed,
    FactoryMerged.type: factory_refs.record_factory_merged,
    ReportAccessGranted.type: report_access.record_access_granted,
    ReportAccessRevoked.type: report_access.record_access_revoked,
}
