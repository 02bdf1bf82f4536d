"""Partnerships use cases driven with a fake repository and unit of work: no database (cosmicpython's unit tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from partnerships.domain.relationships import Buyer, Tier, TierChange
from partnerships.service import buyers
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork

pytestmark = pytest.mark.asyncio

STAFF = Principal(subject="ea-sokha", roles=frozenset({Role.STAFF}), country="KH")


class FakeBuyers:
    """`BuyerRepository` held in memory: buyers by id, their tier history, the audit actions written."""

    def __init__(self, *records: Buyer) -> None:
        self.records = {b.id: b for b in records}
        self.history: dict[uuid.UUID, list[TierChange]] = {b.id: [] for b in records}
        self.audited: list[str] = []

    async def load(self, buyer_id: uuid.UUID, *, for_update: bool = False) -> Buyer | None:
        return self.records.get(buyer_id)

    async def add(self, buyer: Buyer) -> None:
        self.records[buyer.id] = buyer
        self.history[buyer.id] = []

    async def save(self, buyer: Buyer) -> None:
        assert buyer.id in self.records
        self.records[buyer.id] = buyer

    async def add_tier_change(self, buyer_id: uuid.UUID, change: TierChange) -> None:
        self.history[buyer_id].append(change)

    async def tier_history(self, buyer_id: uuid.UUID) -> list[TierChange]:
        return list(self.history[buyer_id])

    async def record(self, actor: Principal, *, action: str, **_: Any) -> None:
        self.audited.append(action)


class FakeUnitOfWork(UnitOfWork):
    """No database: what the use case emits is kept, and counted as published only when it commits."""

    def __init__(self) -> None:
        self.emitted: list[Any] = []
        self.published: list[Any] = []
        self.commits = 0

    @property
    def session(self) -> AsyncSession:
        raise AssertionError("the use case went past its repository to the database")

    def emit(self, event: Any, **attributes: Any) -> None:
        self.emitted.append(event)

    async def commit(self) -> None:
        self.published, self.emitted = self.published + self.emitted, []
        self.commits += 1


def participant() -> Buyer:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    return Buyer(
        uuid.uuid4(), "Nordic Outdoor", "NO", Tier.PARTICIPANT, None, [], None, [], 1, now, "ea-sokha", now, "KH"
    )


async def test_an_upgrade_saves_the_next_version_keeps_the_history_and_publishes_the_tier_change() -> None:
    buyer = participant()
    repository, uow = FakeBuyers(buyer), FakeUnitOfWork()

    changed, history = await buyers.update_buyer(
        uow,
        principal=STAFF,
        buyer_id=buyer.id,
        values={"tier": "partner", "tier_reason": "signed the partnership agreement"},
        buyers=repository,
    )

    assert repository.records[buyer.id] == changed
    assert (changed.tier, changed.version) == (Tier.PARTNER, 2)
    assert [(h.from_tier, h.to_tier, h.by_subject, h.reason) for h in history] == [
        (Tier.PARTICIPANT, Tier.PARTNER, "ea-sokha", "signed the partnership agreement")
    ]
    assert repository.audited == ["buyer.updated"] and uow.commits == 1
    [event] = uow.published
    assert (event.buyer_id, event.tier, event.previous_tier) == (buyer.id, "partner", "participant")


async def test_asking_for_the_tier_it_has_changes_and_publishes_nothing() -> None:
    buyer = participant()
    repository, uow = FakeBuyers(buyer), FakeUnitOfWork()

    changed, history = await buyers.update_buyer(
        uow, principal=STAFF, buyer_id=buyer.id, values={"tier": "participant"}, buyers=repository
    )

    assert changed == buyer and history == [] and repository.audited == []
    assert uow.published == []
