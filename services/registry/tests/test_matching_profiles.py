"""Registration speed without a change in what matches (issue 13): each factory keeps its matching profile (names
and address cleaned once, when it is written), through HTTP against real Postgres."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import devstack.testkit.access as access
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.database import fetch
from devstack.testkit.registry import random_word
from registry.domain.matching import PROFILE_VERSION
from servicekit import migrations

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def registry(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(test_platform.app("registry", relay_enabled=False)) as client:
        yield client


@pytest.fixture
def staff(test_platform: TestPlatform) -> dict[str, str]:
    headers: dict[str, str] = access.staff(test_platform, "KH", subject="ea-profiles")
    return headers


async def register(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/v1/factories", json={"country": "KH", **body}, headers=headers)


async def registered_before(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str], revision: str, **body: Any
) -> str:
    """The id of a factory registered now, with the registry's schema then taken down to `revision`."""
    first = await register(registry, staff, **body)
    assert first.status_code == 201, first.text
    migrations.downgrade(test_platform.services["registry"], test_platform.settings("registry"), revision)
    return str(first.json()["factory"]["id"])


def upgrade(test_platform: TestPlatform) -> None:
    migrations.upgrade(test_platform.services["registry"], test_platform.settings("registry"))


def site() -> str:
    return f"Plot {secrets.randbelow(9000) + 100}, Street {secrets.randbelow(900) + 10}, Khan Dangkao, Phnom Penh"


