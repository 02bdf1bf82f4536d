"""SQL of invoices and credit notes: load and save the domain record, draw gapless numbers, record payments."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from invoicing.adapters.tables import DUNNING_STEP, INVOICE, PAYMENT, PAYMENT_ALLOCATION, REFUND_DUE
from invoicing.domain.invoice import OPEN, CustomerKind, DocumentType, Invoice, Party, Purpose, Status
from invoicing.domain.overdue import OverdueAction
from invoicing.domain.pricing import Discount, PricedLine, Service


def line_values(line: PricedLine) -> dict[str, Any]:
    return {
        "service": line.service.value,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "tier": line.tier,
        "gross": line.gross,
        "discounts": [{"reason": d.reason, "basis_points": d.basis_points, "amount": d.amount} for d in line.discounts],
        "net": line.net,
        **({"assessment_id": str(line.assessment_id)} if line.assessment_id is not None else {}),
    }


def line_of(data: Mapping[str, Any]) -> PricedLine:
    return PricedLine(
        service=Service(data["service"]),
        description=data["description"],
        quantity=data["quantity"],
        unit_price=data["unit_price"],
        tier=data["tier"],
        gross=data["gross"],
        discounts=tuple(Discount(**d) for d in data["discounts"]),
        net=data["net"],
        assessment_id=uuid.UUID(data["assessment_id"]) if data.get("assessment_id") else None,
    )


def invoice_of(row: Mapping[Any, Any]) -> Invoice:
    return Invoice(
        id=row["id"],
        doc_type=DocumentType(row["doc_type"]),
        status=Status(row["status"]),
        purpose=Purpose(row["purpose"]),
        country=row["country"],
        currency=row["currency"],
        issuer=row["issuer"],
        customer=Party(
            kind=CustomerKind(row["customer_kind"]),
            id=row["customer_id"],
            name=row["customer_name"],
            country=row["customer_country"],
            address=row["customer_address"],
        ),
        lines=tuple(line_of(d) for d in row["lines"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        terms_days=row["terms_days"],
        number=row["number"],
        issue_date=row["issue_date"],
        due_date=row["due_date"],
        amount_paid=row["amount_paid"],
        amount_credited=row["amount_credited"],
        preceding_invoice_id=row["preceding_invoice_id"],
        preceding_number=row["preceding_number"],
        reason=row["reason"],
        cycle=row["cycle"],
        price_list_id=row["price_list_id"],
        document_hash=row["document_hash"],
        version=row["version"],
    )


def _values(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "doc_type": invoice.doc_type.value,
        "status": invoice.status.value,
        "purpose": invoice.purpose.value,
        "country": invoice.country,
        "currency": invoice.currency,
        "issuer": invoice.issuer,
        "customer_kind": invoice.customer.kind.value,
        "customer_id": invoice.customer.id,
        "customer_name": invoice.customer.name,
        "customer_country": invoice.customer.country,
        "customer_address": invoice.customer.address,
        "lines": [line_values(line) for line in invoice.lines],
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "amount_credited": invoice.amount_credited,
        "terms_days": invoice.terms_days,
        "number": invoice.number,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "document_hash": invoice.document_hash,
        "preceding_invoice_id": invoice.preceding_invoice_id,
        "preceding_number": invoice.preceding_number,
        "reason": invoice.reason,
        "cycle": invoice.cycle,
        "price_list_id": invoice.price_list_id,
        "assessment_id": invoice.assessment_id,
        "version": invoice.version,
        "created_at": invoice.created_at,
        "created_by": invoice.created_by,
        "updated_at": datetime.now(UTC),
    }


async def add(session: AsyncSession, invoice: Invoice, *, document: dict[str, Any] | None = None) -> None:
    await session.execute(insert(INVOICE).values(**_values(invoice), document=document))


async def save(session: AsyncSession, invoice: Invoice, *, document: dict[str, Any] | None = None) -> None:
    """Write the changed record back (the document only once: when it is issued)."""
    values = _values(invoice)
    for fixed in ("id", "created_at", "created_by"):
        del values[fixed]
    if document is not None:
        values["document"] = document
    await session.execute(update(INVOICE).where(INVOICE.c.id == invoice.id).values(**values))


async def mark_issued(session: AsyncSession, invoice: Invoice, *, document: dict[str, Any]) -> None:
    """Write what issuing changed, and only that (the issuing transaction holds the counter row meanwhile)."""
    await session.execute(
        update(INVOICE)
        .where(INVOICE.c.id == invoice.id)
        .values(
            status=invoice.status.value,
            number=invoice.number,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            document=document,
            document_hash=invoice.document_hash,
            version=invoice.version,
            updated_at=datetime.now(UTC),
        )
    )


async def load(session: AsyncSession, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
    stmt = select(INVOICE).where(INVOICE.c.id == invoice_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return invoice_of(row) if row is not None else None


async def load_many(session: AsyncSession, ids: Sequence[uuid.UUID], *, for_update: bool = False) -> list[Invoice]:
    """Invoices by id, locked in id order when `for_update` (two payments never lock in crossing orders)."""
    stmt = select(INVOICE).where(INVOICE.c.id.in_(list(ids))).order_by(INVOICE.c.id)
    if for_update:
        stmt = stmt.with_for_update()
    return [invoice_of(row) for row in (await session.execute(stmt)).mappings()]


async def document_of(session: AsyncSession, invoice_id: uuid.UUID) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        await session.execute(select(INVOICE.c.document).where(INVOICE.c.id == invoice_id))
    ).scalar()
    return found


_NEXT_NUMBER = text(
    """INSERT INTO invoicing.document_counter AS c (issuer, doc_type, year, last_number)
       VALUES (:issuer, :doc_type, :year, 1)
       ON CONFLICT (issuer, doc_type, year) DO UPDATE SET last_number = c.last_number + 1
       RETURNING last_number"""
)


async def next_number(session: AsyncSession, *, issuer: str, doc_type: DocumentType, year: int) -> int:
    """The next number of the series, taken in the caller's transaction.

    The upsert locks the counter row until the transaction ends: a concurrent issuer waits and then reads the
    advanced value, and a rollback returns the number. So numbers are never skipped nor used twice (a
    Postgres sequence would skip on rollback). Call it last in the issuing transaction: the lock is held
    until commit.
    """
    params = {"issuer": issuer, "doc_type": doc_type.value, "year": year}
    number: int = (await session.execute(_NEXT_NUMBER, params)).scalar_one()
    return number


def open_for(kind: CustomerKind, customer_id: uuid.UUID, currency: str) -> Select[Any]:
    return select(INVOICE.c.id).where(
        INVOICE.c.customer_kind == kind.value,
        INVOICE.c.customer_id == customer_id,
        INVOICE.c.currency == currency,
        INVOICE.c.doc_type == DocumentType.INVOICE.value,
        INVOICE.c.status.in_([s.value for s in OPEN]),
    )


async def open_invoice_ids(
    session: AsyncSession, kind: CustomerKind, customer_id: uuid.UUID, currency: str
) -> list[uuid.UUID]:
    return list((await session.execute(open_for(kind, customer_id, currency))).scalars())


async def add_payment(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    values: Mapping[str, Any],
    allocations: Sequence[tuple[uuid.UUID, int]],
) -> None:
    await session.execute(insert(PAYMENT).values(id=payment_id, **values))
    if allocations:
        await session.execute(
            insert(PAYMENT_ALLOCATION),
            [{"payment_id": payment_id, "invoice_id": i, "amount": a} for i, a in allocations],
        )


async def payments_of(session: AsyncSession, invoice_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(PAYMENT.c.id, PAYMENT.c.received_on, PAYMENT.c.reference, PAYMENT_ALLOCATION.c.amount)
        .join(PAYMENT_ALLOCATION, PAYMENT_ALLOCATION.c.payment_id == PAYMENT.c.id)
        .where(PAYMENT_ALLOCATION.c.invoice_id == invoice_id)
        .order_by(PAYMENT.c.received_on, PAYMENT.c.recorded_at)
    )
    return [dict(row) for row in rows.mappings()]


async def credit_notes_of(session: AsyncSession, invoice_id: uuid.UUID) -> list[Invoice]:
    rows = await session.execute(
        select(INVOICE).where(INVOICE.c.preceding_invoice_id == invoice_id).order_by(INVOICE.c.created_at)
    )
    return [invoice_of(row) for row in rows.mappings()]


async def charge_of_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> Invoice | None:
    """The invoice charging the assessment (not its credit notes), locked: one charge per assessment."""
    stmt = (
        select(INVOICE)
        .where(INVOICE.c.assessment_id == assessment_id, INVOICE.c.doc_type == DocumentType.INVOICE.value)
        .with_for_update()
    )
    row = (await session.execute(stmt)).mappings().first()
    return invoice_of(row) if row is not None else None


async def package_invoices_of(
    session: AsyncSession, factory_id: uuid.UUID, *, for_update: bool = False
) -> list[Invoice]:
    """The factory's service package invoices (every cycle, every status), oldest first."""
    stmt = (
        select(INVOICE)
        .where(
            INVOICE.c.customer_kind == CustomerKind.FACTORY.value,
            INVOICE.c.customer_id == factory_id,
            INVOICE.c.doc_type == DocumentType.INVOICE.value,
            INVOICE.c.cycle.is_not(None),
            INVOICE.c.assessment_id.is_(None),
        )
        .order_by(INVOICE.c.created_at, INVOICE.c.id)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return [invoice_of(row) for row in (await session.execute(stmt)).mappings()]


async def drop_draft(session: AsyncSession, invoice_id: uuid.UUID) -> None:
    """Remove a draft: it has no number yet, so nothing is skipped."""
    await session.execute(delete(INVOICE).where(INVOICE.c.id == invoice_id, INVOICE.c.status == Status.DRAFT.value))


async def add_refund_due(
    session: AsyncSession, *, invoice: Invoice, credit_note: Invoice, amount: int, reason: str, at: datetime, by: str
) -> uuid.UUID:
    refund_id = uuid.uuid4()
    await session.execute(
        insert(REFUND_DUE).values(
            id=refund_id,
            invoice_id=invoice.id,
            credit_note_id=credit_note.id,
            customer_kind=invoice.customer.kind.value,
            customer_id=invoice.customer.id,
            country=invoice.country,
            currency=invoice.currency,
            amount=amount,
            reason=reason,
            created_at=at,
            created_by=by,
        )
    )
    return refund_id


# ---- overdue ----------------------------------------------------------------------------------------------


async def overdue_candidates(
    session: AsyncSession, *, on: date, limit: int, after: tuple[date, uuid.UUID] | None = None
) -> list[Invoice]:
    """Open invoices past their due date, in (due date, id) order after `after`, locked (another sweep's
    invoices are skipped rather than waited for)."""
    stmt = select(INVOICE).where(INVOICE.c.status.in_([s.value for s in OPEN]), INVOICE.c.due_date < on)
    if after is not None:
        stmt = stmt.where(tuple_(INVOICE.c.due_date, INVOICE.c.id) > tuple_(*after))
    stmt = stmt.order_by(INVOICE.c.due_date, INVOICE.c.id).limit(limit).with_for_update(skip_locked=True)
    return [invoice_of(row) for row in (await session.execute(stmt)).mappings()]


async def steps_taken(session: AsyncSession, invoice_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, frozenset[int]]:
    rows = await session.execute(
        select(DUNNING_STEP.c.invoice_id, DUNNING_STEP.c.step).where(DUNNING_STEP.c.invoice_id.in_(list(invoice_ids)))
    )
    taken: dict[uuid.UUID, set[int]] = {}
    for invoice_id, step in rows:
        taken.setdefault(invoice_id, set()).add(step)
    return {i: frozenset(s) for i, s in taken.items()}


async def take_step(
    session: AsyncSession, invoice_id: uuid.UUID, *, step: int, action: str, days_past_due: int, at: datetime
) -> bool:
    """Record a step once; False when another sweep recorded it first."""
    stmt = (
        pg_insert(DUNNING_STEP)
        .values(invoice_id=invoice_id, step=step, action=action, days_past_due=days_past_due, taken_at=at)
        .on_conflict_do_nothing()
        .returning(DUNNING_STEP.c.step)
    )
    return (await session.execute(stmt)).first() is not None


async def dunning_of(session: AsyncSession, invoice_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(DUNNING_STEP).where(DUNNING_STEP.c.invoice_id == invoice_id).order_by(DUNNING_STEP.c.step)
    )
    return [dict(r) for r in rows.mappings()]


def _with_step(action: OverdueAction) -> Any:
    return (
        select(DUNNING_STEP.c.invoice_id)
        .where(DUNNING_STEP.c.invoice_id == INVOICE.c.id, DUNNING_STEP.c.action == action.value)
        .exists()
    )


async def open_with_step(
    session: AsyncSession,
    kind: CustomerKind,
    customer_id: uuid.UUID,
    action: OverdueAction,
    *,
    excluding: uuid.UUID | None = None,
) -> int:
    """How many open invoices of the customer reached `action` (e.g. still holding a suspension)."""
    conditions = [
        INVOICE.c.customer_kind == kind.value,
        INVOICE.c.customer_id == customer_id,
        INVOICE.c.status.in_([s.value for s in OPEN]),
        _with_step(action),
    ]
    if excluding is not None:
        conditions.append(INVOICE.c.id != excluding)
    count: int = (
        await session.execute(select(func.count()).select_from(INVOICE).where(and_(*conditions)))
    ).scalar_one()
    return count
