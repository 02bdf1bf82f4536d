"""What one commit's outbox write stores: every event, in the order emitted, as it will be sent."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from betterwork_contracts.events.registry import FactoryChanges, FactoryRegistered, FactoryUpdated
from devstack.pytest_plugin import TestPlatform
from devstack.testkit.database import fetch
from messaging.outbox import Outbox, notify_channel
from servicekit.database import Database, Statement, driver_connection
from servicekit.settings import libpq_dsn
from servicekit.wake import waiting_here


@pytest.fixture
async def database(test_platform: TestPlatform) -> AsyncIterator[Database]:
    outbox = Outbox(schema="registry", source="/registry", topic_prefix="p12.", default_country="KH")
    database = Database(
        test_platform.settings("registry").service_database_url(),
        schema="registry",
        pool_size=1,
        event_sink=outbox,
    )
    yield database
    await database.dispose()


async def test_events_of_one_commit_are_stored_in_the_order_emitted_with_their_headers(
    test_platform: TestPlatform, database: Database
) -> None:
    now = datetime.now(UTC)
    # Aggregate ids out of sorted order, one of them twice: the lock order (sorted) is not the row order.
    later, earlier = uuid.UUID("f" + uuid.uuid4().hex[1:]), uuid.UUID("0" + uuid.uuid4().hex[1:])
    events = [
        FactoryRegistered(factory_id=later, version=1, country="KH", name="Late Sorted", registered_at=now),
        FactoryRegistered(factory_id=earlier, version=1, country="VN", name="Early Sorted", registered_at=now),
        FactoryUpdated(
            factory_id=later, version=2, country="KH", changes=FactoryChanges(name="Late Sorted 2"), updated_at=now
        ),
    ]
    async with database.unit_of_work() as uow:
        uow.emit(events[0], correlation_id="req-1")
        uow.emit(events[1], country="VN")
        uow.emit(events[2])
        await uow.commit()

    rows = await fetch(
        test_platform,
        "registry",
        """SELECT id, topic, aggregatetype, aggregateid, type, payload::text AS payload, headers::text AS headers,
                  published_at, attempts
           FROM registry.outbox WHERE aggregateid = ANY($1::text[]) ORDER BY seq""",
        [str(later), str(earlier)],
    )
    assert [(r["aggregateid"], r["type"]) for r in rows] == [(str(e.aggregate_id), e.type) for e in events]
    for row, event in zip(rows, events, strict=True):
        assert json.loads(row["payload"]) == json.loads(event.model_dump_json())
        assert row["topic"] == "p12.registry.factory"
        assert row["aggregatetype"] == "factory"
        assert row["published_at"] is None
        assert row["attempts"] == 0
        headers = json.loads(row["headers"])
        assert headers["ce_id"] == str(row["id"])
        assert headers["ce_subject"] == str(event.aggregate_id)
        assert headers["ce_type"] == event.type
        assert headers["ce_source"] == "/registry"
    countries = [json.loads(r["headers"])["ce_country"] for r in rows]
    assert countries == ["KH", "VN", "KH"]  # given with the event, else the service's country
    assert json.loads(rows[0]["headers"])["ce_correlationid"] == "req-1"


async def test_an_outbox_write_that_is_not_committed_leaves_nothing(
    test_platform: TestPlatform, database: Database
) -> None:
    factory_id = uuid.uuid4()
    event = FactoryRegistered(
        factory_id=factory_id, version=1, country="KH", name="Never", registered_at=datetime.now(UTC)
    )
    async with database.unit_of_work() as uow:
        assert database.event_sink is not None
        await database.event_sink(uow.session, [(event, {})])
    rows = await fetch(
        test_platform, "registry", "SELECT 1 FROM registry.outbox WHERE aggregateid = $1", str(factory_id)
    )
    assert rows == []


async def test_the_relay_is_woken_after_a_commit_with_events_and_never_by_a_rollback(
    test_platform: TestPlatform,
) -> None:
    outbox = Outbox(schema="registry", source="/registry", default_country="KH")
    database = Database(
        test_platform.settings("registry").service_database_url(),
        schema="registry",
        pool_size=4,
        event_sink=outbox,
    )
    listener = await asyncpg.connect(libpq_dsn(test_platform.settings("registry").service_database_url()))
    woken: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener(notify_channel("registry"), lambda *_: woken.put_nowait(time.monotonic()))

    def registered() -> FactoryRegistered:
        return FactoryRegistered(
            factory_id=uuid.uuid4(), version=1, country="KH", name="Woken Knit", registered_at=datetime.now(UTC)
        )

    try:
        async with database.unit_of_work() as uow:  # rolled back: nothing to relay, nobody woken
            uow.emit(registered())
        async with database.unit_of_work() as uow:  # committed without events: nobody woken
            await uow.commit()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(woken.get(), 0.5)

        async with database.unit_of_work() as uow:
            uow.emit(registered())
            await uow.commit()
        committed = time.monotonic()
        assert await asyncio.wait_for(woken.get(), 2.0) - committed < 1.0  # not the relay's 5 s poll

        async def commit_one() -> float:
            async with database.unit_of_work() as uow:
                uow.emit(registered())
                await uow.commit()
                return time.monotonic()  # before the wake-up task can run: it starts at the next await

        sent = outbox.waker.sent
        last_commit = max(await asyncio.gather(*(commit_one() for _ in range(40))))
        # The promise: whichever commit came last, a wake-up arrives after it (none is left for the 5 s poll).
        arrivals = []
        with contextlib.suppress(TimeoutError):
            while not arrivals or arrivals[-1] <= last_commit:
                arrivals.append(await asyncio.wait_for(woken.get(), 2.0))
        assert arrivals and arrivals[-1] > last_commit
        # And the 40 commits shared them: a NOTIFY on its way takes along every commit made meanwhile (one per
        # commit would be 40; the pool of 4 lets several commit while one is in flight).
        assert 1 <= outbox.waker.sent - sent < 40
    finally:
        await listener.close()
        await database.dispose()


async def test_a_relay_active_in_this_process_is_woken_without_asking_postgres(test_platform: TestPlatform) -> None:
    outbox = Outbox(schema="registry", source="/registry", default_country="KH")
    url = test_platform.settings("registry").service_database_url()
    database = Database(url, schema="registry", pool_size=2, event_sink=outbox)
    relay_wake = asyncio.Event()
    waiting_here(libpq_dsn(url), notify_channel("registry"), relay_wake)
    try:
        async with database.unit_of_work() as uow:
            uow.emit(
                FactoryRegistered(
                    factory_id=uuid.uuid4(), version=1, country="KH", name="Near Knit", registered_at=datetime.now(UTC)
                )
            )
            await uow.commit()
        assert relay_wake.is_set() and (outbox.waker.woken_here, outbox.waker.sent) == (1, 0)
    finally:
        waiting_here(libpq_dsn(url), notify_channel("registry"), None)
        await database.dispose()


_READ = Statement("SELECT count(*) AS n FROM registry.audit_event WHERE entity_id = :entity")


@functools.cache
def _noted(events: str) -> Statement:
    """An audit row and, through `events`, the unit of work's events: a last write for `commit_with`."""
    return Statement(
        f"""WITH {events}noted AS (
              INSERT INTO registry.audit_event (id, occurred_at, actor, actor_roles, action, entity_type, entity_id,
                                                details)
              VALUES (CAST(:id AS uuid), now(), 'staff-1', ARRAY['staff'], 'test', 'uow', :entity, '{{}}'))
            SELECT 1"""
    )


