"""Settling a refund due without I/O: once, refunded or set off against an open invoice of the same customer in
the same currency, never for more than that invoice owes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from invoicing.domain import invoice as rules
from invoicing.domain import refunds
from invoicing.domain.invoice import CustomerKind, Invoice, Party, Purpose
from invoicing.domain.pricing import PricedLine, Service
from invoicing.domain.refunds import RefundDue, RefundMethod, RefundRuleError, RefundStatus

T0 = datetime(2027, 1, 21, tzinfo=UTC)
FACTORY = Party(CustomerKind.FACTORY, uuid.uuid4(), "Irbid Knit", "JO", "Al-Hassan Industrial Estate")


def open_invoice(total: int = 350_000, customer: Party = FACTORY, currency: str = "USD") -> Invoice:
    line = PricedLine(
        service=Service.ASSESSMENT,
        description="Compliance assessment",
        quantity=1,
        unit_price=total,
        tier=None,
        gross=total,
        discounts=(),
        net=total,
    )
    draft = rules.draft(
        purpose=Purpose.SERVICES,
        country="JO",
        currency=currency,
        issuer="BWJ",
        customer=customer,
        lines=[line],
        created_at=T0,
        created_by="finance",
    )
    return rules.issue(
        draft, number=f"BWJ-INV-2027-{uuid.uuid4().hex[:6]}", issue_date=date(2027, 1, 4), document_hash="h"
    )


def refund_due(amount: int = 350_000) -> RefundDue:
    return RefundDue(
        id=uuid.uuid4(),
        invoice_id=uuid.uuid4(),
        credit_note_id=uuid.uuid4(),
        customer_kind=FACTORY.kind,
        customer_id=FACTORY.id,
        country="JO",
        currency="USD",
        amount=amount,
        reason="Assessment cancelled: duplicate",
        status=RefundStatus.OPEN,
        created_at=T0,
        created_by="invoicing:assessment-events",
    )


def test_a_refund_due_is_settled_once_whichever_way() -> None:
    refund = refund_due()
    done = refunds.refunded(refund, on=date(2027, 1, 22), method=RefundMethod.CHEQUE, reference="CHQ 1", at=T0, by="f")
    assert done.status is RefundStatus.REFUNDED and done.version == refund.version + 1
    with pytest.raises(RefundRuleError, match="settled already"):
        refunds.refunded(done, on=date(2027, 1, 22), method=RefundMethod.CASH, reference="again", at=T0, by="f")
    with pytest.raises(RefundRuleError, match="settled already"):
        refunds.set_off_amount(done, open_invoice())


def test_a_set_off_pays_at_most_what_the_invoice_owes() -> None:
    assert refunds.set_off_amount(refund_due(350_000), open_invoice(500_000)) == 350_000
    partly_paid = rules.pay(open_invoice(350_000), 300_000)
    assert refunds.set_off_amount(refund_due(350_000), partly_paid) == 50_000


def test_a_set_off_needs_an_open_invoice_of_the_same_customer_and_currency() -> None:
    refund = refund_due()
    stranger = replace(FACTORY, id=uuid.uuid4())
    for invoice, why in (
        (open_invoice(customer=stranger), "same customer"),
        (open_invoice(currency="JOD"), "in JOD"),
        (rules.pay(open_invoice(), 350_000), "owes nothing"),
        (replace(open_invoice(), id=refund.invoice_id), "another invoice"),
    ):
        with pytest.raises(RefundRuleError, match=why):
            refunds.set_off_amount(refund, invoice)
