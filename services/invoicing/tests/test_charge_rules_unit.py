"""The charging rules without I/O: how a country charges (per assessment or per cycle), the line of one
assessment, what a cancellation does to its invoice, crediting in full with the payment owed back, and the
service package cycles a merge must not bill twice."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from invoicing.domain import invoice as rules
from invoicing.domain.assessment_charges import ChargeBasis, OnCancel, assessment_charge, charge_basis, on_cancel
from invoicing.domain.document import build, problems
from invoicing.domain.invoice import CustomerKind, Invoice, InvoiceRuleError, Party, Purpose, Status
from invoicing.domain.issuers import issuer_for
from invoicing.domain.pricing import PriceItem, PriceListVersion, PricingError, Service, new_version, price
from invoicing.domain.service_packages import next_package_cycle, redundant_package_drafts, waiting_package_draft

T0 = datetime(2027, 1, 4, tzinfo=UTC)
FACTORY = Party(CustomerKind.FACTORY, uuid.uuid4(), "Irbid Knit", "JO", "Al-Hassan Industrial Estate")


def price_list(*services: Service, group_discount_bps: int = 0) -> PriceListVersion:
    prices = {Service.ASSESSMENT: 350_000, Service.SERVICE_PACKAGE: 600_000, Service.ADVISORY_DAY: 45_000}
    return new_version(
        country="JO",
        currency_code="USD",
        effective_from=date(2027, 1, 1),
        items=[PriceItem(s, s.value.replace("_", " ").capitalize(), unit_price=prices[s]) for s in services],
        group_discount_bps=group_discount_bps,
    )


def charged(version: PriceListVersion | None = None, assessment_id: uuid.UUID | None = None) -> Invoice:
    line = assessment_charge(
        version or price_list(Service.ASSESSMENT),
        assessment_id=assessment_id or uuid.uuid4(),
        assessment_type="initial",
        cycle=1,
    )
    return rules.draft(
        purpose=Purpose.SERVICES,
        country="JO",
        currency="USD",
        issuer="BWJ",
        customer=FACTORY,
        lines=[line],
        created_at=T0,
        created_by="invoicing:assessment-events",
        cycle=1,
    )


def issued(invoice: Invoice) -> Invoice:
    return rules.issue(invoice, number="BWJ-INV-2027-000001", issue_date=date(2027, 1, 4), document_hash="h")


# --- how a country charges -------------------------------------------------------------------------------


def test_a_price_list_that_prices_an_assessment_charges_per_assessment_and_never_per_cycle_too() -> None:
    assert charge_basis(price_list(Service.ASSESSMENT, Service.ADVISORY_DAY)) is ChargeBasis.PER_ASSESSMENT
    # Both priced: the assessment wins, so an enrolment drafts no package beside the assessments' charges.
    assert charge_basis(price_list(Service.ASSESSMENT, Service.SERVICE_PACKAGE)) is ChargeBasis.PER_ASSESSMENT
    assert charge_basis(price_list(Service.SERVICE_PACKAGE, Service.ADVISORY_DAY)) is ChargeBasis.PER_CYCLE
    assert charge_basis(price_list(Service.ADVISORY_DAY)) is ChargeBasis.NOTHING
    assert charge_basis(None) is ChargeBasis.NOTHING


def test_the_line_of_an_assessment_links_to_it_and_keeps_its_price_and_discount() -> None:
    assessment_id = uuid.uuid4()
    version = price_list(Service.ASSESSMENT, group_discount_bps=1000)
    line = assessment_charge(version, assessment_id=assessment_id, assessment_type="follow_up", cycle=2, group_size=5)
    assert line.service is Service.ASSESSMENT and line.assessment_id == assessment_id
    assert (line.quantity, line.unit_price, line.gross, line.net) == (1, 350_000, 350_000, 315_000)
    assert [(d.reason, d.amount) for d in line.discounts] == [("group", 35_000)]
    assert line.description == "Assessment: follow-up assessment, cycle 2"
    invoice = charged(version, assessment_id)
    assert invoice.assessment_id == assessment_id and invoice.total == 350_000
    with pytest.raises(PricingError, match="does not charge per assessment"):
        assessment_charge(
            price_list(Service.SERVICE_PACKAGE), assessment_id=assessment_id, assessment_type="initial", cycle=1
        )


def test_the_issued_document_names_the_assessment_on_its_line_and_passes_en16931() -> None:
    invoice = charged()
    document = build(
        invoice, issuer_for("JO"), number="BWJ-INV-2027-000007", issue_date=date(2027, 1, 4), due_date=date(2027, 2, 3)
    )
    (line,) = document["InvoiceLines"]
    assert line["DocumentReference"] == {
        "ID": str(invoice.assessment_id),
        "SchemeID": "assessment",
        "DocumentTypeCode": "130",
    }
    assert problems(document) == []
    plain = package_draft(cycle=1)
    assert (
        "DocumentReference"
        not in build(plain, issuer_for("JO"), number="X", issue_date=date(2027, 1, 4), due_date=date(2027, 2, 3))[
            "InvoiceLines"
        ][0]
    )


# --- cancellation ------------------------------------------------------------------------------------------


def test_a_cancelled_assessment_drops_a_draft_voids_an_unpaid_charge_and_credits_a_paid_one() -> None:
    draft = charged()
    assert on_cancel(draft) is OnCancel.DROP_DRAFT
    unpaid = issued(draft)
    assert on_cancel(unpaid) is OnCancel.VOID
    part_paid = rules.pay(unpaid, 100_000)
    assert on_cancel(part_paid) is OnCancel.CREDIT_AND_REFUND
    paid = rules.pay(unpaid, 350_000)
    assert on_cancel(paid) is OnCancel.CREDIT_AND_REFUND
    voided, _ = rules.credit_in_full(unpaid)
    assert on_cancel(voided) is OnCancel.NOTHING  # a repeat of the cancellation changes nothing
    assert on_cancel(rules.write_off(unpaid)) is OnCancel.NOTHING  # finance staff decide


def test_crediting_in_full_voids_an_unpaid_invoice_and_owes_back_what_was_paid() -> None:
    unpaid = issued(charged())
    voided, amount = rules.credit_in_full(unpaid)
    assert (voided.status, amount, voided.amount_due, voided.refund_due) == (Status.VOID, 350_000, 0, 0)

    paid = rules.pay(unpaid, 350_000)
    credited, amount = rules.credit_in_full(paid)
    assert (credited.status, amount, credited.amount_due, credited.refund_due) == (Status.PAID, 350_000, 0, 350_000)

    part_paid = rules.pay(unpaid, 100_000)
    credited, amount = rules.credit_in_full(part_paid)
    # The whole charge is credited: the 2,500.00 still due is cancelled, the 1,000.00 paid is owed back.
    assert (credited.status, amount, credited.amount_due, credited.refund_due) == (Status.PAID, 350_000, 0, 100_000)

    with pytest.raises(InvoiceRuleError, match="credited in full already"):
        rules.credit_in_full(replace(paid, amount_credited=paid.total))
    with pytest.raises(InvoiceRuleError, match="only an issued or paid invoice"):
        rules.credit_in_full(charged())


# --- service packages across a merge ------------------------------------------------------------------------


def package_draft(*, cycle: int) -> Invoice:
    version = price_list(Service.SERVICE_PACKAGE)
    return rules.draft(
        purpose=Purpose.SERVICES,
        country="JO",
        currency="USD",
        issuer="BWJ",
        customer=FACTORY,
        lines=[price(version, Service.SERVICE_PACKAGE, 1)],
        created_at=T0,
        created_by="invoicing:registry-events",
        cycle=cycle,
    )


def package(cycle: int, *, status: Status = Status.DRAFT, minutes: int = 0) -> Invoice:
    invoice = package_draft(cycle=cycle)
    invoice = replace(invoice, created_at=T0 + timedelta(minutes=minutes))
    return issued(invoice) if status is not Status.DRAFT else invoice


def test_the_next_package_follows_the_whole_history_and_ignores_assessment_charges() -> None:
    assert next_package_cycle([]) == 1
    assert next_package_cycle([package(1, status=Status.ISSUED), package(1, status=Status.ISSUED)]) == 2
    assert next_package_cycle([package(1, status=Status.ISSUED), package(3, status=Status.ISSUED)]) == 4
    assert next_package_cycle([issued(charged()), issued(charged())]) == 1  # per-assessment charges are no package
    waiting = package(2)
    assert waiting_package_draft([package(1, status=Status.ISSUED), waiting]) == waiting
    assert waiting_package_draft([package(1, status=Status.ISSUED)]) is None


def test_a_merge_drops_only_the_drafts_of_a_cycle_already_charged() -> None:
    survivor_issued = package(1, status=Status.ISSUED, minutes=5)
    retired_draft = package(1, minutes=1)  # the duplicate's package of the same first cycle, not yet issued
    assert redundant_package_drafts([survivor_issued, retired_draft], duplicate_status="active") == [retired_draft.id]
    first, second = package(1, minutes=1), package(1, minutes=2)
    assert redundant_package_drafts([second, first], duplicate_status="enrolled") == [
        second.id
    ]  # two drafts: the earliest stays
    assert (
        redundant_package_drafts([package(1, status=Status.ISSUED), package(2)], duplicate_status="active") == []
    )  # another cycle stays
    both_issued = [package(1, status=Status.ISSUED), package(1, status=Status.ISSUED, minutes=3)]
    assert (
        redundant_package_drafts(both_issued, duplicate_status="active") == []
    )  # issued documents are never dropped: finance credits one
    voided, _ = rules.credit_in_full(package(1, status=Status.ISSUED))
    assert redundant_package_drafts([voided, retired_draft], duplicate_status="active") == []  # a void one: nothing
    # A duplicate that had exited leaves history: the survivor's own draft of a new enrolment stays.
    assert redundant_package_drafts([survivor_issued, retired_draft], duplicate_status="exited") == []
