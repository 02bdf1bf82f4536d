"""The HTTP edge kit: a unit of work per request that keeps only what the route committed; strict inputs."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.access import buyer, staff
from servicekit.audit import audit_table
from servicekit.database import Database


async def notes(platform: TestPlatform, entity_id: str) -> int:
    database = Database(platform.settings("registry").service_database_url(), schema="registry", pool_size=1)
    try:
        table = audit_table("registry")
        async with database.unit_of_work() as uow:
            found = await uow.session.execute(select(func.count()).where(table.c.entity_id == entity_id))
            return int(found.scalar_one())
    finally:
        await database.dispose()


async def test_what_the_route_commits_is_kept_and_nothing_else(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    kept, dropped, failed = (uuid.uuid4().hex for _ in range(3))
    headers = staff(test_platform)
    assert (await sample_client.post("/v1/sample/notes", json={"entity_id": kept}, headers=headers)).status_code == 201
    not_committed = await sample_client.post(
        "/v1/sample/notes", json={"entity_id": dropped, "commit": False}, headers=headers
    )
    assert not_committed.status_code == 201
    half_way = await sample_client.post(
        "/v1/sample/notes", json={"entity_id": failed, "fail_after_write": True}, headers=headers
    )
    assert half_way.status_code == 500
    assert half_way.headers["content-type"] == "application/problem+json"
    assert [await notes(test_platform, e) for e in (kept, dropped, failed)] == [1, 0, 0]


async def test_an_unknown_field_is_refused_and_changes_nothing(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    entity = uuid.uuid4().hex
    refused = await sample_client.post(
        "/v1/sample/notes", json={"entity_id": entity, "actor": "someone-else"}, headers=staff(test_platform)
    )
    assert refused.status_code == 422
    assert any(e["pointer"] == "#/body/actor" for e in refused.json()["errors"])
    assert await notes(test_platform, entity) == 0


async def test_the_role_alias_turns_away_other_roles(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    entity = uuid.uuid4().hex
    answer = await sample_client.post(
        "/v1/sample/notes", json={"entity_id": entity}, headers=buyer(test_platform, uuid.uuid4())
    )
    assert answer.status_code == 403
    assert await notes(test_platform, entity) == 0


async def test_a_service_client_acts_only_through_a_scope_of_the_route(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    def call(**claims: object) -> dict[str, str]:
        roles = claims.pop("roles")
        return {"Authorization": f"Bearer {test_platform.token(*roles, **claims)}"}  # type: ignore[misc]

    feed = "/v1/sample/alerts-feed"
    unscoped = await sample_client.get(feed, headers=call(roles=["service"], subject="svc-1"))
    assert unscoped.status_code == 403
    assert "zt:receive:*" in unscoped.json()["detail"]
    other = await sample_client.get(feed, headers=call(roles=["service"], subject="svc-1", scopes=["slcp:read"]))
    assert other.status_code == 403
    scoped = call(roles=["service"], subject="svc-1", scopes=["zt:receive:ministry_of_labour:KH"])
    assert (await sample_client.get(feed, headers=scoped)).status_code == 200
    # people act through their role; admins pass; other roles are refused whatever their scopes
    assert (await sample_client.get(feed, headers=buyer(test_platform, uuid.uuid4()))).status_code == 200
    assert (await sample_client.get(feed, headers=call(roles=["admin"]))).status_code == 200
    staff_scoped = call(roles=["staff"], country="KH", scopes=["zt:receive:x:KH"])
    assert (await sample_client.get(feed, headers=staff_scoped)).status_code == 403
