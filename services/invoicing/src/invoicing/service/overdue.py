"""The overdue sweep: each open invoice past its due date takes the steps of its country's policy, once each.

Runs on a schedule (`workers.py`), one page of invoices per transaction; invoices another sweep holds are
skipped, and a step already recorded is never taken twice (the step row's key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from fastapi import FastAPI

from betterwork_contracts.events.invoicing import InvoiceOverdue
from invoicing.adapters import invoices as repo
from invoicing.adapters.tables import SCHEMA
from invoicing.domain.overdue import policy_for, steps_due
from invoicing.service.invoices import today
from invoicing.service.issuing import ids_of, now
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import Database

SWEEPER = Principal(subject="invoicing:overdue-sweep", roles=frozenset({Role.SERVICE}))
PAGE = 200


@dataclass(frozen=True)
class StepTaken:
    invoice_id: uuid.UUID
    action: str
    days_past_due: int


async def sweep(database: Database, *, on: date) -> list[StepTaken]:
    """Take every step due on `on`; what was taken."""
    taken_now: list[StepTaken] = []
    after: tuple[date, uuid.UUID] | None = None
    while True:
        async with database.unit_of_work() as uow:
            invoices = await repo.overdue_candidates(uow.session, on=on, limit=PAGE, after=after)
            if not invoices:
                return taken_now
            taken = await repo.steps_taken(uow.session, [i.id for i in invoices])
            for invoice in invoices:
                for step in steps_due(
                    policy_for(invoice.country), invoice, on=on, taken=taken.get(invoice.id, frozenset())
                ):
                    late = invoice.days_past_due(on)
                    at = now()
                    if not await repo.take_step(
                        uow.session, invoice.id, step=step.index, action=step.action.value, days_past_due=late, at=at
                    ):
                        continue
                    await record_audit(
                        uow.session,
                        schema=SCHEMA,
                        actor=SWEEPER,
                        action=f"invoice.overdue.{step.action.value}",
                        entity_type="invoice",
                        entity_id=str(invoice.id),
                        details={"days_past_due": late, "amount_due": invoice.amount_due, "step": step.index},
                    )
                    assert invoice.number is not None and invoice.due_date is not None
                    uow.emit(
                        InvoiceOverdue(
                            invoice_id=invoice.id,
                            number=invoice.number,
                            country=invoice.country,
                            action=step.action.value,
                            currency=invoice.currency,
                            amount_due_minor=invoice.amount_due,
                            due_date=invoice.due_date,
                            days_past_due=late,
                            detected_at=at,
                            **ids_of(invoice),  # type: ignore[arg-type]
                        ),
                        country=invoice.country,
                    )
                    taken_now.append(StepTaken(invoice.id, step.action.value, late))
            await uow.commit()
            last = invoices[-1]
            assert last.due_date is not None
            after = (last.due_date, last.id)
            if len(invoices) < PAGE:
                return taken_now


async def scheduled_sweep(app: FastAPI) -> None:
    """One round of the periodic sweep (`workers.py`)."""
    if app.state.settings.overdue_sweep_enabled:
        await sweep(app.state.database, on=today())
