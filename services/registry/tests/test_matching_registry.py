"""Matching through the registry's API against real Postgres (issue 13): the candidate search finds misspelt and
reordered names, siblings are created, exact keys count within a country, and the reviewer sees why."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import devstack.testkit.access as access
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.registry import random_word
from registry.adapters import repository
from registry.domain.factory import os_id_check_character
from servicekit import migrations
from servicekit.database import Database

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def registry(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(test_platform.app("registry", relay_enabled=False)) as client:
        yield client


@pytest.fixture
def staff(test_platform: TestPlatform) -> dict[str, str]:
    headers: dict[str, str] = access.staff(test_platform, "KH", subject="ea-matching")
    return headers


async def register(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/v1/factories", json={"country": "KH", **body}, headers=headers)


def site() -> str:
    return f"Plot {secrets.randbelow(9000) + 100}, Street {secrets.randbelow(900) + 10}, Khan Por Senchey, Phnom Penh"


def brand() -> str:
    """Two made-up words (letters no other test uses), as a factory's brand."""
    return f"{random_word(7)} {random_word(6)}"


async def test_a_misspelt_reordered_name_finds_the_factory_registered_before(
    registry: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    words, address = brand(), site()
    first = await register(registry, staff, name=f"{words} Knit Co., Ltd", address=address)
    assert first.status_code == 201, first.text
    one, two = words.split()
    typo = one[:2] + one[3] + one[2] + one[4:]  # two letters swapped
    again = await register(
        registry, staff, name=f"{two.upper()} {typo.upper()} KNIT COMPANY LIMITED", address=address.replace(",", "")
    )
    assert again.status_code == 200, again.text
    assert again.json()["factory"]["id"] == first.json()["factory"]["id"]


async def test_siblings_at_one_site_are_each_created(registry: httpx.AsyncClient, staff: dict[str, str]) -> None:
    words, address = brand(), site()
    names = [f"{words} Knit Factory 1", f"{words} Knit Factory 2", f"{words} Denim Factory 1"]
    ids = set()
    for name in names:
        answer = await register(registry, staff, name=name, address=address)
        assert answer.status_code == 201, (name, answer.text)
        ids.add(answer.json()["factory"]["id"])
    assert len(ids) == 3


async def test_a_name_in_khmer_finds_the_factory_by_its_local_name(
    registry: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    address, khmer = site(), "ក្រុមហ៊ុន " + "".join(secrets.choice("កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវសហឡអ") for _ in range(6))
    first = await register(registry, staff, name=f"{brand()} Garment", local_name=khmer, address=address)
    assert first.status_code == 201, first.text
    again = await register(registry, staff, name=khmer.removeprefix("ក្រុមហ៊ុន "), address=address)
    assert again.status_code == 200, again.text
    assert again.json()["factory"]["id"] == first.json()["factory"]["id"]
    # and search `q` works in the script too
    found = await registry.get("/v1/factories", params={"q": khmer.removeprefix("ក្រុមហ៊ុន ")}, headers=staff)
    assert found.status_code == 200, found.text
    assert [f["id"] for f in found.json()["items"]] == [first.json()["factory"]["id"]]


def os_id(country: str) -> str:
    body = f"{country}2026{secrets.randbelow(1000):03d}" + "".join(
        secrets.choice("ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(5)
    )
    return body + os_id_check_character(body)


async def test_exact_keys_count_within_the_country_only(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    vietnam = access.staff(test_platform, "VN", subject="ea-matching-vn")
    shared_os_id, customs, national = os_id("KH"), f"CUS-{random_word(8)}", f"REG-{random_word(8)}"
    ids = {"os_id": shared_os_id, "customs_list_entry": customs, "national_registration": national}
    first = await register(registry, staff, name=f"{brand()} Apparel", address=site(), external_ids=ids)
    assert first.status_code == 201, first.text

    # The customs list entry is an exact key: another name and address, same country, same factory.
    by_customs = await register(
        registry, staff, name=f"{brand()} Textile", address=site(), external_ids={"customs_list_entry": customs}
    )
    assert by_customs.status_code == 200, by_customs.text
    assert (by_customs.json()["matched_on"], by_customs.json()["factory"]["id"]) == (
        "customs_list_entry",
        first.json()["factory"]["id"],
    )

    # In another country the same customs entry or national registration says nothing: a new factory.
    elsewhere = {"customs_list_entry": customs, "national_registration": national}
    other = await register(
        registry, vietnam, country="VN", name=f"{brand()} Apparel", address="Lot 4, Dong Nai", external_ids=elsewhere
    )
    assert other.status_code == 201, other.text

    # An OS ID is one facility's worldwide: held in Cambodia, it is refused in Vietnam, never linked across.
    taken = await register(
        registry,
        vietnam,
        country="VN",
        name=f"{brand()} Apparel",
        address="Lot 5, Dong Nai",
        external_ids={"os_id": shared_os_id},
    )
    assert taken.status_code == 409, taken.text
    assert taken.json()["code"] == "os_id_taken"


async def test_the_reviewer_sees_why_the_score(registry: httpx.AsyncClient, staff: dict[str, str]) -> None:
    words, address = brand(), site()
    original = await register(registry, staff, name=f"{words} Apparel", address=address)
    assert original.status_code == 201, original.text
    unsure = await register(registry, staff, name=f"{words} Sokha Rithy Apparel", address=address)
    assert unsure.status_code == 202, unsure.text
    item = await registry.get(f"/v1/match-reviews/{unsure.json()['review_id']}", headers=staff)
    assert item.status_code == 200, item.text
    explanation = item.json()["explanation"]
    assert explanation["address"] == 100.0
    assert 0 < explanation["name"] < 100
    assert explanation["name_compared"] == f"{words} apparel".lower()
    assert explanation["conflict"] is False


async def test_the_migration_files_factories_registered_before_it(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    """Before 0004 a registered factory had no search keys and a Khmer name folded to nothing: the migration files
    every live factory anew, and the factory is found by a misspelling and by its name in Khmer."""
    khmer = "".join(secrets.choice("កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវសហឡអ") for _ in range(7))
    words, address = brand(), site()
    first = await register(registry, staff, name=f"{words} Woven", local_name=khmer, address=address)
    assert first.status_code == 201, first.text
    factory_id = first.json()["factory"]["id"]
    definition, settings = test_platform.services["registry"], test_platform.settings("registry")
    migrations.downgrade(definition, settings, "0003")
    await fetch(test_platform, "registry", "DELETE FROM registry.factory_key WHERE factory_id = $1", factory_id)
    await fetch(
        test_platform,
        "registry",
        "DELETE FROM registry.factory_name WHERE factory_id = $1 AND name_key <> $2",
        factory_id,
        f"{words} woven".lower(),
    )
    migrations.upgrade(definition, settings)

    one, two = words.split()
    typo = one[:-1] + ("x" if one[-1] != "x" else "z")
    again = await register(registry, staff, name=f"{typo} {two} Woven Co., Ltd", address=address)
    assert (again.status_code, again.json()["factory"]["id"]) == (200, factory_id), again.text
    by_script = await register(registry, staff, name=khmer, address=address)
    assert (by_script.status_code, by_script.json()["factory"]["id"]) == (200, factory_id), by_script.text


async def test_a_list_keeps_exact_keys_within_each_country(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    """In a list, too: the customs entry links within the country, an OS ID seen in another country (in the
    registry or earlier in the same list) rejects the row instead of linking it across."""
    admin = access.admin(test_platform)
    customs = f"CUS-{random_word(8)}"
    known = await register(
        registry, staff, name=f"{brand()} Apparel", address=site(), external_ids={"customs_list_entry": customs}
    )
    assert known.status_code == 201, known.text
    fresh_os_id = os_id("KH")
    rows = [
        f"KH,{brand()} Textile,{site().replace(',', '')},{customs},",
        f"KH,{brand()} Knit,{site().replace(',', '')},,{fresh_os_id}",
        f"VN,{brand()} Knit,Lot 9 Dong Nai,,{fresh_os_id}",
        f"VN,{brand()} Denim,Lot 8 Dong Nai,{customs},",
    ]
    body = ("country,name,address,customs_list_entry,os_id\n" + "\n".join(rows) + "\n").encode()
    upload = await registry.post(
        "/v1/factory-imports", content=body, headers={**admin, "Content-Type": "text/csv"}, params={"filename": "x.csv"}
    )
    assert upload.status_code == 202, upload.text
    job_id = upload.json()["id"]
    for _ in range(300):
        job = (await registry.get(f"/v1/factory-imports/{job_id}", headers=admin)).json()
        if job["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    results = await registry.get(f"/v1/factory-imports/{job_id}/results", headers=admin)
    outcome = {int(r["line"]): r for r in csv.DictReader(io.StringIO(results.text))}
    assert (outcome[2]["outcome"], outcome[2]["factory_id"]) == ("matched", known.json()["factory"]["id"])
    assert outcome[3]["outcome"] == "created"
    assert outcome[4]["outcome"] == "rejected" and "another country" in outcome[4]["reason"]
    assert outcome[5]["outcome"] == "created"  # the Cambodian customs entry says nothing in Vietnam


async def test_a_key_filed_under_the_cap_of_factories_stops_finding_them(
    test_platform: TestPlatform, registry: httpx.AsyncClient, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key as common as the cap tells nothing: the search skips it (here the cap is 3 instead of 300)."""
    monkeypatch.setattr(repository, "KEY_CAP", 3)
    shared = random_word(12)  # the whole brand: each name below is filed under the same keys (unit numbers give none)
    query = f"{shared} Garment Factory 9"
    database = Database(test_platform.settings("registry").service_database_url(), schema="registry", pool_size=1)

    async def found() -> set[str]:
        async with database.unit_of_work() as uow:
            hits = await repository.candidates(uow.session, country="KH", name=query, limit=20)
        return {c.id for c in hits}

    try:
        ids = []
        for unit in (1, 2):
            answer = await register(registry, staff, name=f"{shared} Garment Factory {unit}", address=site())
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["factory"]["id"])
        assert set(ids) <= await found()  # two factories share the word's keys: still a lead

        third = await register(registry, staff, name=f"{shared} Garment Factory 3", address=site())
        assert third.status_code == 201, third.text
        assert not (await found()) & {*ids, third.json()["factory"]["id"]}  # three: the cap, searched by no more
    finally:
        await database.dispose()
