"""Cursor pages, filters and sorting, through the audit-history endpoint every service has."""

from __future__ import annotations

import secrets

import httpx

from devstack.pytest_plugin import TestPlatform
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import Database
from servicekit.pagination import MAX_PAGE_SIZE

ACTOR = Principal(subject="staff-7", roles=frozenset({Role.STAFF}))


async def seed(platform: TestPlatform, entity_type: str, count: int) -> None:
    db = Database(platform.settings("registry").service_database_url(), schema="registry", pool_size=1)
    try:
        async with db.unit_of_work() as uow:
            for i in range(count):
                await record_audit(
                    uow.session,
                    schema="registry",
                    actor=ACTOR,
                    action="created",
                    entity_type=entity_type,
                    entity_id=f"e-{i:03d}",
                    details={"n": i},
                )
            await uow.commit()
    finally:
        await db.dispose()


async def test_pages_cover_every_row_once_in_order(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    kind = f"page-{secrets.token_hex(3)}"
    await seed(test_platform, kind, 23)
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF)}"}
    seen: list[str] = []
    times: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"entity_type": kind, "limit": 10, "sort": "occurred_at"}
        if cursor:
            params["cursor"] = cursor
        body = (await sample_client.get("/v1/audit-events", params=params, headers=headers)).json()
        seen += [item["entity_id"] for item in body["items"]]
        times += [item["occurred_at"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == [f"e-{i:03d}" for i in range(23)]
    assert len(set(seen)) == 23
    assert times == sorted(times)


async def test_filter_by_entity_id(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    kind = f"filter-{secrets.token_hex(3)}"
    await seed(test_platform, kind, 5)
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF)}"}
    body = (
        await sample_client.get("/v1/audit-events", params={"entity_type": kind, "entity_id": "e-003"}, headers=headers)
    ).json()
    assert [i["entity_id"] for i in body["items"]] == ["e-003"]
    assert body["items"][0]["details"] == {"n": 3}
    assert body["next_cursor"] is None


async def test_page_size_is_capped(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF)}"}
    response = await sample_client.get("/v1/audit-events", params={"limit": MAX_PAGE_SIZE + 1}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/query/limit"


async def test_tampered_cursor_and_unknown_sort_are_400(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF)}"}
    response = await sample_client.get("/v1/audit-events", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=headers)
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]
    response = await sample_client.get("/v1/audit-events", params={"sort": "actor_password"}, headers=headers)
    assert response.status_code == 400
    assert "-occurred_at" in response.json()["allowed"]


async def test_cursor_of_one_sort_order_is_refused_for_another(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    kind = f"order-{secrets.token_hex(3)}"
    await seed(test_platform, kind, 3)
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF)}"}
    first = (
        await sample_client.get("/v1/audit-events", params={"entity_type": kind, "limit": 1}, headers=headers)
    ).json()
    response = await sample_client.get(
        "/v1/audit-events",
        params={"entity_type": kind, "limit": 1, "sort": "occurred_at", "cursor": first["next_cursor"]},
        headers=headers,
    )
    assert response.status_code == 400


async def test_audit_history_is_staff_only(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    token = test_platform.token(Role.FACTORY, organisation_id="f-1")
    response = await sample_client.get("/v1/audit-events", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
