"""Enrolment changes and merges at the registry reach the assessments read model, in version order."""

from __future__ import annotations

import uuid

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.registry import new_factory
from devstack.testkit.waiting import wait_until
from servicekit.auth import Role


async def test_status_changes_and_merges_reach_the_assessments_read_model(test_platform: TestPlatform) -> None:
    staff = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
    async with (
        serve_in_process(test_platform.app("registry")) as registry,
        serve_in_process(test_platform.app("assessments")),
    ):
        survivor = (await registry.post("/v1/factories", json=new_factory(), headers=staff)).json()["factory"]
        duplicate = (await registry.post("/v1/factories", json=new_factory(), headers=staff)).json()["factory"]
        for change in (
            {"change": "enrolled", "service_package": "core", "start_date": "2027-01-01"},
            {"change": "activated"},
        ):
            moved = await registry.post(f"/v1/factories/{survivor['id']}/status-changes", json=change, headers=staff)
            assert moved.status_code == 201, moved.text
        merged = await registry.post(
            f"/v1/factories/{survivor['id']}/merges", json={"merged_id": duplicate["id"]}, headers=staff
        )
        assert merged.status_code == 200, merged.text

        async def refs() -> dict[uuid.UUID, tuple[str, uuid.UUID | None, int]]:
            rows = await fetch(
                test_platform,
                "assessments",
                "SELECT factory_id, status, merged_into, version FROM assessments.factory_ref"
                " WHERE factory_id = ANY($1)",
                [uuid.UUID(survivor["id"]), uuid.UUID(duplicate["id"])],
            )
            return {r["factory_id"]: (r["status"], r["merged_into"], r["version"]) for r in rows}

        ids = (uuid.UUID(survivor["id"]), uuid.UUID(duplicate["id"]))
        seen = await wait_until(refs, lambda r: len(r) == 2 and (r[ids[0]][2], r[ids[1]][2]) == (4, 2))
        assert seen[uuid.UUID(survivor["id"])][:2] == ("active", None)
        assert seen[uuid.UUID(survivor["id"])][2] == 4  # registered, enrolled, activated, updated by the merge
        assert seen[uuid.UUID(duplicate["id"])][:2] == ("registered", uuid.UUID(survivor["id"]))
