"""Issuing a document and what follows a settled invoice: the one path every issue and payment goes through.

The issuing transaction is kept short, because the counter row it advances is held until it commits: the
invoice is loaded and checked, then the number is drawn, the document built and hashed, the row saved and
the event and audit written, and the transaction commits.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from betterwork_contracts.events.invoicing import CreditNoteIssued, CreditsPurchased, InvoiceIssued, InvoicePaid
from invoicing.adapters import credits as ledger
from invoicing.adapters import invoices as repo
from invoicing.adapters.tables import SCHEMA
from invoicing.domain import document as documents
from invoicing.domain import invoice as rules
from invoicing.domain.credits import cancellation_of
from invoicing.domain.invoice import CustomerKind, DocumentType, Invoice, InvoiceRuleError, Purpose, Status
from invoicing.domain.issuers import document_number, issuer_by_code
from invoicing.domain.money import allocate
from invoicing.domain.overdue import OverdueAction
from servicekit.audit import record_audit
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict

SERIES = {DocumentType.INVOICE: "INV", DocumentType.CREDIT_NOTE: "CN"}
_ISSUING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def one_issue_at_a_time() -> asyncio.Lock:
    """This process's issuing lock: hold it from before the first statement until the commit.

    Numbers of one series are drawn one after the other anyway (the counter row is locked until commit, and
    that is what keeps them gapless across processes). Queueing here first, fairly, keeps the waiting out of the
    connection pool and Postgres's lock queue, so the issuing transaction holds the counter row for as short a
    time as it can (bench/invoice_numbering.py).
    """
    loop = asyncio.get_running_loop()
    lock = _ISSUING.get(loop)
    if lock is None:
        lock = _ISSUING[loop] = asyncio.Lock()
    return lock


def now() -> datetime:
    return datetime.now(UTC)


def ids_of(invoice: Invoice) -> dict[str, object]:
    """The customer fields every invoice event carries."""
    kind = invoice.customer.kind
    return {
        "customer_kind": kind.value,
        "factory_id": invoice.customer.id if kind is CustomerKind.FACTORY else None,
        "buyer_id": invoice.customer.id if kind is CustomerKind.BUYER else None,
    }


async def issue_document(uow: UnitOfWork, invoice: Invoice, *, principal: Principal, today: date) -> Invoice:
    """Number, render, hash and save a draft (in the caller's transaction; the caller commits)."""
    try:
        rules.check_issuable(invoice)
    except InvoiceRuleError as exc:
        raise Conflict(str(exc), current_status=invoice.status.value) from exc
    issuer = issuer_by_code(invoice.issuer)
    sequence = await repo.next_number(uow.session, issuer=invoice.issuer, doc_type=invoice.doc_type, year=today.year)
    number = document_number(invoice.issuer, SERIES[invoice.doc_type], today.year, sequence)
    due = today + timedelta(days=invoice.terms_days)
    document = documents.build(invoice, issuer, number=number, issue_date=today, due_date=due)
    issued = rules.issue(invoice, number=number, issue_date=today, document_hash=documents.digest(document))
    await repo.mark_issued(uow.session, issued, document=document)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action=f"{invoice.doc_type.value}.issued",
        entity_type=invoice.doc_type.value,
        entity_id=str(invoice.id),
        details={"number": number, "total": issued.total, "currency": issued.currency, "hash": issued.document_hash},
    )
    if issued.doc_type is DocumentType.INVOICE:
        assert issued.issue_date is not None and issued.due_date is not None and issued.number is not None
        uow.emit(
            InvoiceIssued(
                invoice_id=issued.id,
                number=issued.number,
                issuer=issued.issuer,
                country=issued.country,
                purpose=issued.purpose.value,
                cycle=issued.cycle,
                currency=issued.currency,
                total_minor=issued.total,
                issue_date=issued.issue_date,
                due_date=issued.due_date,
                issued_at=now(),
                **ids_of(issued),  # type: ignore[arg-type]
            ),
            country=issued.country,
        )
    return issued


async def open_suspensions(uow: UnitOfWork, invoice: Invoice) -> int:
    """The customer's other open invoices that reached a suspension (0 for buyers)."""
    if invoice.customer.kind is not CustomerKind.FACTORY:
        return 0
    return await repo.open_with_step(
        uow.session, invoice.customer.kind, invoice.customer.id, OverdueAction.SUSPEND_FACTORY, excluding=invoice.id
    )