def _registered(name: str) -> FactoryRegistered:
    return FactoryRegistered(
        factory_id=uuid.uuid4(), version=1, country="KH", name=name, registered_at=datetime.now(UTC)
    )


async def _stored(test_platform: TestPlatform, entity: str, event: FactoryRegistered) -> tuple[int, int]:
    noted = await fetch(test_platform, "registry", "SELECT 1 FROM registry.audit_event WHERE entity_id = $1", entity)
    sent = await fetch(
        test_platform, "registry", "SELECT 1 FROM registry.outbox WHERE aggregateid = $1", str(event.aggregate_id)
    )
    return len(noted), len(sent)


async def test_a_last_write_and_its_events_commit_in_one_round_trip(
    test_platform: TestPlatform, database: Database
) -> None:
    """After reads that began no transaction, `commit_with` sends one statement: no BEGIN, no separate outbox
    write, no COMMIT; the row and the event are both there afterwards."""
    for attempt in ("warm", "measured"):  # the first use of a connection asks Postgres about types once
        entity, event = f"one-trip-{attempt}-{uuid.uuid4()}", _registered("One Trip Knit")
        sent: list[str] = []
        async with database.unit_of_work() as uow:
            driver = await driver_connection(uow.session, begin=False)

            def log(logged: Any, sent: list[str] = sent) -> None:
                sent.append(logged.query)

            driver.add_query_logger(log)
            try:
                assert [r["n"] for r in await _READ.fetch(uow.session, begin=False, entity=entity)] == [0]
                uow.emit(event)
                await uow.commit_with(_noted(uow.events_in_statement()), id=uuid.uuid4(), entity=entity)
            finally:
                driver.remove_query_logger(log)
        assert await _stored(test_platform, entity, event) == (1, 1)
    assert len(sent) == 2 and not any(q.strip().upper() in ("BEGIN", "COMMIT") for q in sent), sent
    assert "outbox" in sent[1] and "audit_event" in sent[1]


