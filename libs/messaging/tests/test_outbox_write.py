"""What one commit's outbox write stores: every event, in the order emitted, as it will be sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from betterwork_contracts.events.registry import FactoryChanges, FactoryRegistered, FactoryUpdated
from devstack.pytest_plugin import TestPlatform
from devstack.testkit.database import fetch
from messaging.outbox import Outbox, notify_channel
from servicekit.database import Database
from servicekit.settings import libpq_dsn
from servicekit.wake import waiting_here


@pytest.fixture
async def database(test_platform: TestPlatform) -> AsyncIterator[Database]:
    outbox = Outbox(schema="registry", source="/registry", topic_prefix="p12.", default_country="KH")
    database = Database(
        test_platform.settings("registry").service_database_url(),
        schema="registry",
        pool_size=1,
        event_sink=outbox.write,
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
        event_sink=outbox.write,
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
        arrivals: list[float] = []
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
    database = Database(url, schema="registry", pool_size=2, event_sink=outbox.write)
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
