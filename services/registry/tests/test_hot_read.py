"""A factory by id is answered at the edge (`servicekit.hot`) exactly as the route answers it, for every caller."""

from __future__ import annotations

import uuid

import pytest

import devstack.testkit.access as access
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.hot import both_paths_answer_alike
from devstack.testkit.registry import new_factory

pytestmark = pytest.mark.asyncio


async def test_the_edge_answers_a_factory_by_id_as_the_route_does(test_platform: TestPlatform) -> None:
    app = test_platform.app("registry", relay_enabled=False)
    async with serve_in_process(app) as client:
        staff = access.staff(test_platform, "KH")
        ids = []
        for _ in range(2):
            created = await client.post("/v1/factories", json=new_factory(), headers=staff)
            assert created.status_code == 201, created.text
            ids.append(created.json()["factory"]["id"])
        kept, retired = ids
        merged = await client.post(
            f"/v1/factories/{kept}/merges", json={"merged_id": retired, "reason": "same"}, headers=staff
        )
        assert merged.status_code == 200, merged.text

        path = f"/v1/factories/{kept}"
        asks = [
            (path, staff, None),
            (path.upper().replace("/V1/FACTORIES/", "/v1/factories/"), staff, None),  # a UUID in capitals
            (path, access.buyer(test_platform, uuid.uuid4()), None),
            (path, access.service(test_platform), None),
            (path, access.factory(test_platform, kept), None),
            (path, access.staff(test_platform, "VN"), None),
            (path, {}, None),
            (path, {"Authorization": "Bearer not-a-token"}, None),
            (f"/v1/factories/{retired}", staff, {"view": "x"}),
            (f"/v1/factories/{uuid.uuid4()}", staff, None),
            ("/v1/factories/not-a-uuid", staff, None),
        ]
        answers, served, handed_on = await both_paths_answer_alike(client, app, asks)
        assert [a.status for a in answers] == [200, 200, 200, 200, 200, 404, 401, 401, 308, 404, 422]
        assert answers[8].headers["location"] == f"/v1/factories/{kept}?view=x"
        assert "address" in answers[0].body.decode() and "address" not in answers[2].body.decode()
        assert (served, handed_on) == (10, 1)  # only the malformed id went through FastAPI

        scraped = (await client.get("/metrics")).text
        assert 'route="/v1/factories/{factory_id}",status="200"' in scraped.replace('method="GET",', "")
