"""The first flow across two services: registry publishes, assessments keeps a read model."""

from __future__ import annotations

import uuid

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.assessments import factory_ref as read_model
from devstack.testkit.registry import new_factory, random_word
from devstack.testkit.waiting import wait_until
from servicekit.auth import Role


async def test_registered_and_renamed_factory_reaches_the_assessments_read_model(test_platform: TestPlatform) -> None:
    word = random_word()
    staff = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
    async with (
        serve_in_process(test_platform.app("registry")) as registry,
        serve_in_process(test_platform.app("assessments")),
    ):
        created = await registry.post(
            "/v1/factories",
            json={**new_factory(), "name": f"Golden  Thread {word} Co., Ltd", "country": "kh"},
            headers=staff,
        )
        assert created.status_code == 201, created.text
        factory = created.json()["factory"]
        assert factory["name"] == f"Golden Thread {word} Co., Ltd"
        assert factory["version"] == 1
        renamed = await registry.patch(
            f"/v1/factories/{factory['id']}",
            json={"name": f"Golden Thread {word} Garment"},
            headers={**staff, "If-Match": '"1"'},
        )
        assert renamed.status_code == 200, renamed.text

        ref = await wait_until(
            lambda: read_model(test_platform, uuid.UUID(factory["id"])), lambda r: r and r["version"] == 2
        )
        assert ref["name"] == f"Golden Thread {word} Garment"
        assert ref["country"] == "KH"
