"""Cursor pages, filters and sorting, through the audit-history endpoint every service has."""

from __future__ import annotations

import secrets

import httpx

from devstack.pytest_plugin import TestPlatform
from servicekit.audit import record_audit
from servicekit.auth import Principal, Role
from servicekit.database import Database
from servicekit.pagination import MAX_PAGE_SIZE

ACTOR = Principal(subject="staff-7", roles=frozenset({Role.STAFF}), country="KH")


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
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
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
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
    body = (
        await sample_client.get("/v1/audit-events", params={"entity_type": kind, "entity_id": "e-003"}, headers=headers)
    ).json()
    assert [i["entity_id"] for i in body["items"]] == ["e-003"]
    assert body["items"][0]["details"] == {"n": 3}
    assert body["next_cursor"] is None


async def test_page_size_is_capped(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
    response = await sample_client.get("/v1/audit-events", params={"limit": MAX_PAGE_SIZE + 1}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/query/limit"


async def test_tampered_cursor_and_unknown_sort_are_400(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
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
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
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


async def test_audit_history_is_read_by_staff_of_the_records_country_only(
    sample_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    kind = f"country-{secrets.token_hex(3)}"
    await seed(test_platform, kind, 2)  # by KH staff: rows of KH
    db = Database(test_platform.settings("registry").service_database_url(), schema="registry", pool_size=1)
    try:
        async with db.unit_of_work() as uow:
            buyer = Principal(subject="buyer-1", roles=frozenset({Role.BUYER}))
            await record_audit(
                uow.session, schema="registry", actor=buyer, action="noted", entity_type=kind, entity_id="vn-1",
                country="VN",
            )  # fmt: skip
            await record_audit(
                uow.session, schema="registry", actor=buyer, action="noted", entity_type=kind, entity_id="none-1"
            )
            await uow.commit()
    finally:
        await db.dispose()

    async def ids(**claims: str) -> list[str]:
        headers = {"Authorization": f"Bearer {test_platform.token(*claims.pop('roles').split(), **claims)}"}
        answer = await sample_client.get("/v1/audit-events", params={"entity_type": kind}, headers=headers)
        assert answer.status_code == 200, answer.text
        return sorted(i["entity_id"] for i in answer.json()["items"])

    assert await ids(roles="staff", country="KH") == ["e-000", "e-001"]
    assert await ids(roles="staff", country="VN") == ["vn-1"]
    assert await ids(roles="staff") == []  # staff without a country read nothing
    assert await ids(roles="admin") == ["e-000", "e-001", "none-1", "vn-1"]
    headers = {"Authorization": f"Bearer {test_platform.token(Role.ADMIN)}"}
    items = (await sample_client.get("/v1/audit-events", params={"entity_type": kind}, headers=headers)).json()
    by_id = {i["entity_id"]: i for i in items["items"]}
    assert (by_id["vn-1"]["country"], by_id["e-001"]["country"], by_id["none-1"]["country"]) == ("VN", "KH", None)
    assert by_id["e-001"]["details"] == {"n": 1}


async def test_a_number_is_not_a_date(sample_client: httpx.AsyncClient, test_platform: TestPlatform) -> None:
    headers = {"Authorization": f"Bearer {test_platform.token(Role.STAFF, country='KH')}"}
    for since in ("0.5", "1700000000", "-3"):
        answer = await sample_client.get("/v1/audit-events", params={"since": since}, headers=headers)
        assert answer.status_code == 422, (since, answer.text)
    fine = await sample_client.get("/v1/audit-events", params={"since": "2027-01-31T08:00:00Z"}, headers=headers)
    assert fine.status_code == 200
