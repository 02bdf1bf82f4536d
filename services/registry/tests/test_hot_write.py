"""A registration is answered at the edge (`servicekit.hot`, `HotWrite`) exactly as the route answers it: the same
refusals, byte for byte, the same answer to a factory the registry holds, and a new factory created alike."""

from __future__ import annotations

import json
import uuid

import pytest

import devstack.testkit.access as access
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.hot import both_paths_answer_posts_alike
from devstack.testkit.registry import new_factory

pytestmark = pytest.mark.asyncio

PATH = "/v1/factories"


def _json(**headers: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **headers}


async def test_the_edge_answers_a_registration_as_the_route_does(test_platform: TestPlatform) -> None:
    app = test_platform.app("registry", relay_enabled=False)
    async with serve_in_process(app) as client:
        staff = access.staff(test_platform, "KH")
        held = new_factory()
        first = await client.post(PATH, json=held, headers=staff)
        assert first.status_code == 201, first.text

        refused = new_factory()
        body = json.dumps(refused).encode()
        asks = [
            (PATH, _json(**staff), json.dumps(held).encode()),  # the registry holds it: 200, the same factory
            (PATH, _json(**access.staff(test_platform, "VN")), body),  # staff of another country
            (PATH, _json(), body),  # no token
            (PATH, _json(Authorization="Bearer not-a-token"), body),
            (PATH, _json(**access.buyer(test_platform, uuid.uuid4())), body),  # not staff
            (PATH, _json(**staff), b'{"name": "Unfinished'),  # not JSON
            (PATH, _json(**staff), b"\xff\xfe"),  # not UTF-8
            (PATH, _json(**staff), json.dumps({**refused, "address": None}).encode()),
            (PATH, _json(**staff), json.dumps({**refused, "colour": "red"}).encode()),  # unknown field
            (PATH, _json(**staff), json.dumps({**refused, "name": 5}).encode()),
            (PATH, _json(**staff), b"[]"),
            (PATH, _json(**staff), b"null"),
            (PATH, {"Content-Type": "text/plain", **staff}, body),
            (PATH, _json(**staff), b""),
        ]
        answers, served, handed_on = await both_paths_answer_posts_alike(client, app, asks)
        assert [a.status for a in answers] == [200, 403, 401, 401, 403, 422, 422, 422, 422, 422, 422, 422, 422, 422]
        assert json.loads(answers[0].body)["factory"]["id"] == first.json()["factory"]["id"]
        assert answers[1].headers["content-type"] == "application/problem+json"
        assert (served, handed_on) == (5, 9)  # what failed to parse or validate went to FastAPI
        kept = await fetch(
            test_platform, "registry", "SELECT id FROM registry.factory WHERE name = $1", refused["name"]
        )
        assert kept == []  # no refusal left a factory behind

        # A new factory, once through the edge and once through FastAPI: the same answer but for the new ids.
        created = []
        for enabled in (True, False):
            app.state.hot_routes.enabled = enabled
            try:
                answer = await client.post(PATH, json=new_factory(), headers=staff)
            finally:
                app.state.hot_routes.enabled = True
            assert answer.status_code == 201, answer.text
            factory = answer.json()["factory"]
            assert answer.headers["location"] == f"/v1/factories/{factory['id']}"
            readback = await client.get(answer.headers["location"], headers=staff)
            assert readback.status_code == 200 and readback.json()["name"] == factory["name"]
            created.append(answer.json())
        edge, route = created
        assert sorted(edge) == sorted(route) and sorted(edge["factory"]) == sorted(route["factory"])
        assert edge["outcome"] == route["outcome"] == "created"
