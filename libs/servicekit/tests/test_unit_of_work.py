"""The unit of work commits only when told to, and a failure changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from devstack.pytest_plugin import TestPlatform
from servicekit.audit import audit_table, record_audit
from servicekit.auth import Principal, Role
from servicekit.database import Database, Statement, driver_connection

ACTOR = Principal(subject="staff-1", roles=frozenset({Role.STAFF}), country="KH")


@pytest.fixture
async def database(test_platform: TestPlatform) -> AsyncIterator[Database]:
    settings = test_platform.settings("registry")
    db = Database(settings.service_database_url(), schema="registry", pool_size=2)
    yield db
    await db.dispose()


async def count_for(db: Database, entity_id: str) -> int:
    table = audit_table("registry")
    async with db.unit_of_work() as uow:
        return int((await uow.session.execute(select(func.count()).where(table.c.entity_id == entity_id))).scalar_one())


async def add(uow_session: AsyncSession, entity_id: str) -> None:
    await record_audit(
        uow_session, schema="registry", actor=ACTOR, action="test", entity_type="uow", entity_id=entity_id
    )


async def test_commit_persists(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await add(uow.session, "commit-1")
        await uow.commit()
    assert await count_for(database, "commit-1") == 1


async def test_leaving_without_commit_rolls_back(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await add(uow.session, "nocommit-1")
    assert await count_for(database, "nocommit-1") == 0


async def test_exception_rolls_back(database: Database) -> None:
    with pytest.raises(ValueError, match="rule broken"):
        async with database.unit_of_work() as uow:
            await add(uow.session, "raise-1")
            raise ValueError("rule broken")
    assert await count_for(database, "raise-1") == 0


async def test_work_after_commit_is_not_kept_without_another_commit(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await add(uow.session, "after-1")
        await uow.commit()
        await add(uow.session, "after-2")
    assert await count_for(database, "after-1") == 1
    assert await count_for(database, "after-2") == 0


async def test_emitted_events_are_written_in_the_same_transaction(test_platform: TestPlatform) -> None:
    async def sink(session: AsyncSession, events: list[tuple[Any, dict[str, Any]]]) -> None:
        for event, _ in events:
            await add(session, event)
            if event == "sink-4":
                raise RuntimeError("outbox full")

    settings = test_platform.settings("registry")
    database = Database(settings.service_database_url(), schema="registry", pool_size=2, event_sink=sink)
    try:
        async with database.unit_of_work() as uow:
            await add(uow.session, "sink-1")
            uow.emit("sink-2")
            await uow.commit()
        assert await count_for(database, "sink-2") == 1

        with pytest.raises(RuntimeError):
            async with database.unit_of_work() as uow:
                await add(uow.session, "sink-3")
                uow.emit("sink-4")
                await uow.commit()
        assert await count_for(database, "sink-3") == 0
        assert await count_for(database, "sink-4") == 0
    finally:
        await database.dispose()


async def test_emitting_without_an_event_sink_is_refused(database: Database) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(RuntimeError, match="event sink"):
            uow.emit("anything")


async def test_unit_of_work_cannot_be_used_outside_its_block(database: Database) -> None:
    uow = database.unit_of_work()
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.session


_NOTE = Statement(
    """INSERT INTO registry.audit_event (id, occurred_at, actor, actor_roles, action, entity_type, entity_id, details)
       VALUES (gen_random_uuid(), now(), :actor, CAST(:roles AS text[]), 'test', 'uow', :entity, CAST('{}' AS jsonb))"""
)


async def test_a_statement_on_the_driver_runs_in_the_unit_of_works_transaction(database: Database) -> None:
    assert _NOTE.names == ("actor", "roles", "entity") and "$3" in _NOTE.sql and "::" not in _NOTE.sql
    async with database.unit_of_work() as uow:  # the first statement of the transaction: it begins it
        await _NOTE.execute(uow.session, actor="staff-1", roles=["staff"], entity="driver-rolled-back")
        await add(uow.session, "driver-rolled-back")  # SQLAlchemy's statements join the same transaction
    async with database.unit_of_work() as uow:
        await add(uow.session, "driver-kept")
        await _NOTE.execute(uow.session, actor="staff-1", roles=["staff"], entity="driver-kept")
        await uow.commit()
    assert [await count_for(database, e) for e in ("driver-rolled-back", "driver-kept")] == [0, 2]


async def test_a_statement_after_a_commit_runs_in_the_next_transaction_not_the_committed_one(
    database: Database,
) -> None:
    """The driver connection is found once per transaction: after a commit (the connection back in the pool) the
    next statement begins the session's next transaction, which rolls back when the unit of work is left."""
    async with database.unit_of_work() as uow:
        await _NOTE.execute(uow.session, actor="staff-1", roles=["staff"], entity="driver-first")
        first = await driver_connection(uow.session)
        assert first is await driver_connection(uow.session)  # the same transaction: the same connection
        await uow.commit()
        await _NOTE.execute(uow.session, actor="staff-1", roles=["staff"], entity="driver-after-commit")
        assert (await driver_connection(uow.session)).is_in_transaction()
    assert [await count_for(database, e) for e in ("driver-first", "driver-after-commit")] == [1, 0]