async def settle(uow: UnitOfWork, invoice: Invoice) -> None:
    """What a paid invoice sets off: credits bought with it become spendable; `invoice.paid`."""
    if invoice.status is not Status.PAID:
        return
    at = now()
    if invoice.purpose is Purpose.CREDITS:
        for lot in await ledger.make_spendable(uow.session, invoice.id, at):
            uow.emit(
                CreditsPurchased(
                    buyer_id=lot.buyer_id,
                    lot_id=lot.id,
                    invoice_id=invoice.id,
                    quantity=lot.quantity,
                    unit_price_minor=lot.unit_price,
                    currency=lot.currency,
                    tier=lot.tier,
                    expires_on=lot.expires_on,
                    spendable_at=at,
                ),
                country=invoice.country,
            )
    assert invoice.number is not None
    uow.emit(
        InvoicePaid(
            invoice_id=invoice.id,
            number=invoice.number,
            country=invoice.country,
            currency=invoice.currency,
            total_minor=invoice.total,
            amount_paid_minor=invoice.amount_paid,
            amount_credited_minor=invoice.amount_credited,
            open_suspending_invoices=await open_suspensions(uow, invoice),
            paid_at=at,
            **ids_of(invoice),  # type: ignore[arg-type]
        ),
        country=invoice.country,
    )


async def credit_invoice(
    uow: UnitOfWork, invoice: Invoice, *, amount: int, reason: str, principal: Principal, today: date
) -> tuple[Invoice, Invoice]:
    """Issue a credit note of `amount` against `invoice` (locked by the caller); both documents afterwards."""
    try:
        credited = rules.credit(invoice, amount)
    except InvoiceRuleError as exc:
        raise Conflict(str(exc), current_status=invoice.status.value) from exc
    return await _issue_credit_note(
        uow, invoice, credited, amount=amount, reason=reason, principal=principal, today=today
    )


async def credit_in_full(
    uow: UnitOfWork, invoice: Invoice, *, reason: str, principal: Principal, today: date
) -> tuple[Invoice, Invoice, int]:
    """Credit everything not yet credited (the service was called off), paid or not: both documents and the
    refund now due to the customer (0 when nothing was paid), recorded for finance staff to refund or set off."""
    try:
        credited, amount = rules.credit_in_full(invoice)
    except InvoiceRuleError as exc:
        raise Conflict(str(exc), current_status=invoice.status.value) from exc
    credited, note = await _issue_credit_note(
        uow, invoice, credited, amount=amount, reason=reason, principal=principal, today=today
    )
    refund = credited.refund_due - invoice.refund_due
    if refund > 0:
        await repo.add_refund_due(
            uow.session,
            invoice=credited,
            credit_note=note,
            amount=refund,
            reason=reason,
            at=now(),
            by=principal.subject,
        )
        await record_audit(
            uow.session,
            schema=SCHEMA,
            actor=principal,
            action="refund.due",
            entity_type="invoice",
            entity_id=str(invoice.id),
            reason=reason,
            details={"amount": refund, "currency": invoice.currency, "credit_note": note.number},
        )
    return credited, note, refund


async def _issue_credit_note(
    uow: UnitOfWork,
    invoice: Invoice,
    credited: Invoice,
    *,
    amount: int,
    reason: str,
    principal: Principal,
    today: date,
) -> tuple[Invoice, Invoice]:
    """The credit note of `amount` that turns `invoice` into `credited`: saved, issued, announced."""
    try:
        weights = [line.net for line in invoice.lines]
        parts = allocate(amount, weights) if sum(weights) else [amount]
        lines = [
            replace(line, quantity=1, unit_price=part, gross=part, discounts=(), net=part)
            for line, part in zip(invoice.lines, parts, strict=True)
            if part > 0
        ]
        note = rules.credit_note_for(
            invoice, amount=amount, reason=reason, lines=lines, created_at=now(), created_by=principal.subject
        )
    except InvoiceRuleError as exc:
        raise Conflict(str(exc), current_status=invoice.status.value) from exc
    await repo.add(uow.session, note)
    await repo.save(uow.session, credited)
    if credited.status is Status.VOID and invoice.purpose is Purpose.CREDITS:
        for lot in await ledger.lots_of_invoice(uow.session, invoice.id):
            cancel = cancellation_of(lot)
            if cancel is not None:
                await ledger.add_entry(uow.session, lot.buyer_id, cancel, by=principal.subject, remaining=0)
    issued_note = await issue_document(uow, note, principal=principal, today=today)
    assert issued_note.number is not None and invoice.number is not None
    uow.emit(
        CreditNoteIssued(
            credit_note_id=issued_note.id,
            number=issued_note.number,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            invoice_status=credited.status.value,  # type: ignore[arg-type]
            country=invoice.country,
            currency=invoice.currency,
            amount_minor=amount,
            reason=reason,
            open_suspending_invoices=await open_suspensions(uow, credited),
            issued_at=now(),
            **ids_of(invoice),  # type: ignore[arg-type]
        ),
        country=invoice.country,
    )
    if credited.status is Status.PAID and credited.amount_paid and invoice.status is not Status.PAID:
        await settle(uow, credited)  # a credit note that settles a partly paid invoice completes its payment
    return credited, issued_note
