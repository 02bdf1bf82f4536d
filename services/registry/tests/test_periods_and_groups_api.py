"""Over HTTP against real Postgres: re-enrolment of an exited factory in a new enrolment period, a registration
matching an exited factory, manufacturing groups and their member counts, nationalities and production stages."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import devstack.testkit.access as access
from betterwork_contracts.events.registry import FactoryStatusChanged
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.registry import enrolled_factory, new_factory, random_word

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def registry(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(test_platform.app("registry", relay_enabled=False)) as client:
        yield client


@pytest.fixture
def staff(test_platform: TestPlatform) -> dict[str, str]:
    return access.staff(test_platform, "KH", subject="ea-dara")


async def last_event(platform: TestPlatform, factory_id: str) -> tuple[str, dict[str, Any]]:
    rows = await fetch(
        platform,
        "registry",
        "SELECT type, payload FROM registry.outbox WHERE aggregateid = $1 ORDER BY seq DESC LIMIT 1",
        factory_id,
    )
    return rows[0]["type"], json.loads(rows[0]["payload"])


async def move(client: httpx.AsyncClient, headers: dict[str, str], factory_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/factories/{factory_id}/status-changes", json=body, headers=headers)


# ---- re-enrolment ---------------------------------------------------------------------------------------------


async def test_an_exited_factory_comes_back_in_a_new_enrolment_period_with_its_history_kept(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    factory = await enrolled_factory(registry, staff)
    fid = factory["id"]
    left = await move(registry, staff, fid, change="exited", reason="moved production to Vietnam")
    assert left.status_code == 201, left.text

    # Enrolling it as if it were new is refused, says how to do it instead, and changes nothing.
    again = await move(registry, staff, fid, change="enrolled", service_package="core", start_date="2028-01-01")
    assert again.status_code == 409
    assert "re-enrolment" in again.json()["detail"]
    assert (await registry.get(f"/v1/factories/{fid}", headers=staff)).json()["version"] == left.json()["version"]
    incomplete = await move(registry, staff, fid, change="re_enrolled", service_package="core")
    assert incomplete.status_code == 422

    back = await move(
        registry,
        staff,
        fid,
        change="re_enrolled",
        service_package="premium",
        start_date="2028-01-01",
        reason="new owner, back in the programme",
    )
    assert back.status_code == 201, back.text
    record = back.json()
    assert (record["status"], record["service_package"], record["start_date"]) == ("enrolled", "premium", "2028-01-01")
    first, second = record["enrolment_periods"]
    assert (first["number"], first["service_package"], first["end_reason"]) == (
        1,
        "core",
        "moved production to Vietnam",
    )
    assert first["ended_at"] is not None and first["ended_by"] == "ea-dara"
    assert (second["number"], second["service_package"], second["start_date"], second["ended_at"]) == (
        2,
        "premium",
        "2028-01-01",
        None,
    )
    got = (await registry.get(f"/v1/factories/{fid}", headers=staff)).json()
    assert got["enrolment_periods"] == record["enrolment_periods"]

    history = (await registry.get(f"/v1/factories/{fid}/status-changes", headers=staff)).json()
    assert [h["change"] for h in history] == ["enrolled", "activated", "exited", "re_enrolled"]
    assert (history[-1]["from_status"], history[-1]["reason"]) == ("exited", "new owner, back in the programme")

    # Consumers hear an enrolment (the value they know) from `exited`, marked as a re-enrolment in period 2.
    kind, payload = await last_event(test_platform, fid)
    assert kind == FactoryStatusChanged.type
    event = FactoryStatusChanged.model_validate(payload)
    assert (event.change, event.previous_status, event.status) == ("enrolled", "exited", "enrolled")
    assert (event.re_enrolment, event.enrolment_period, event.service_package) == (True, 2, "premium")

    # The second period runs like the first and ends the same way.
    assert (await move(registry, staff, fid, change="activated")).status_code == 201
    ended = await move(registry, staff, fid, change="exited", reason="closed")
    assert [p["end_reason"] for p in ended.json()["enrolment_periods"]] == ["moved production to Vietnam", "closed"]
    _, payload = await last_event(test_platform, fid)
    assert (payload["change"], payload["enrolment_period"], payload["re_enrolment"]) == ("exited", 2, False)


async def test_only_staff_of_the_country_re_enrol_and_others_are_told_nothing(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    factory = await enrolled_factory(registry, staff, active=False)
    fid = factory["id"]
    assert (await move(registry, staff, fid, change="exited", reason="closed")).status_code == 201
    body = {"change": "re_enrolled", "service_package": "core", "start_date": "2028-01-01"}
    vietnam = access.staff(test_platform, "VN")
    assert (await move(registry, vietnam, fid, **body)).status_code == 404
    own = access.factory(test_platform, fid)
    assert (await move(registry, own, fid, **body)).status_code == 403
    assert (await registry.get(f"/v1/factories/{fid}", headers=staff)).json()["status"] == "exited"


async def test_registering_an_exited_factory_again_says_it_left_and_how_to_come_back(
    registry: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    body = new_factory(f"{random_word()} Garment Co., Ltd.", exact_name=True)
    created = await registry.post("/v1/factories", json=body, headers=staff)
    assert created.status_code == 201, created.text
    fid = created.json()["factory"]["id"]
    assert created.json()["match"] is None

    live = await registry.post("/v1/factories", json=body, headers=staff)
    assert live.status_code == 200
    assert live.json()["match"] == {"status": "registered", "exited": False, "hint": None, "re_enrol": None}

    assert (await move(registry, staff, fid, change="exited", reason="not eligible")).status_code == 201
    answer = await registry.post("/v1/factories", json=body, headers=staff)
    assert answer.status_code == 200
    result = answer.json()
    assert (result["outcome"], result["factory"]["id"], result["factory"]["status"]) == ("matched", fid, "exited")
    assert result["match"]["exited"] is True
    assert "re-enrol" in result["match"]["hint"]
    assert result["match"]["re_enrol"] == f"/v1/factories/{fid}/status-changes"
    # The registration brought nothing back: the factory is still exited, and re-enrolment is the way.
    assert (await registry.get(f"/v1/factories/{fid}", headers=staff)).json()["status"] == "exited"
    back = await move(registry, staff, fid, change="re_enrolled", service_package="core", start_date="2028-01-01")
    assert back.status_code == 201 and [p["number"] for p in back.json()["enrolment_periods"]] == [1]


# ---- manufacturing groups -------------------------------------------------------------------------------------


async def group_named(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> dict[str, Any]:
    listed = await client.get("/v1/manufacturing-groups", params={"q": name}, headers=headers)
    assert listed.status_code == 200, listed.text
    [group] = [g for g in listed.json()["items"] if g["name"].casefold() == name.casefold()]
    return dict(group)


async def test_a_group_counts_its_factories_across_countries(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    name = f"{random_word()} Apparel Group"
    vietnam = access.staff(test_platform, "VN", subject="ea-lan")
    first = (await registry.post("/v1/factories", json=new_factory(group_name=name), headers=staff)).json()["factory"]
    group_id = first["group_id"]
    assert first["group_name"] == name

    # Another spelling of the name, the group's id, and a registration in another country: one group.
    second = await registry.post("/v1/factories", json=new_factory(group_name=f"  {name.upper()} "), headers=staff)
    assert second.json()["factory"]["group_id"] == group_id
    assert second.json()["factory"]["group_name"] == name  # the group's own spelling
    third = await registry.post("/v1/factories", json=new_factory(group_id=group_id), headers=staff)
    assert third.status_code == 201 and third.json()["factory"]["group_name"] == name
    abroad = await registry.post(
        "/v1/factories", json=new_factory(country="VN", group_name=name.lower()), headers=vietnam
    )
    assert abroad.status_code == 201 and abroad.json()["factory"]["group_id"] == group_id
    ungrouped = (await registry.post("/v1/factories", json=new_factory(), headers=staff)).json()["factory"]
    joined = await registry.patch(f"/v1/factories/{ungrouped['id']}", json={"group_id": group_id}, headers=staff)
    assert joined.status_code == 200 and joined.json()["group_name"] == name
    _, payload = await last_event(test_platform, ungrouped["id"])
    assert (payload["changes"]["group_id"], payload["changes"]["group_name"]) == (group_id, name)

    group = await group_named(registry, staff, name)
    assert (group["id"], group["member_count"], group["members_by_country"]) == (group_id, 5, {"KH": 4, "VN": 1})
    one = await registry.get(f"/v1/manufacturing-groups/{group_id}", headers=vietnam)
    assert one.status_code == 200 and one.json()["member_count"] == 5
    members = await registry.get("/v1/factories", params={"group_id": group_id}, headers=staff)
    assert {f["id"] for f in members.json()["items"]} == {
        first["id"],
        second.json()["factory"]["id"],
        third.json()["factory"]["id"],
        ungrouped["id"],
    }  # staff see their own country's members only

    # A factory that leaves the group or the programme no longer counts towards the discount.
    left = await registry.patch(f"/v1/factories/{first['id']}", json={"group_id": None}, headers=staff)
    assert (left.json()["group_id"], left.json()["group_name"]) == (None, None)
    await move(registry, staff, ungrouped["id"], change="exited", reason="closed")
    group = await group_named(registry, staff, name)
    assert (group["member_count"], group["exited_count"], group["members_by_country"]) == (3, 1, {"KH": 2, "VN": 1})


async def test_a_group_reference_that_names_nothing_is_refused_and_changes_nothing(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    name = f"{random_word()} Holdings"
    factory = (await registry.post("/v1/factories", json=new_factory(group_name=name), headers=staff)).json()["factory"]
    other = f"{random_word()} Holdings"
    await registry.post("/v1/factories", json=new_factory(group_name=other), headers=staff)
    other_id = (await group_named(registry, staff, other))["id"]
    refusals = [
        ({"group_id": "5d7a3c1e-0000-4000-8000-000000000000"}, "#/body/group_id"),
        ({"group_id": other_id, "group_name": name}, "#/body/group_name"),
        ({"group_id": None, "group_name": name}, "#/body/group_id"),
        ({"group_name": "---"}, "#/body/group_name"),
    ]
    for body, pointer in refusals:
        refused = await registry.patch(f"/v1/factories/{factory['id']}", json=body, headers=staff)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert [e["pointer"] for e in refused.json()["errors"]] == [pointer]
    unchanged = (await registry.get(f"/v1/factories/{factory['id']}", headers=staff)).json()
    assert (unchanged["version"], unchanged["group_name"]) == (1, name)
    before = await fetch(test_platform, "registry", "SELECT count(*) AS n FROM registry.factory")
    refused = await registry.post(
        "/v1/factories", json=new_factory(group_id="5d7a3c1e-0000-4000-8000-000000000000"), headers=staff
    )
    assert refused.status_code == 422
    assert await fetch(test_platform, "registry", "SELECT count(*) AS n FROM registry.factory") == before


async def test_two_registrations_naming_one_new_group_at_once_make_one_group(
    registry: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    name = f"{random_word()} Textile Group"
    answers = await asyncio.gather(
        *(
            registry.post("/v1/factories", json=new_factory(group_name=spelling), headers=staff)
            for spelling in (
                name,
                name.upper(),
                name.lower(),
            )
        )
    )
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert len({a.json()["factory"]["group_id"] for a in answers}) == 1
    assert (await group_named(registry, staff, name))["member_count"] == 3


async def test_groups_are_created_listed_and_read_by_staff_only(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    name = f"{random_word()} Knitwear Group"
    created = await registry.post("/v1/manufacturing-groups", json={"name": name}, headers=staff)
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["name"], group["member_count"], group["members_by_country"]) == (name, 0, {})
    again = await registry.post("/v1/manufacturing-groups", json={"name": f"{name.lower()}!"}, headers=staff)
    assert again.status_code == 409 and again.json()["group_id"] == group["id"]
    joined = await registry.post("/v1/factories", json=new_factory(group_id=group["id"]), headers=staff)
    assert joined.status_code == 201
    assert (await registry.get(f"/v1/manufacturing-groups/{group['id']}", headers=staff)).json()["member_count"] == 1
    missing = await registry.get("/v1/manufacturing-groups/5d7a3c1e-0000-4000-8000-000000000000", headers=staff)
    assert missing.status_code == 404
    buyer = access.buyer(test_platform, uuid.uuid4())
    for outsider in (buyer, access.factory(test_platform, joined.json()["factory"]["id"])):
        assert (await registry.get("/v1/manufacturing-groups", headers=outsider)).status_code == 403
        assert (await registry.get(f"/v1/manufacturing-groups/{group['id']}", headers=outsider)).status_code == 403
    # Buyers and service clients read the directory, which does not show groups.
    basic = await registry.get(f"/v1/factories/{joined.json()['factory']['id']}", headers=buyer)
    assert basic.status_code == 200 and "group_id" not in basic.json()


# ---- workforce nationalities and production stages -----------------------------------------------------------


async def test_nationalities_and_stages_are_recorded_checked_and_announced(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    body = new_factory(
        workforce={"total": 800, "women": 600, "men": 200, "nationalities": {"KH": 780, "vn": 15, "MM": 5}},
        production_stages=["printing", "cut_make_trim"],
    )
    created = await registry.post("/v1/factories", json=body, headers=staff)
    assert created.status_code == 201, created.text
    factory = created.json()["factory"]
    assert factory["workforce"]["nationalities"] == {"KH": 780, "MM": 5, "VN": 15}
    assert factory["production_stages"] == ["printing", "cut_make_trim"]
    _, registered = await last_event(test_platform, factory["id"])
    assert registered["profile"]["workers_nationalities"] == {"KH": 780, "MM": 5, "VN": 15}
    assert registered["profile"]["production_stages"] == ["printing", "cut_make_trim"]

    bad = [
        ({"workforce": {"total": 800, "nationalities": {"KH": 900}}}, "#/body/workforce", "exceed the total"),
        ({"workforce": {"nationalities": {"XX": 1}}}, "#/body/workforce", "ISO 3166-1"),
        ({"workforce": {"nationalities": {"KH": -1}}}, "#/body/workforce/nationalities/KH", "greater than"),
        ({"production_stages": ["mining"]}, "#/body/production_stages/0", "Input should be"),
    ]
    for change, pointer, words in bad:
        refused = await registry.patch(f"/v1/factories/{factory['id']}", json=change, headers=staff)
        assert refused.status_code == 422, (change, refused.text)
        assert any(e["pointer"] == pointer and words in e["detail"] for e in refused.json()["errors"]), refused.text
    assert (await registry.get(f"/v1/factories/{factory['id']}", headers=staff)).json()["version"] == 1

    patched = await registry.patch(
        f"/v1/factories/{factory['id']}",
        json={"workforce": {"nationalities": {"KH": 790, "VN": 10}}, "production_stages": ["washing"]},
        headers=staff,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["workforce"] == {
        "total": 800,
        "women": 600,
        "men": 200,
        "migrants": None,
        "nationalities": {"KH": 790, "VN": 10},
    }
    _, updated = await last_event(test_platform, factory["id"])
    assert updated["changes"]["workers_nationalities"] == {"KH": 790, "VN": 10}
    assert updated["changes"]["production_stages"] == ["washing"]
    cleared = await registry.patch(f"/v1/factories/{factory['id']}", json={"production_stages": None}, headers=staff)
    assert cleared.json()["production_stages"] == []
    _, emptied = await last_event(test_platform, factory["id"])
    assert emptied["changes"]["cleared"] == ["production_stages"]
