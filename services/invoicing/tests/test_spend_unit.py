"""The spend use case driven with a fake ledger and a fake unit of work (cosmicpython's FakeUnitOfWork): no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from betterwork_contracts.events.invoicing import EntitlementPurchased
from invoicing.adapters.references import FactoryRef
from invoicing.domain.credits import Entry, EntryKind, Lot, ledger_problems
from invoicing.service.wallet import spend_credit
from servicekit.auth import Principal, Role
from servicekit.errors import Conflict, NotFound

TODAY = date(2027, 3, 1)


class FakeLedger:
    def __init__(self, lots: list[Lot], factories: list[FactoryRef]) -> None:
        self.wallets = {lot.buyer_id for lot in lots}
        self.by_id = {lot.id: lot for lot in lots}
        self.entries = [Entry(lot.id, EntryKind.PURCHASE, lot.quantity) for lot in lots]
        self.factories = {f.factory_id: f for f in factories}
        self.audited: list[str] = []

    async def lock_wallet(self, buyer_id: uuid.UUID) -> bool:
        return buyer_id in self.wallets

    async def lots(self, buyer_id: uuid.UUID) -> list[Lot]:
        return [lot for lot in self.by_id.values() if lot.buyer_id == buyer_id]

    async def net_spends(self, buyer_id: uuid.UUID, factory_id: uuid.UUID, cycle: int) -> int:
        return -sum(e.quantity for e in self.entries if (e.factory_id, e.cycle) == (factory_id, cycle))

    async def append(self, buyer_id: uuid.UUID, entry: Entry, *, by: str, remaining: int) -> int:
        self.entries.append(entry)
        lot = self.by_id[entry.lot_id]
        self.by_id[lot.id] = Lot(**{**lot.__dict__, "remaining": remaining})
        return len(self.entries)

    async def factory(self, factory_id: uuid.UUID) -> FactoryRef | None:
        return self.factories.get(factory_id)

    async def audit(self, principal: Principal, action: str, entity_id: str, details: dict[str, Any]) -> None:
        self.audited.append(action)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.events: list[tuple[Any, dict[str, Any]]] = []
        self.committed = False

    def emit(self, event: Any, **attributes: Any) -> None:
        self.events.append((event, attributes))

    async def commit(self) -> None:
        self.committed = True


def lot(buyer_id: uuid.UUID, *, remaining: int, expires_in: int | None, spendable: bool = True) -> Lot:
    return Lot(
        id=uuid.uuid4(),
        buyer_id=buyer_id,
        invoice_id=uuid.uuid4(),
        quantity=remaining,
        remaining=remaining,
        unit_price=130000,
        currency="USD",
        tier="10-20",
        expires_on=TODAY + timedelta(days=expires_in) if expires_in is not None else None,
        spendable=spendable,
        created_at=datetime(2027, 1, 1, tzinfo=UTC),
    )


def factory_ref() -> FactoryRef:
    return FactoryRef(uuid.uuid4(), "Sunrise Garments", "KH", None, None, "active", None)


async def test_a_spend_takes_the_first_expiring_lot_and_announces_the_entitlement() -> None:
    buyer_id, factory = uuid.uuid4(), factory_ref()
    later, sooner, unpaid = (
        lot(buyer_id, remaining=3, expires_in=300),
        lot(buyer_id, remaining=1, expires_in=20),
        lot(buyer_id, remaining=5, expires_in=1, spendable=False),
    )
    ledger, uow = FakeLedger([later, sooner, unpaid], [factory]), FakeUnitOfWork()
    principal = Principal("brand", frozenset({Role.BUYER}), organisation_id=str(buyer_id))
    spent = await spend_credit(
        uow,
        ledger,
        principal=principal,
        buyer_id=None,
        factory_id=factory.factory_id,
        cycle=4,
        on=TODAY,
    )
    assert spent.lot_id == sooner.id and uow.committed
    ((event, attributes),) = uow.events
    assert isinstance(event, EntitlementPurchased)
    assert (event.buyer_id, event.factory_id, event.cycle, event.source) == (buyer_id, factory.factory_id, 4, "credit")
    assert attributes == {"country": "KH"} and ledger.audited == ["credit.spent"]
    assert ledger_problems(ledger.by_id.values(), ledger.entries) == []
    with pytest.raises(Conflict):  # the same cycle is not bought twice
        await spend_credit(
            FakeUnitOfWork(),
            ledger,
            principal=principal,
            buyer_id=None,
            factory_id=factory.factory_id,
            cycle=4,
            on=TODAY,
        )


async def test_no_spend_without_a_paid_credit_or_a_known_factory() -> None:
    buyer_id, factory = uuid.uuid4(), factory_ref()
    principal = Principal("brand", frozenset({Role.BUYER}), organisation_id=str(buyer_id))
    ledger = FakeLedger([lot(buyer_id, remaining=1, expires_in=10, spendable=False)], [factory])
    with pytest.raises(Conflict):
        await spend_credit(
            FakeUnitOfWork(),
            ledger,
            principal=principal,
            buyer_id=None,
            factory_id=factory.factory_id,
            cycle=1,
            on=TODAY,
        )
    expired = FakeLedger([lot(buyer_id, remaining=1, expires_in=-1)], [factory])
    with pytest.raises(Conflict):
        await spend_credit(
            FakeUnitOfWork(),
            expired,
            principal=principal,
            buyer_id=None,
            factory_id=factory.factory_id,
            cycle=1,
            on=TODAY,
        )
    with pytest.raises(NotFound):
        await spend_credit(
            FakeUnitOfWork(), ledger, principal=principal, buyer_id=None, factory_id=uuid.uuid4(), cycle=1, on=TODAY
        )