async def test_a_last_write_that_fails_leaves_neither_row_nor_event(
    test_platform: TestPlatform, database: Database
) -> None:
    taken, entity, event = uuid.uuid4(), f"one-trip-failed-{uuid.uuid4()}", _registered("Failed Trip Knit")
    async with database.unit_of_work() as uow:
        await _noted("").execute(uow.session, id=taken, entity=f"holder-{entity}")
        await uow.commit()
    async with database.unit_of_work() as uow:
        uow.emit(event)
        with pytest.raises(asyncpg.UniqueViolationError):  # refused by Postgres, after the events were sent along
            await uow.commit_with(_noted(uow.events_in_statement()), id=taken, entity=entity)
    assert await _stored(test_platform, entity, event) == (0, 0)


async def test_a_last_write_after_other_writes_joins_their_transaction(
    test_platform: TestPlatform, database: Database
) -> None:
    """A write before it began a transaction: the statement runs in it, and all of it commits or none."""
    first, entity, event = f"before-{uuid.uuid4()}", f"then-{uuid.uuid4()}", _registered("Joined Knit")
    taken = uuid.uuid4()
    async with database.unit_of_work() as uow:
        await _noted("").execute(uow.session, id=taken, entity=first)  # begins the transaction
        uow.emit(event)
        with pytest.raises(asyncpg.UniqueViolationError):
            await uow.commit_with(_noted(uow.events_in_statement()), id=taken, entity=entity)
    assert await _stored(test_platform, first, event) == (0, 0)

    async with database.unit_of_work() as uow:
        await _noted("").execute(uow.session, id=uuid.uuid4(), entity=first)
        uow.emit(event)
        await uow.commit_with(_noted(uow.events_in_statement()), id=uuid.uuid4(), entity=entity)
    assert await _stored(test_platform, first, event) == (1, 1)
    assert (await _stored(test_platform, entity, event))[0] == 1


async def test_a_last_write_that_would_drop_the_events_is_refused(
    test_platform: TestPlatform, database: Database
) -> None:
    entity, event = f"no-events-{uuid.uuid4()}", _registered("Dropped Knit")
    async with database.unit_of_work() as uow:
        uow.emit(event)
        with pytest.raises(ValueError, match="events_in_statement"):
            await uow.commit_with(_noted(""), id=uuid.uuid4(), entity=entity)
    assert await _stored(test_platform, entity, event) == (0, 0)
