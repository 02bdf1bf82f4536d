"""Buyer credits: an append-only ledger of lots and entries (Lago's wallets, with its "credits arrive when
the top-up invoice is paid" rule).

A purchase creates a lot (unit price, tier, currency, expiry, the invoice that bought it) and a `purchase`
entry for its quantity; the lot is spendable only once that invoice is paid. Spending takes one credit from
the spendable lot that expires first. A correction is never an edit: a `reversal` entry gives a spent
credit back, a `cancellation` entry takes back the unspent rest of a lot whose invoice was voided. The
invariant the tests hold: a lot's remaining count is the sum of its entries, never below zero or above its
quantity.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class CreditRuleError(ValueError):
    """A spend or correction the ledger does not allow (the API answers 409)."""


class EntryKind(StrEnum):
    PURCHASE = "purchase"
    SPEND = "spend"
    REVERSAL = "reversal"
    CANCELLATION = "cancellation"


@dataclass(frozen=True)
class Lot:
    id: uuid.UUID
    buyer_id: uuid.UUID
    invoice_id: uuid.UUID
    quantity: int
    remaining: int
    unit_price: int
    currency: str
    tier: str | None
    expires_on: date | None
    spendable: bool
    created_at: datetime

    def usable_on(self, on: date) -> bool:
        return self.spendable and self.remaining > 0 and (self.expires_on is None or self.expires_on >= on)


@dataclass(frozen=True)
class Entry:
    lot_id: uuid.UUID
    kind: EntryKind
    quantity: int  # signed: +purchase, -spend, +reversal, -cancellation
    factory_id: uuid.UUID | None = None
    cycle: int | None = None
    entitlement_id: uuid.UUID | None = None
    reverses: int | None = None  # the spend entry a reversal gives back


def lot_to_spend(lots: Iterable[Lot], on: date) -> Lot:
    """The spendable lot that expires first (lots without expiry last, then oldest first)."""
    usable = [lot for lot in lots if lot.usable_on(on)]
    if not usable:
        raise CreditRuleError("no spendable credit: buy credits, or wait until their invoice is paid")
    return min(usable, key=lambda lot: (lot.expires_on is None, lot.expires_on or date.max, lot.created_at))


def spend(lots: Sequence[Lot], *, factory_id: uuid.UUID, cycle: int, on: date, already_spent: bool) -> Entry:
    """One credit for (factory, cycle); a cycle already unlocked for this buyer is not paid for twice."""
    if cycle < 1:
        raise CreditRuleError("cycles count from 1")
    if already_spent:
        raise CreditRuleError(f"a credit was already spent on cycle {cycle} of this factory")
    lot = lot_to_spend(lots, on)
    return Entry(lot.id, EntryKind.SPEND, -1, factory_id=factory_id, cycle=cycle, entitlement_id=uuid.uuid4())


def reversal_of(spent: Entry, entry_id: int, *, already_reversed: bool) -> Entry:
    if spent.kind is not EntryKind.SPEND:
        raise CreditRuleError("only a spend is reversed")
    if already_reversed:
        raise CreditRuleError("this spend was already reversed")
    return Entry(spent.lot_id, EntryKind.REVERSAL, 1, spent.factory_id, spent.cycle, reverses=entry_id)


def cancellation_of(lot: Lot) -> Entry | None:
    """Take back what is left of a lot whose invoice was voided (None when nothing is left)."""
    if lot.remaining == 0:
        return None
    return Entry(lot.id, EntryKind.CANCELLATION, -lot.remaining)


def remaining_after(lot: Lot, entry: Entry) -> int:
    """The lot's remaining count once `entry` is added; a count outside 0..quantity is refused."""
    remaining = lot.remaining + entry.quantity
    if not 0 <= remaining <= lot.quantity:
        raise CreditRuleError(f"lot {lot.id} would hold {remaining} of {lot.quantity} credits")
    return remaining


def ledger_problems(lots: Iterable[Lot], entries: Iterable[Entry]) -> list[str]:
    """Where the ledger and the lots disagree: each lot's remaining must be the sum of its entries."""
    sums: dict[uuid.UUID, int] = {}
    for entry in entries:
        sums[entry.lot_id] = sums.get(entry.lot_id, 0) + entry.quantity
    problems = []
    for lot in lots:
        total = sums.get(lot.id, 0)
        if total != lot.remaining:
            problems.append(f"lot {lot.id}: entries add up to {total}, the lot holds {lot.remaining}")
        if not 0 <= lot.remaining <= lot.quantity:
            problems.append(f"lot {lot.id}: {lot.remaining} of {lot.quantity} credits")
    return problems
