"""Enrolment changes at the registry reach partnerships' factory read model, with no dead letters on the way."""

from __future__ import annotations

import uuid

from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.events import on
from devstack.testkit.registry import new_factory
from devstack.testkit.waiting import metric_value, wait_until
from servicekit.auth import Role


async def test_status_changes_reach_partnerships_without_dead_letters(
    test_platform: TestPlatform, dedicated_broker: TansuBroker, topic_prefix: str
) -> None:
    staff = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
    async with (
        serve_in_process(test_platform.app("registry", **on(dedicated_broker, topic_prefix))) as registry,
        serve_in_process(
            test_platform.app("partnerships", **on(dedicated_broker, topic_prefix, consumer_retry_budget=1))
        ) as partnerships,
    ):
        created = await registry.post("/v1/factories", json=new_factory(), headers=staff)
        assert created.status_code == 201, created.text
        factory_id = created.json()["factory"]["id"]
        for change in (
            {"change": "enrolled", "service_package": "core", "start_date": "2027-01-01"},
            {"change": "activated"},
        ):
            moved = await registry.post(f"/v1/factories/{factory_id}/status-changes", json=change, headers=staff)
            assert moved.status_code == 201, moved.text

        async def ref() -> tuple[str, int] | None:
            rows = await fetch(
                test_platform,
                "partnerships",
                "SELECT status, version FROM partnerships.factory_ref WHERE factory_id = $1",
                uuid.UUID(factory_id),
            )
            return (rows[0]["status"], rows[0]["version"]) if rows else None

        assert await wait_until(ref, lambda r: r is not None and r[1] == 3) == ("active", 3)
        metrics = (await partnerships.get("/metrics")).text
        assert metric_value(metrics, "events_dead_lettered_total") == 0
