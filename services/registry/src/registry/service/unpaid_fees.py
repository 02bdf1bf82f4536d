"""Invoicing's word on unpaid fees, applied to the enrolment (the rule is `registry.domain.fees`).

The changes are made by the platform, not by a person: history and audit name `system:invoicing` and the
invoice. An event about a factory of another country than the event's, or about a factory this registry
does not hold, is refused (dead-lettered with the reason): invoicing and registry of one instance share a
country and the registry is where factories come from.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from betterwork_contracts.events.invoicing import CreditNoteIssued, InvoiceOverdue, InvoicePaid, InvoiceWrittenOff
from messaging.envelope import Envelope
from messaging.errors import RuleViolation
from registry.adapters import repository as repo
from registry.adapters.repository import FactoryRepository
from registry.domain import factory as rules
from registry.domain.enrolment import Enrolment, StatusChange, SuspensionReason
from registry.domain.factory import Factory
from registry.domain.fees import FeeAction, on_overdue, on_settled
from servicekit.auth import Principal
from servicekit.database import UnitOfWork

INVOICING = Principal(subject="system:invoicing", roles=frozenset())


async def _billed_factory(uow: UnitOfWork, factory_id: uuid.UUID, country: str) -> Factory:
    """The factory the invoice bills, locked; the survivor if it was merged since."""
    factories = FactoryRepository(uow.session)
    factory = await factories.load(factory_id, for_update=True)
    seen = {factory_id}
    while factory is not None and factory.merged_into is not None and factory.merged_into not in seen:
        seen.add(factory.merged_into)
        factory = await factories.load(factory.merged_into, for_update=True)
    if factory is None:
        raise RuleViolation(f"invoicing billed factory {factory_id}, which this registry does not hold")
    if factory.country != country:
        raise RuleViolation(f"invoice of {country} names factory {factory.id} of {factory.country}")
    return factory


async def suspend_for_unpaid_fees(uow: UnitOfWork, event: InvoiceOverdue, envelope: Envelope) -> None:
    if event.action != "suspend_factory" or event.factory_id is None:
        return
    factory = await _billed_factory(uow, event.factory_id, event.country)
    if on_overdue(factory.status) is not FeeAction.SUSPEND:
        return
    note = f"invoice {event.number} unpaid {event.days_past_due} days after its due date {event.due_date}"
    moved, record = _enrolment(factory).suspend(
        reason=SuspensionReason.UNPAID_FEES, note=note, at=datetime.now(UTC), by=INVOICING.subject
    )
    await _save(uow, factory, moved, record, invoice_id=event.invoice_id)


async def reactivate_when_settled(
    uow: UnitOfWork, event: InvoicePaid | InvoiceWrittenOff | CreditNoteIssued, envelope: Envelope
) -> None:
    if event.factory_id is None:
        return
    factory = await _billed_factory(uow, event.factory_id, event.country)
    suspended_for = await repo.last_suspension_reason(uow.session, factory.id)
    if on_settled(factory.status, suspended_for, event.open_suspending_invoices) is not FeeAction.REACTIVATE:
        return
    note = f"no unpaid invoice suspends it any more (invoice {event.invoice_id})"
    moved, record = _enrolment(factory).reactivate(at=datetime.now(UTC), by=INVOICING.subject, note=note)
    await _save(uow, factory, moved, record, invoice_id=event.invoice_id)


def _enrolment(factory: Factory) -> Enrolment:
    return Enrolment(
        status=factory.status,
        service_package=factory.service_package,
        start_date=factory.start_date,
        joined_via=factory.joined_via,
    )


async def _save(
    uow: UnitOfWork, factory: Factory, moved: Enrolment, record: StatusChange, *, invoice_id: uuid.UUID
) -> None:
    changed = replace(factory, status=moved.status, version=factory.version + 1, updated_at=record.at)
    factories = FactoryRepository(uow.session)
    await factories.save(changed, names_changed=False)
    await factories.add_status_change(factory.id, record)
    await factories.audit(
        INVOICING,
        action=f"factory.{record.change.value}",
        factory_id=factory.id,
        reason=record.reason,
        details={
            "from": record.from_status.value,
            "to": record.to_status.value,
            "version": changed.version,
            "invoice_id": str(invoice_id),
        },
    )
    uow.emit(rules.status_event(changed, record, version=changed.version), country=changed.country)
