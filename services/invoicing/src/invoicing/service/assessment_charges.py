"""What invoicing does with the assessments' lifecycle: where the country's price list charges per assessment,
a scheduled assessment is invoiced to its factory once, and a cancelled one is credited (rules in
`domain/assessment_charges.py`). A rescheduled assessment changes nothing financial, so it is not consumed.

The charge is issued at once (the price list decides it, there is nothing to review), numbered in the consumer's
transaction like any other document. It does not queue on the HTTP issuing lock (`one_issue_at_a_time`): the
consumer's transaction may already hold a counter row from an earlier event of its batch, and waiting on a
lock an HTTP issuer holds while that issuer waits for the row would never end. The counter row alone keeps the
numbers gapless.
"""

from __future__ import annotations

import logging

from betterwork_contracts.events.assessments import AssessmentCancelled, AssessmentScheduled
from invoicing.adapters import invoices as invoice_repo
from invoicing.adapters import price_lists, references
from invoicing.adapters.tables import SCHEMA
from invoicing.domain import invoice as rules
from invoicing.domain.assessment_charges import ChargeBasis, OnCancel, assessment_charge, charge_basis, on_cancel
from invoicing.domain.invoice import CustomerKind, Party, Purpose
from invoicing.domain.issuers import issuer_for
from invoicing.service.country_pack import payment_terms_for
from invoicing.service.invoices import today
from invoicing.service.issuing import credit_in_full, issue_document, now
from messaging.envelope import Envelope
from messaging.errors import NotYetKnown
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork

_log = logging.getLogger("invoicing.assessment_charges")
ASSESSMENT_EVENTS = Principal(subject="invoicing:assessment-events", roles=frozenset({Role.SERVICE}))


async def assessment_scheduled(uow: UnitOfWork, event: AssessmentScheduled, envelope: Envelope) -> None:
    """Invoice the factory for the assessment, priced from the list in force on its first visit day."""
    factory = await references.factory(uow.session, event.factory_id)
    if factory is None:  # the registry's event may still be on its way: retried, then dead-lettered
        raise NotYetKnown(f"factory {event.factory_id} of assessment {event.assessment_id} is not known here yet")
    version = await price_lists.in_force(uow.session, factory.country, event.start_date)
    if version is None or charge_basis(version) is not ChargeBasis.PER_ASSESSMENT:
        return  # charged per cycle (the enrolment's service package) or not at all
    if await invoice_repo.charge_of_assessment(uow.session, event.assessment_id) is not None:
        return  # a repeat of the event: the assessment is charged once
    line = assessment_charge(
        version,
        assessment_id=event.assessment_id,
        assessment_type=event.assessment_type,
        cycle=event.cycle,
        group_size=await references.group_size(uow.session, factory),
    )
    invoice = rules.draft(
        purpose=Purpose.SERVICES,
        country=factory.country,
        currency=version.currency,
        issuer=issuer_for(factory.country).code,
        customer=Party(CustomerKind.FACTORY, factory.factory_id, factory.name, factory.country, factory.address),
        lines=[line],
        created_at=now(),
        created_by=ASSESSMENT_EVENTS.subject,
        cycle=event.cycle,
        price_list_id=version.id,
        terms_days=await payment_terms_for(uow.session, factory.country),
    )
    await invoice_repo.add(uow.session, invoice)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=ASSESSMENT_EVENTS,
        action="invoice.drafted",
        entity_type="invoice",
        entity_id=str(invoice.id),
        details={
            "reason": "assessment scheduled",
            "assessment_id": str(event.assessment_id),
            "factory_id": str(factory.factory_id),
            "cycle": event.cycle,
        },
    )
    await issue_document(uow, invoice, principal=ASSESSMENT_EVENTS, today=today())


async def assessment_cancelled(uow: UnitOfWork, event: AssessmentCancelled, envelope: Envelope) -> None:
    """Credit the assessment's charge: void it when unpaid; when paid, credit it and owe the payment back."""
    invoice = await invoice_repo.charge_of_assessment(uow.session, event.assessment_id)
    if invoice is None:
        return  # never charged on its own (the country charges per cycle)
    reason = f"Assessment cancelled: {event.reason}"
    match on_cancel(invoice):
        case OnCancel.DROP_DRAFT:
            await invoice_repo.drop_draft(uow.session, invoice.id)
            await record_audit(
                uow.session,
                schema=SCHEMA,
                actor=ASSESSMENT_EVENTS,
                action="invoice.dropped",
                entity_type="invoice",
                entity_id=str(invoice.id),
                reason=reason,
                details={"assessment_id": str(event.assessment_id)},
            )
        case OnCancel.VOID | OnCancel.CREDIT_AND_REFUND:
            await credit_in_full(uow, invoice, reason=reason, principal=ASSESSMENT_EVENTS, today=today())
        case OnCancel.NOTHING:
            _log.info(
                "assessment %s cancelled; its invoice %s is %s: left to finance staff",
                event.assessment_id,
                invoice.number,
                invoice.status,
            )
