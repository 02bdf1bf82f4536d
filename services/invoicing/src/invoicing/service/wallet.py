"""A buyer's wallet of report credits: buy (an invoice, issued at once), spend one per factory cycle, reverse.

Credits bought are spendable once their invoice is paid (`issuing.settle`). Spending locks the buyer's wallet
row first, so of two concurrent spends of the last credit the second waits, then finds none: exactly one
wins. A spend publishes `entitlement.purchased`, which partnerships turns into report access.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from betterwork_contracts.events.invoicing import EntitlementPurchased
from invoicing.adapters import credits as ledger_sql
from invoicing.adapters import invoices as invoice_repo
from invoicing.adapters import references
from invoicing.adapters.references import FactoryRef
from invoicing.adapters.tables import SCHEMA
from invoicing.domain import credits as rules
from invoicing.domain.credits import CreditRuleError, Entry, Lot
from invoicing.domain.invoice import CustomerKind, Invoice, Purpose
from invoicing.domain.overdue import OverdueAction
from invoicing.domain.pricing import Service
from invoicing.service.access import check_finance, wallet_owner
from invoicing.service.invoices import Billing, LineRequest, customer_party, new_draft, price_lines, today
from invoicing.service.issuing import issue_document, now, one_issue_at_a_time
from invoicing.settings import InvoicingSettings
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, Forbidden, NotFound


class EventsAndCommit(Protocol):
    """The part of a unit of work spending uses (a fake in unit tests)."""

    def emit(self, event: Any, **attributes: Any) -> None: ...
    async def commit(self) -> None: ...


class CreditLedger(Protocol):
    """What spending needs from storage (SQL in production, a dict in unit tests)."""

    async def lock_wallet(self, buyer_id: uuid.UUID) -> bool: ...
    async def lots(self, buyer_id: uuid.UUID) -> list[Lot]: ...
    async def net_spends(self, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int) -> int: ...
    async def append(self, buyer_id: uuid.UUID, entry: Entry, *, by: str, remaining: int) -> int: ...
    async def factory(self, factory_id: uuid.UUID) -> FactoryRef | None: ...
    async def audit(self, principal: Principal, action: str, entity_id: str, details: dict[str, Any]) -> None: ...


class SqlCreditLedger:
    def __init__(self, uow: UnitOfWork) -> None:
        self.session = uow.session

    async def lock_wallet(self, buyer_id: uuid.UUID) -> bool:
        return await ledger_sql.lock_wallet(self.session, buyer_id)

    async def lots(self, buyer_id: uuid.UUID) -> list[Lot]:
        return await ledger_sql.lots(self.session, buyer_id)

    async def net_spends(self, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int) -> int:
        return await ledger_sql.net_spends(self.session, buyer_id, factory_id, cycle)

    async def append(self, buyer_id: uuid.UUID, entry: Entry, *, by: str, remaining: int) -> int:
        return await ledger_sql.add_entry(self.session, buyer_id, entry, by=by, remaining=remaining)

    async def factory(self, factory_id: uuid.UUID) -> FactoryRef | None:
        return await references.factory(self.session, factory_id)

    async def audit(self, principal: Principal, action: str, entity_id: str, details: dict[str, Any]) -> None:
        await record_audit(
            self.session,
            schema=SCHEMA,
            actor=principal,
            action=action,
            entity_type="credit_wallet",
            entity_id=entity_id,
            details=details,
        )


@dataclass(frozen=True)
class Spent:
    entry_id: int
    entitlement_id: uuid.UUID
    lot_id: uuid.UUID
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    cycle: int


async def spend_credit(
    uow: EventsAndCommit,
    ledger: CreditLedger,
    *,
    principal: Principal,
    buyer_id: uuid.UUID | None,
    factory_id: uuid.UUID,
    cycle: int,
    on: date | None = None,
) -> Spent:
    """One credit unlocks one factory cycle for the buyer: `entitlement.purchased`."""
    buyer = wallet_owner(principal, buyer_id)
    if principal.organisation(Role.BUYER) is None and not principal.is_admin and Role.STAFF not in principal.roles:
        raise Forbidden("Only the buyer or programme staff spend a buyer's credits.")
    if not await ledger.lock_wallet(buyer):
        raise Conflict("No spendable credit: this buyer has bought none.")
    factory = await ledger.factory(factory_id)
    if factory is None:
        raise NotFound(f"No factory {factory_id} is known here.")
    lots = await ledger.lots(buyer)
    try:
        entry = rules.spend(
            lots,
            factory_id=factory.factory_id,
            cycle=cycle,
            on=on or today(),
            already_spent=await ledger.net_spends(buyer, factory.factory_id, cycle) > 0,
        )
        lot = next(lot for lot in lots if lot.id == entry.lot_id)
        remaining = rules.remaining_after(lot, entry)
    except CreditRuleError as exc:
        raise Conflict(str(exc)) from exc
    entry_id = await ledger.append(buyer, entry, by=principal.subject, remaining=remaining)
    assert entry.entitlement_id is not None
    await ledger.audit(
        principal,
        "credit.spent",
        str(buyer),
        {"factory_id": str(factory.factory_id), "cycle": cycle, "lot_id": str(lot.id), "entry_id": entry_id},
    )
    uow.emit(
        EntitlementPurchased(
            entitlement_id=entry.entitlement_id,
            buyer_id=buyer,
            factory_id=factory.factory_id,
            cycle=cycle,
            source="credit",
            purchased_at=now(),
        ),
        country=factory.country,
    )
    await uow.commit()
    return Spent(entry_id, entry.entitlement_id, lot.id, buyer, factory.factory_id, cycle)


async def buy_credits(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    buyer_id: uuid.UUID | None,
    quantity: int,
    country: str,
    billing: Billing | None,
) -> tuple[Invoice, Lot]:
    """An invoice for `quantity` credits at the tier of that quantity, issued at once; a lot that waits for it."""
    buyer = wallet_owner(principal, buyer_id)
    country = country.upper()
    if await invoice_repo.open_with_step(uow.session, CustomerKind.BUYER, buyer, OverdueAction.HOLD_REPORTS):
        raise Conflict("An overdue invoice of this buyer holds new purchases; pay it first.")
    party, _ = await customer_party(uow, CustomerKind.BUYER, buyer, billing)
    lines, _, currency = await price_lines(
        uow,
        country=country,
        currency=None,
        on=today(),
        requests=[LineRequest(Service.BUYER_CREDIT, quantity)],
        group=None,
    )
    draft = new_draft(Purpose.CREDITS, country, currency, party, lines, principal, settings, None)
    await invoice_repo.add(uow.session, draft)
    await ledger_sql.open_wallet(uow.session, buyer)
    line = lines[0]
    lot = Lot(
        id=uuid.uuid4(),
        buyer_id=buyer,
        invoice_id=draft.id,
        quantity=quantity,
        remaining=quantity,
        unit_price=line.unit_price,  # credits carry no discount: the lot's value is the tier price
        currency=currency,
        tier=line.tier,
        expires_on=today() + timedelta(days=settings.credit_validity_days),
        spendable=False,
        created_at=now(),
    )
    await ledger_sql.add_lot(uow.session, lot, by=principal.subject)
    async with one_issue_at_a_time():
        issued = await issue_document(uow, draft, principal=principal, today=today())
        await uow.commit()
    return issued, lot


async def reverse_spend(
    uow: UnitOfWork,
    *,
    principal: Principal,
    settings: InvoicingSettings,
    buyer_id: uuid.UUID,
    entry_id: int,
    reason: str,
) -> dict[str, Any]:
    """Give a spent credit back (a correction by finance staff); the reversal is an entry of its own."""
    check_finance(principal, settings, settings.country or principal.country or "")
    if not await ledger_sql.lock_wallet(uow.session, buyer_id):
        raise NotFound(f"No wallet of buyer {buyer_id}.")
    found = await ledger_sql.entry(uow.session, buyer_id, entry_id)
    if found is None:
        raise NotFound(f"No entry {entry_id} in this wallet.")
    spent, already = found
    factory = await references.factory(uow.session, spent.factory_id) if spent.factory_id else None
    if factory is not None and not principal.is_staff_of(factory.country):
        raise NotFound(f"No entry {entry_id} in this wallet.")  # a spend on another country's factory
    try:
        reversal = rules.reversal_of(spent, entry_id, already_reversed=already)
        lot = next(lot for lot in await ledger_sql.lots(uow.session, buyer_id) if lot.id == spent.lot_id)
        remaining = rules.remaining_after(lot, reversal)
    except CreditRuleError as exc:
        raise Conflict(str(exc)) from exc
    new_id = await ledger_sql.add_entry(uow.session, buyer_id, reversal, by=principal.subject, remaining=remaining)
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="credit.reversed",
        entity_type="credit_wallet",
        entity_id=str(buyer_id),
        reason=reason,
        details={"entry_id": entry_id, "reversal_id": new_id},
    )
    row = await ledger_sql.entry_row(uow.session, new_id)
    await uow.commit()
    return row


@dataclass(frozen=True)
class Wallet:
    buyer_id: uuid.UUID
    lots: list[Lot]
    entries: list[dict[str, Any]]

    def balance(self, on: date) -> int:
        return sum(lot.remaining for lot in self.lots if lot.usable_on(on))

    def pending(self) -> int:
        return sum(lot.remaining for lot in self.lots if not lot.spendable)


async def wallet(uow: UnitOfWork, *, principal: Principal, buyer_id: uuid.UUID | None) -> Wallet:
    """The buyer's own wallet; an admin's view of any. Staff see only the credits their programme sold (lots of
    their country's invoices and the entries on them); a buyer with none of those is 404 to them, as a buyer that
    exists nowhere, since what a brand buys from other programmes is not theirs to see."""
    buyer = wallet_owner(principal, buyer_id)
    if principal.is_admin or principal.organisation(Role.BUYER) == buyer:
        return Wallet(buyer, await ledger_sql.lots(uow.session, buyer), await ledger_sql.entries(uow.session, buyer))
    country = principal.staff_country
    lots = await ledger_sql.lots(uow.session, buyer, country=country) if country else []
    if not lots:
        raise NotFound(f"No wallet of buyer {buyer} in this programme.")
    return Wallet(buyer, lots, await ledger_sql.entries(uow.session, buyer, country=country))
