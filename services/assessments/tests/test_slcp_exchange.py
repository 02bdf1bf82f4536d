"""Honest SLCP exchange: service clients with `slcp:write` / `slcp:read` import and read exports of their
country; an import names the factory's own SLCP facility; answers follow each question's polarity."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from assessments.domain.lifecycle import Result
from assessments.domain.slcp import export_answers
from assessments.service.tools import parse_yaml
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import service, staff, team_leader
from devstack.testkit.assessments import all_compliant, kh_tool, known_factory, move, release, schedule

TOOL = kh_tool()
MAPPED = [q for q in TOOL["questions"] if q.get("slcp")]


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


def document(facility: str, **fields: Any) -> dict[str, Any]:
    return {
        "format": "betterwork-slcp/1",
        "assessment_id": f"SLCP-{uuid.uuid4().hex[:8]}",
        "facility_id": facility,
        "status": "VRF",
        "status_date": "2026-10-01",
        "answers": [{"question_id": MAPPED[0]["slcp"][0], "answer": "No", "finding": "compliant"}],
        **fields,
    }


def test_answers_follow_the_polarity_of_each_question() -> None:
    tool = parse_yaml(
        b"kind: cat-country-tool\ncountry: KH\nsector: garment\nlabel: polarity\nquestions:\n"
        b"  - {code: Q-1, compliance_point: CL-CHILD, text: {en: 'Any workers under 15?'}, slcp: [A-1],"
        b" yes_means: non_compliant, slcp_confirmed: true}\n"
        b"  - {code: Q-2, compliance_point: CL-CHILD, text: {en: 'Are ages checked?'}, slcp: [A-2]}\n"
    )
    answers = {
        a["question_id"]: a for a in export_answers(tool, {"Q-1": Result.COMPLIANT, "Q-2": Result.NON_COMPLIANT})
    }
    assert (answers["A-1"]["answer"], answers["A-1"]["id_confirmed"]) == ("No", True)
    assert (answers["A-2"]["answer"], answers["A-2"]["id_confirmed"]) == ("No", False)
    flipped = export_answers(tool, {"Q-1": Result.NON_COMPLIANT, "Q-2": Result.COMPLIANT})
    assert [a["answer"] for a in flipped] == ["Yes", "Yes"]
    assert export_answers(tool, {"Q-2": Result.NOT_APPLICABLE})[0]["answer"] == "N/A"


@pytest.mark.asyncio
async def test_a_service_client_with_slcp_write_imports_for_its_country_only(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    facility = f"SLCP-F-{uuid.uuid4().hex[:8]}"
    factory = await known_factory(test_platform, slcp_facility_id=facility)
    body = document(facility)
    no_scope = await client.post("/v1/slcp/imports", json=body, headers=service(test_platform, "slcp:read"))
    assert no_scope.status_code == 403
    elsewhere = await client.post(
        "/v1/slcp/imports", json=body, headers=service(test_platform, "slcp:write", country="VN")
    )
    assert elsewhere.status_code == 409 and "No factory carries" in elsewhere.json()["detail"]  # as if none did
    buyer_like = await client.post(
        "/v1/slcp/imports", json=body, headers={"Authorization": f"Bearer {test_platform.token('buyer')}"}
    )
    assert buyer_like.status_code == 403
    imported = await client.post("/v1/slcp/imports", json=body, headers=service(test_platform, "slcp:write"))
    assert imported.status_code == 201, imported.text
    assert imported.json()["factory_id"] == str(factory)
    url = f"/v1/slcp/imports/{imported.json()['id']}"
    assert (await client.get(url, headers=service(test_platform, "slcp:read"))).status_code == 200
    assert (await client.get(url, headers=service(test_platform, "slcp:read", country="VN"))).status_code == 404
    assert (await client.get(url, headers=service(test_platform))).status_code == 404  # no SLCP scope


@pytest.mark.asyncio
async def test_an_import_must_name_the_factorys_own_slcp_facility(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    facility = f"SLCP-F-{uuid.uuid4().hex[:8]}"
    factory = await known_factory(test_platform, slcp_facility_id=facility)
    bare = await known_factory(test_platform)
    other = document(f"SLCP-F-{uuid.uuid4().hex[:8]}")
    wrong = await client.post("/v1/slcp/imports", json={**other, "factory_id": str(factory)}, headers=headers)
    assert wrong.status_code == 409 and wrong.json()["factory_slcp_facility_id"] == facility
    none = await client.post("/v1/slcp/imports", json={**other, "factory_id": str(bare)}, headers=headers)
    assert none.status_code == 409 and "no SLCP facility id" in none.json()["detail"]
    right = await client.post(
        "/v1/slcp/imports", json={**document(facility), "factory_id": str(factory)}, headers=headers
    )
    assert right.status_code == 201, right.text


@pytest.mark.asyncio
async def test_a_service_client_with_slcp_read_reads_released_exports_of_its_country(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    facility = f"SLCP-F-{uuid.uuid4().hex[:8]}"
    assessment = await schedule(client, headers, await known_factory(test_platform, slcp_facility_id=facility))
    aid = assessment["id"]
    await move(client, headers, aid, "in_progress")
    await client.put(f"/v1/assessments/{aid}/findings", json={"findings": all_compliant()}, headers=headers)
    url = f"/v1/assessments/{aid}/slcp"
    reader = service(test_platform, "slcp:read")
    assert (await client.get(url, headers=reader)).status_code == 404  # not released yet
    await release(client, headers, team_leader(test_platform), aid)
    exported = await client.get(url, headers=reader)
    assert exported.status_code == 200, exported.text
    assert (exported.json()["facility_id"], exported.json()["slcp_verified"]) == (facility, False)
    assert (await client.get(url, headers=service(test_platform, "slcp:write"))).status_code == 404
    assert (await client.get(url, headers=service(test_platform, "slcp:read", country="VN"))).status_code == 404
