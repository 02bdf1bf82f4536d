"""Builders for partnerships: factories in its read model, buyers, and a buyer linked to a factory with the
factory's consent and an entitlement, made through the partnerships API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.access import factory, staff
from devstack.testkit.database import connect_as


async def known_factory(
    platform: TestPlatform,
    country: str = "KH",
    *,
    status: str = "active",
    factory_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A factory as the registry's events would leave it in partnerships' read model (no registry needed)."""
    factory_id = factory_id or uuid.uuid4()  # the registry's id, when a test uses one factory across services
    conn = await connect_as(platform, "partnerships")
    try:
        await conn.execute(
            "INSERT INTO partnerships.factory_ref (factory_id, name, country, status, version, updated_at)"
            " VALUES ($1, $2, $3, $4, 3, $5)",
            factory_id,
            f"Factory {factory_id.hex[:6]}",
            country,
            status,
            datetime.now(UTC),
        )
    finally:
        await conn.close()
    return factory_id


async def registered_buyer(
    client: httpx.AsyncClient, platform: TestPlatform, *, tier: str = "partner", **fields: Any
) -> dict[str, Any]:
    """A new buyer registered by staff through the API; its record."""
    body = {"name": f"Brand {uuid.uuid4().hex[:6]}", "headquarters_country": "SE", "tier": tier, **fields}
    response = await client.post("/v1/buyers", json=body, headers=staff(platform))
    assert response.status_code == 201, response.text
    buyer: dict[str, Any] = response.json()
    return buyer


@dataclass(frozen=True)
class LinkedBuyer:
    buyer_id: uuid.UUID
    factory_id: uuid.UUID
    link: dict[str, Any]
    consent: dict[str, Any]
    entitlement: dict[str, Any] | None


async def linked_buyer(
    client: httpx.AsyncClient,
    platform: TestPlatform,
    factory_id: uuid.UUID | str,
    *,
    country: str = "KH",
    scopes: tuple[str, ...] = ("assessment_reports", "zero_tolerance_alerts"),
    cycle: int | None = 1,
    buyer_id: uuid.UUID | str | None = None,
) -> LinkedBuyer:
    """A buyer with a confirmed sourcing link to the factory (declared by staff of `country`), the factory's
    consent for `scopes`, and an entitlement to `cycle` (none if None), all through the partnerships API.

    The factory must be in partnerships' read model already (`known_factory`, or the registry's events)."""
    if buyer_id is None:
        buyer_id = (await registered_buyer(client, platform))["id"]
    link = await client.post(
        "/v1/sourcing-links",
        json={"buyer_id": str(buyer_id), "factory_id": str(factory_id)},
        headers=staff(platform, country),
    )
    assert link.status_code == 201 and link.json()["status"] == "confirmed", link.text
    consent = await client.post(
        f"/v1/factories/{factory_id}/consents",
        json={"buyer_id": str(buyer_id), "scopes": list(scopes)},
        headers=factory(platform, factory_id, country),
    )
    assert consent.status_code == 201, consent.text
    entitlement = None
    if cycle is not None:
        granted = await client.post(
            "/v1/entitlements",
            json={"buyer_id": str(buyer_id), "factory_id": str(factory_id), "cycle": cycle},
            headers=staff(platform, country),
        )
        assert granted.status_code == 201, granted.text
        entitlement = granted.json()
    return LinkedBuyer(uuid.UUID(str(buyer_id)), uuid.UUID(str(factory_id)), link.json(), consent.json(), entitlement)
