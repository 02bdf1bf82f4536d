"""Builders for assessments: the shipped tool, factories in its read model, assessments moved through the API."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import httpx
import yaml

from devstack.pytest_plugin import TestPlatform
from devstack.testkit.access import team_leader
from devstack.testkit.database import connect_as, fetch


def kh_tool() -> dict[str, Any]:
    """The tool version assessments ships for Cambodia's garment sector, as a document."""
    text = files("assessments").joinpath("data", "tool_kh_garment.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


async def status_in_assessments(platform: TestPlatform, factory_id: uuid.UUID) -> str | None:
    """The factory's enrolment status in assessments' read model (None until registry's event arrives)."""
    rows = await fetch(
        platform, "assessments", "SELECT status FROM assessments.factory_ref WHERE factory_id = $1", factory_id
    )
    return rows[0]["status"] if rows else None


async def factory_ref(platform: TestPlatform, factory_id: uuid.UUID) -> dict[str, Any] | None:
    """The whole row assessments keeps of the factory (None until registry's event arrives)."""
    rows = await fetch(platform, "assessments", "SELECT * FROM factory_ref WHERE factory_id = $1", factory_id)
    return dict(rows[0]) if rows else None


async def applied_versions(platform: TestPlatform, factory_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[int]]:
    """For each factory, the versions the assessments read model applied, in the order it applied them."""
    rows = await fetch(
        platform,
        "assessments",
        "SELECT factory_id, version FROM factory_ref_change WHERE factory_id = ANY($1::uuid[]) ORDER BY id",
        factory_ids,
    )
    applied: dict[uuid.UUID, list[int]] = {f: [] for f in factory_ids}
    for row in rows:
        applied[row["factory_id"]].append(row["version"])
    return applied


async def known_factory(
    platform: TestPlatform,
    *,
    status: str = "active",
    country: str = "KH",
    slcp_facility_id: str | None = None,
    factory_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A factory as the registry's events would leave it in assessments' read model (no registry needed)."""
    factory_id = factory_id or uuid.uuid4()  # the registry's id, when a test uses one factory across services
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


def report_access(factory_id: uuid.UUID, buyer_id: uuid.UUID, cycle: int, *, granted: bool = True) -> Any:
    """partnerships' `report_access.granted` (or `revoked`) for a buyer and a factory's cycle: the decision
    assessments serves assessment reports by (progress reports have their own: `testkit.advisory.access`)."""
    from betterwork_contracts.events.partnerships import ReportAccessGranted, ReportAccessRevoked

    kind = ReportAccessGranted if granted else ReportAccessRevoked
    return kind(factory_id=factory_id, buyer_id=buyer_id, cycle=cycle, decided_at=datetime.now(UTC))


async def schedule(
    client: httpx.AsyncClient, headers: dict[str, str], factory_id: uuid.UUID, **fields: Any
) -> dict[str, Any]:
    """A scheduled assessment of `factory_id` (initial, two days in November 2026 unless `fields` say otherwise)."""
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
    """Ask for a lifecycle transition; the answer is the test's to check."""
    return await client.post(f"/v1/assessments/{assessment_id}/transitions", json={"to": to, **body}, headers=headers)


def all_compliant(**overrides: str) -> list[dict[str, Any]]:
    """A finding for every question of the shipped tool: compliant unless overridden {code: result}."""
    return [
        {"question_code": q["code"], "result": overrides.get(q["code"], "compliant")} for q in kh_tool()["questions"]
    ]


async def release(
    client: httpx.AsyncClient, headers: dict[str, str], leader: dict[str, str], assessment_id: str
) -> None:
    """Move an assessment in progress, every finding recorded, on to released: the team (`headers`) submits the
    draft, a team leader who was not on the team (`leader`, e.g. `access.team_leader`) checks and releases it."""
    for to, who in (("draft_submitted", headers), ("quality_checked", leader), ("released", leader)):
        moved = await move(client, who, assessment_id, to)
        assert moved.status_code == 200, moved.text


async def finalise(
    client: httpx.AsyncClient, headers: dict[str, str], factory_headers: dict[str, str], assessment_id: str
) -> dict[str, Any]:
    """Move a released assessment through the factory's comment period to finalised: staff (`headers`) open the
    period, the factory (`factory_headers`, e.g. `access.factory`) waives the rest of it."""
    opened = await move(client, headers, assessment_id, "comment_period")
    assert opened.status_code == 200, opened.text
    waived = await client.post(f"/v1/assessments/{assessment_id}/comment-period/waiver", headers=factory_headers)
    assert waived.status_code == 200, waived.text
    finalised: dict[str, Any] = waived.json()
    return finalised


async def released_assessment(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    factory_id: uuid.UUID,
    *,
    results: Mapping[str, str] | None = None,
    checker: dict[str, str] | None = None,
    platform: TestPlatform | None = None,
) -> dict[str, Any]:
    """An assessment of `factory_id` scheduled, assessed and released, as the API shows it afterwards.

    `results` overrides the findings ({question code: result}; compliant otherwise); `checker` is the team
    leader's headers for the quality check and the release (four eyes: not the caller of `headers`); give it, or
    `platform` to have `access.team_leader(platform)` do it. The factory's first assessment is an initial one,
    any later one a regular one (the next cycle), so a factory can be given several.
    """
    if checker is None:
        assert platform is not None, "four eyes: give `checker` (a team leader's headers) or `platform`"
        checker = team_leader(platform)
    earlier = await client.get("/v1/assessments", params={"factory_id": str(factory_id)}, headers=headers)
    assert earlier.status_code == 200, earlier.text
    kind = "regular" if earlier.json()["items"] else "initial"
    assessment = await schedule(client, headers, factory_id, assessment_type=kind)
    aid = assessment["id"]
    started = await move(client, headers, aid, "in_progress")
    assert started.status_code == 200, started.text
    recorded = await client.put(
        f"/v1/assessments/{aid}/findings", json={"findings": all_compliant(**(results or {}))}, headers=headers
    )
    assert recorded.status_code == 200, recorded.text
    await release(client, headers, checker, aid)
    current = await client.get(f"/v1/assessments/{aid}", headers=headers)
    assert current.status_code == 200, current.text
    released: dict[str, Any] = current.json()
    return released