async def test_a_new_alias_links_the_next_registration_at_once(
    registry: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    """The stored profile follows the record: an alias given by a change is what the next registration compares
    (a profile kept from before the change would know only the old name, and the registration would create)."""
    address = site()
    first = await register(registry, staff, name=f"{random_word(7)} {random_word(6)} Knit", address=address)
    assert first.status_code == 201, first.text
    factory_id = first.json()["factory"]["id"]
    alias = f"{random_word(8)} {random_word(7)} Knit"
    changed = await registry.patch(f"/v1/factories/{factory_id}", json={"aliases": [alias]}, headers=staff)
    assert changed.status_code == 200, changed.text
    after = await register(registry, staff, name=f"{alias.upper()} COMPANY LIMITED", address=address.upper())
    assert (after.status_code, after.json()["factory"]["id"]) == (200, factory_id), after.text
    assert after.json()["matched_on"] == "name_address"


async def test_factories_written_before_profiles_get_theirs_and_still_match(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    """Migration 0005 writes the profile of every factory already there; a profile written by other rules (or
    none) is worked out again rather than trusted, so the factory still matches."""
    words, address = f"{random_word(7)} {random_word(6)}", site()
    factory_id = await registered_before(registry, test_platform, staff, "0004", name=f"{words} Denim", address=address)
    upgrade(test_platform)
    rows = await fetch(
        test_platform, "registry", "SELECT match_profile->>'v' AS v FROM registry.factory WHERE id = $1", factory_id
    )
    assert [r["v"] for r in rows] == [str(PROFILE_VERSION)]

    one, two = words.split()
    typo = one[:-1] + ("x" if one[-1] != "x" else "z")
    again = await register(registry, staff, name=f"{typo} {two} Denim Co., Ltd", address=address)
    assert (again.status_code, again.json()["factory"]["id"]) == (200, factory_id), again.text

    await fetch(
        test_platform,
        "registry",
        """UPDATE registry.factory SET match_profile = jsonb_set(match_profile, '{v}', '0')
           || '{"names": [["someone else", "someone else", [], [], false]]}' WHERE id = $1""",
        factory_id,
    )
    third = await register(registry, staff, name=f"{two} {one} Denim", address=address)
    assert (third.status_code, third.json()["factory"]["id"]) == (200, factory_id), third.text


async def test_migration_0008_files_unit_words_as_part_of_the_number(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    """A factory filed before 0008 kept "unit" in its brand: its profile, search text and keys. The migration files
    it anew, so "X Unit 2" links to it as "X Factory 2" does, and another company's "Unit 2" is another factory."""
    words, address = f"{random_word(7)} {random_word(6)}", site()
    factory_id = await registered_before(
        registry, test_platform, staff, "0007", name=f"{words} Sweater Unit 2 Co., Ltd.", address=address
    )
    await fetch(  # as the rules before 0008 filed it
        test_platform,
        "registry",
        """UPDATE registry.factory SET search_text = lower($2),
               match_profile = jsonb_build_object('v', 1, 'address', match_profile->'address', 'names',
                   jsonb_build_array(jsonb_build_array(lower($2), lower($2) || ' unit', '["sweater"]'::jsonb,
                                                       '["2"]'::jsonb, false)))
           WHERE id = $1""",
        factory_id,
        f"{words} sweater unit 2",
    )
    await fetch(
        test_platform,
        "registry",
        "INSERT INTO registry.factory_key (factory_id, key, country) VALUES ($1, 't:unt', 'KH')",
        factory_id,
    )
    upgrade(test_platform)

    rows = await fetch(
        test_platform,
        "registry",
        """SELECT f.search_text, f.match_profile->>'v' AS v, f.match_profile->'names'->0->>1 AS brand,
                  array(SELECT key FROM registry.factory_key k WHERE k.factory_id = f.id ORDER BY key) AS keys
           FROM registry.factory f WHERE f.id = $1""",
        factory_id,
    )
    assert rows[0]["v"] == str(PROFILE_VERSION) and rows[0]["brand"] == words.lower()
    assert "unit" not in rows[0]["search_text"] and "t:unt" not in rows[0]["keys"]

    same = await register(registry, staff, name=f"{words} Sweater Factory 2", address=address)
    assert (same.status_code, same.json()["factory"]["id"]) == (200, factory_id), same.text
    other = await register(
        registry, staff, name=f"{random_word(8)} {random_word(5)} Sweater Unit 2 Co., Ltd.", address=address
    )
    assert other.status_code == 201, other.text


async def test_migration_0009_files_streets_zones_and_ordinals(
    registry: httpx.AsyncClient, test_platform: TestPlatform, staff: dict[str, str]
) -> None:
    """Filed before 0009, a profile knew no zone and the address key no ordinal. The migration files the factory
    anew: the same company in another zone of the district goes to a person who is told why, and "3rd" finds
    "Third" under the same key."""
    words, plot = f"{random_word(7)} {random_word(6)}", secrets.randbelow(9000) + 100
    address = f"Plot {plot}, Third Industrial Zone, Khan Dangkao, Phnom Penh"
    factory_id = await registered_before(registry, test_platform, staff, "0008", name=f"{words} Knit", address=address)
    await fetch(  # as the rules before 0009 filed it
        test_platform,
        "registry",
        """UPDATE registry.factory SET match_profile = (match_profile - 'streets' - 'zones' - 'localities' - 'read')
               || '{"v": 2}'::jsonb WHERE id = $1""",
        factory_id,
    )
    await fetch(test_platform, "registry", "DELETE FROM registry.factory_key WHERE factory_id = $1", factory_id)
    await fetch(
        test_platform,
        "registry",
        "INSERT INTO registry.factory_key (factory_id, key, country) VALUES ($1, $2, 'KH')",
        factory_id,
        f"n:{plot}",
    )
    upgrade(test_platform)

    rows = await fetch(
        test_platform,
        "registry",
        """SELECT f.match_profile->>'v' AS v, f.match_profile->'zones' AS zones,
                  array(SELECT key FROM registry.factory_key k WHERE k.factory_id = f.id) AS keys
           FROM registry.factory f WHERE f.id = $1""",
        factory_id,
    )
    assert rows[0]["v"] == str(PROFILE_VERSION) and json.loads(rows[0]["zones"]) == [["", ["3"]]]
    assert f"n:3-{plot}" in rows[0]["keys"] and f"n:{plot}" not in rows[0]["keys"]

    elsewhere = await register(
        registry, staff, name=f"{words} Knit", address=f"Plot {plot}, Sihanoukville SEZ, Khan Dangkao, Phnom Penh"
    )
    assert elsewhere.status_code == 202, elsewhere.text
    queue = await registry.get("/v1/match-reviews", params={"status": "open", "limit": 200}, headers=staff)
    item = next(i for i in queue.json()["items"] if i["id"] == elsewhere.json()["review_id"])
    assert item["candidate_id"] == factory_id
    assert "zones differ: sihanoukville / 3" in item["explanation"]["notes"], item["explanation"]
    assert "zone" in item["explanation"]["differed"] and "name" in item["explanation"]["agreed"], item["explanation"]

    same = await register(
        registry, staff, name=f"{words.upper()} KNIT CO., LTD", address=f"P-{plot}, 3rd Industrial Zone, Phnom Penh"
    )
    assert (same.status_code, same.json()["factory"]["id"]) == (200, factory_id), same.text
