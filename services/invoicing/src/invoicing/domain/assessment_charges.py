"""Charging per assessment, where a country's price list says so (issue 15, item 7).

A country charges a factory either per cycle (the service package its enrolment drafts) or per assessment. A
price list version that prices `assessment` charges each scheduled assessment once, linked to it, and its
country's enrolments draft no service package: one cycle's assessment is never charged twice, once in a package
and once on its own. A version that prices only the service package keeps charging per cycle.

When the assessment is called off, its charge follows what happened to the invoice: a draft (no number) is
dropped; an issued, unpaid invoice is voided by a credit note; a paid one (in part or in full) is credited in
full by a credit note and what the factory paid is owed back to it (a refund due, to be refunded or set off by
finance staff). A void, written-off or already credited invoice is left as it is. Moving the visit changes
nothing financial: the charge was priced when the assessment was scheduled.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from enum import StrEnum

from invoicing.domain.invoice import OPEN, DocumentType, Invoice, Status
from invoicing.domain.pricing import PricedLine, PriceListVersion, PricingError, Service, price


class ChargeBasis(StrEnum):
    PER_ASSESSMENT = "per_assessment"
    PER_CYCLE = "per_cycle"
    NOTHING = "nothing"  # no price list in force, or it prices neither


def charge_basis(version: PriceListVersion | None) -> ChargeBasis:
    """How the country whose price list this is charges a factory for its assessments."""
    if version is None:
        return ChargeBasis.NOTHING
    if Service.ASSESSMENT in version.items:
        return ChargeBasis.PER_ASSESSMENT
    if Service.SERVICE_PACKAGE in version.items:
        return ChargeBasis.PER_CYCLE
    return ChargeBasis.NOTHING


def assessment_charge(
    version: PriceListVersion,
    *,
    assessment_id: uuid.UUID,
    assessment_type: str,
    cycle: int,
    group_size: int = 0,
) -> PricedLine:
    """The line charging one scheduled assessment, linked to it (group discount as for any line)."""
    if charge_basis(version) is not ChargeBasis.PER_ASSESSMENT:
        raise PricingError(f"the price list of {version.effective_from} does not charge per assessment")
    item = version.items[Service.ASSESSMENT]
    kind = assessment_type.replace("_", "-")
    line = price(
        version,
        Service.ASSESSMENT,
        1,
        group_size=group_size,
        description=f"{item.description}: {kind} assessment, cycle {cycle}",
    )
    return replace(line, assessment_id=assessment_id)


class OnCancel(StrEnum):
    DROP_DRAFT = "drop_draft"  # no number yet: removing it leaves no gap
    VOID = "void"  # issued and unpaid: a credit note for the amount due voids it
    CREDIT_AND_REFUND = "credit_and_refund"  # paid in part or in full: credited in full, what was paid owed back
    NOTHING = "nothing"  # void, written off or credited in full already: finance staff decide anything further


def on_cancel(invoice: Invoice) -> OnCancel:
    """What calling off the assessment does to the invoice that charged it."""
    if invoice.doc_type is not DocumentType.INVOICE:
        return OnCancel.NOTHING
    if invoice.status is Status.DRAFT:
        return OnCancel.DROP_DRAFT
    if invoice.amount_credited >= invoice.total:
        return OnCancel.NOTHING
    if invoice.status in OPEN and invoice.amount_paid == 0:
        return OnCancel.VOID
    if invoice.status in {*OPEN, Status.PAID}:
        return OnCancel.CREDIT_AND_REFUND
    return OnCancel.NOTHING
