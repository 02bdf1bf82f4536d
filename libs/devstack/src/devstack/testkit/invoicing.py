"""Builders for invoicing: finance staff headers, a price list with the published credit scale, factories in
invoicing's read model, credits bought and paid through the API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.access import as_role
from devstack.testkit.database import connect_as
from servicekit.auth.principal import Role

FINANCE_SCOPE = "invoicing:finance"


def finance(platform: TestPlatform, country: str = "KH", *, subject: str = "finance-mealea") -> dict[str, str]:
    """Finance staff of `country`: staff holding the scope `invoicing:finance`."""
    return as_role(platform, Role.STAFF, country=country, scopes=[FINANCE_SCOPE], subject=subject)


def price_list_body(country: str = "KH", *, effective_from: str = "2020-01-01", **overrides: Any) -> dict[str, Any]:
    """USD prices: the published buyer credit scale, a service package, advisory days; 5% group discount."""
    return {
        "country": country,
        "currency": "USD",
        "effective_from": effective_from,
        "items": [
            {
                "service": "buyer_credit",
                "description": "Report credit (one factory cycle)",
                "tiers": [
                    {"min_quantity": 1, "max_quantity": 9, "unit_price": "1400.00"},
                    {"min_quantity": 10, "max_quantity": 20, "unit_price": "1300.00"},
                    {"min_quantity": 21, "max_quantity": 40, "unit_price": "1200.00"},
                    {"min_quantity": 41, "max_quantity": 60, "unit_price": "1100.00"},
                    {"min_quantity": 61, "unit_price": "1000.00"},
                ],
            },
            {"service": "service_package", "description": "Core service package", "unit_price": "4200.00"},
            {"service": "advisory_day", "description": "Advisory day", "unit_price": "350.00"},
        ],
        "group_discount_bps": 500,
        "reduced_tariffs": {"small_factory": 2500},
        **overrides,
    }


async def price_list(
    client: httpx.AsyncClient, headers: dict[str, str], country: str = "KH", **overrides: Any
) -> dict[str, Any]:
    """A price list version created through the API (an existing one for the same day is kept)."""
    created = await client.post("/v1/price-lists", json=price_list_body(country, **overrides), headers=headers)
    assert created.status_code in (201, 409), created.text
    found = await client.get(f"/v1/price-lists/{country}/in-force", headers=headers)
    assert found.status_code == 200, found.text
    version: dict[str, Any] = found.json()
    return version


async def known_factory(
    platform: TestPlatform,
    *,
    country: str = "KH",
    group_name: str | None = None,
    status: str = "active",
    factory_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A factory as the registry's events would leave it in invoicing's read model (no registry needed)."""
    factory_id = factory_id or uuid.uuid4()  # the registry's id, when a test uses one factory across services
    conn = await connect_as(platform, "invoicing")
    try:
        await conn.execute(
            "INSERT INTO invoicing.factory_ref (factory_id, version, name, country, address, group_name, status)"
            " VALUES ($1, 3, $2, $3, $4, $5, $6)",
            factory_id,
            f"Factory {factory_id.hex[:6]}",
            country,
            f"Plot {factory_id.hex[:4]}, Phnom Penh",
            group_name,
            status,
        )
    finally:
        await conn.close()
    return factory_id


def billing(name: str = "Nordic Outdoor AB", country: str = "SE") -> dict[str, str]:
    return {"name": name, "country": country, "address": "Sveavägen 1, Stockholm"}


async def paid_credits(
    client: httpx.AsyncClient,
    platform: TestPlatform,
    buyer_id: uuid.UUID,
    quantity: int,
    *,
    country: str = "KH",
) -> dict[str, Any]:
    """`quantity` credits bought by the buyer and paid in full (spendable); the purchase answer."""
    as_buyer = as_role(platform, Role.BUYER, organisation_id=str(buyer_id), subject="brand-finance")
    bought = await client.post(
        "/v1/wallet/purchases", json={"quantity": quantity, "country": country, "billing": billing()}, headers=as_buyer
    )
    assert bought.status_code == 201, bought.text
    invoice = bought.json()["invoice"]
    total = f"{invoice['total_minor'] / 100:.2f}"
    paid = await client.post(
        "/v1/payments",
        json={"amount": total, "currency": "USD", "received_on": date.today().isoformat(), "invoice_id": invoice["id"]},
        headers=finance(platform, country),
    )
    assert paid.status_code == 201, paid.text
    purchase: dict[str, Any] = bought.json()
    return purchase
