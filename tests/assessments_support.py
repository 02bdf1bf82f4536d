"""Helpers for the assessments tests: factories in the local read model, a scheduled assessment, the tool."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from devstack.pytest_plugin import TestPlatform
from servicekit.auth import Role
from tests.events.support import connect_as, fetch

DATA = Path(__file__).resolve().parents[1] / "services" / "assessments" / "src" / "assessments" / "data"


async def status_in_assessments(platform: TestPlatform, factory_id: uuid.UUID) -> str | None:
    """The factory's enrolment status in assessments' read model (None until registry's event arrives)."""
    rows = await fetch(
        platform, "assessments", "SELECT status FROM assessments.factory_ref WHERE factory_id = $1", factory_id
    )
    return rows[0]["status"] if rows else None


def kh_tool() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DATA / "tool_kh_garment.yaml").read_text(encoding="utf-8"))
    return document


def staff(platform: TestPlatform, country: str = "KH") -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.token(Role.STAFF, country=country, subject='ea-dara')}"}


async def known_factory(
    platform: TestPlatform, *, status: str = "active", country: str = "KH", slcp_facility_id: str | None = None
) -> uuid.UUID:
    """A factory as the registry's events left it in this service's read model."""
    factory_id = uuid.uuid4()
    conn = await connect_as(platform, "assessments")
    try:
        await conn.execute(
            "INSERT INTO assessments.factory_ref"
            " (factory_id, name, country, version, updated_at, status, slcp_facility_id)"
            " VALUES ($1, $2, $3, 3, $4, $5, $6)",
            factory_id,
            f"Factory {factory_id.hex[:6]}",
            country,
            datetime.now(UTC),
            status,
            slcp_facility_id,
        )
    finally:
        await conn.close()
    return factory_id


async def schedule(
    client: httpx.AsyncClient, headers: dict[str, str], factory_id: uuid.UUID, **fields: Any
) -> dict[str, Any]:
    body = {
        "factory_id": str(factory_id),
        "assessment_type": "initial",
        "start_date": "2026-11-02",
        "end_date": "2026-11-03",
        **fields,
    }
    response = await client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assessment: dict[str, Any] = response.json()
    return assessment


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], assessment_id: str, to: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/assessments/{assessment_id}/transitions", json={"to": to, **body}, headers=headers)


def all_compliant(**overrides: str) -> list[dict[str, Any]]:
    """A finding for every question of the shipped tool: compliant unless overridden {code: result}."""
    return [
        {"question_code": q["code"], "result": overrides.get(q["code"], "compliant")} for q in kh_tool()["questions"]
    ]
