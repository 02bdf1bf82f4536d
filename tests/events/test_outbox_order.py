"""The outbox relay never skips a row that commits late (the sequence-gap trap) and keeps each aggregate in order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from betterwork_contracts.events.registry import FactoryChanges, FactoryRegistered, FactoryUpdated
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.assessments import applied_versions
from devstack.testkit.database import fetch
from devstack.testkit.waiting import wait_until


def on(broker: TansuBroker, prefix: str) -> dict[str, Any]:
    return {"kafka_bootstrap_servers": broker.bootstrap_servers, "kafka_topic_prefix": prefix}


def registered(factory_id: uuid.UUID) -> FactoryRegistered:
    return FactoryRegistered(factory_id=factory_id, version=1, country="KH", name="F", registered_at=datetime.now(UTC))


async def test_a_row_that_commits_after_a_later_one_is_still_published(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    registry_app = test_platform.app("registry", **on(dedicated_broker, topic_prefix))
    early, late = uuid.uuid4(), uuid.uuid4()
    async with (
        serve_in_process(registry_app),
        serve_in_process(test_platform.app("assessments", **on(dedicated_broker, topic_prefix))),
    ):
        database = registry_app.state.database
        async with database.unit_of_work() as slow:
            # The slow transaction writes its outbox row first (it gets the lower seq) but commits last.
            await database.event_sink(slow.session, [(registered(early), {})])
            async with database.unit_of_work() as fast:
                fast.emit(registered(late))
                await fast.commit()
            await wait_until(lambda: applied_versions(test_platform, [late]), lambda a: a[late] == [1])
            await slow.commit()
        await wait_until(lambda: applied_versions(test_platform, [early]), lambda a: a[early] == [1])


async def test_a_second_writer_of_the_same_aggregate_waits_for_the_first_to_commit(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    """Otherwise the second could take a lower seq yet commit later, and the relay would send v3 before v2."""
    registry_app = test_platform.app("registry", **on(dedicated_broker, topic_prefix), relay_enabled=False)
    factory_id, other = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)

    def update(version: int) -> FactoryUpdated:
        return FactoryUpdated(
            factory_id=factory_id,
            version=version,
            country="KH",
            changes=FactoryChanges(name=f"v{version}"),
            updated_at=now,
        )

    async with serve_in_process(registry_app):
        database = registry_app.state.database

        async def write_and_commit(event: Any) -> None:
            async with database.unit_of_work() as uow:
                uow.emit(event)
                await uow.commit()

        async with database.unit_of_work() as first:
            await database.event_sink(first.session, [(update(2), {})])
            same = asyncio.create_task(write_and_commit(update(3)))
            unrelated = asyncio.create_task(write_and_commit(registered(other)))
            await asyncio.wait_for(unrelated, 10)  # another aggregate is not held up
            await asyncio.sleep(0.5)
            assert not same.done(), "the same aggregate's second writer must wait"
            await first.commit()
        await asyncio.wait_for(same, 10)

        rows = await fetch(
            test_platform,
            "registry",
            "SELECT payload->>'version' AS version FROM outbox WHERE aggregateid = $1 ORDER BY seq",
            str(factory_id),
        )
        assert [r["version"] for r in rows] == ["2", "3"]
