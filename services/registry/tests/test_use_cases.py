"""Registry use cases driven with a fake repository and unit of work: no database (cosmicpython's unit tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from registry.domain import factory as rules
from registry.domain.enrolment import StatusChange
from registry.domain.factory import Factory
from registry.service import factories
from registry.settings import RegistrySettings
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict

pytestmark = pytest.mark.asyncio


class FakeFactories:
    """The factories of `FactoryRepository`, held in a dict."""

    def __init__(self, *records: Factory) -> None:
        self.records = {f.id: f for f in records}
        self.history: list[tuple[uuid.UUID, StatusChange]] = []
        self.audits: list[tuple[str, uuid.UUID]] = []

    async def load(self, factory_id: uuid.UUID, *, for_update: bool = False) -> Factory | None:
        return self.records.get(factory_id)

    async def save(self, factory: Factory, *, names_changed: bool) -> None:
        self.records[factory.id] = factory

    async def external_id_conflicts(self, factory: Factory) -> dict[str, uuid.UUID]:
        return {}

    async def add_status_change(self, factory_id: uuid.UUID, record: StatusChange) -> None:
        self.history.append((factory_id, record))

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        factory_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        country: str | None = None,
    ) -> None:
        self.audits.append((action, factory_id))


class FakeUnitOfWork(UnitOfWork):
    """A unit of work without a database: events it was asked to emit are published only by `commit`."""

    def __init__(self) -> None:  # no session maker: nothing here may reach a database
        self.pending: list[tuple[Any, dict[str, Any]]] = []
        self.published: list[tuple[Any, dict[str, Any]]] = []
        self.commits = 0

    @property
    def session(self) -> AsyncSession:
        raise AssertionError("the use case went past its repository to the database")

    def emit(self, event: Any, **attributes: Any) -> None:
        self.pending.append((event, attributes))

    async def commit(self) -> None:
        self.published += self.pending
        self.pending = []
        self.commits += 1

    async def rollback(self) -> None:
        self.pending = []


STAFF = Principal(subject="ea-sokha", roles=frozenset({Role.STAFF}), country="KH")
SETTINGS = RegistrySettings(country="KH")


def registered() -> Factory:
    factory, _ = rules.register(
        country="KH", values={"name": "Angkor Knit", "address": "Plot 7, Road 2"}, now=datetime.now(UTC)
    )
    return factory


async def test_enrolling_saves_the_next_version_records_history_and_publishes_one_event() -> None:
    factory = registered()
    repository, uow = FakeFactories(factory), FakeUnitOfWork()

    changed, record = await factories.change_status(
        uow,
        principal=STAFF,
        settings=SETTINGS,
        factory_id=factory.id,
        change="enrolled",
        service_package="core",
        start_date=date(2027, 1, 1),
        expected_version=1,
        repository=repository,
    )

    assert repository.records[factory.id] == changed
    assert (changed.status.value, changed.service_package, changed.version) == ("enrolled", "core", 2)
    assert repository.history == [(factory.id, record)]
    assert repository.audits == [("factory.enrolled", factory.id)]
    assert uow.commits == 1
    [(event, attributes)] = uow.published
    assert (event.factory_id, event.version, attributes) == (factory.id, 2, {"country": "KH"})


async def test_a_change_based_on_a_stale_version_changes_and_publishes_nothing() -> None:
    factory = registered()
    repository, uow = FakeFactories(factory), FakeUnitOfWork()

    with pytest.raises(Conflict):
        await factories.update(
            uow,
            principal=STAFF,
            settings=SETTINGS,
            factory_id=factory.id,
            values={"sector": "footwear"},
            expected_version=0,
            repository=repository,
        )

    assert repository.records[factory.id] == factory
    assert (repository.audits, uow.pending, uow.published, uow.commits) == ([], [], [], 0)
