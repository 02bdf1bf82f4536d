"""Zero-tolerance outcomes: not_confirmed before remediation, referrals recorded, protocols checked against the
tool's categories, `refer_days: 0` meaning at once."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

import httpx
import pytest
import yaml

from assessments.domain.zero_tolerance import (
    AT_ONCE,
    CaseError,
    CaseStatus,
    IssueRule,
    check_move,
    deadlines_for,
    overdue_steps,
)
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.assessments import kh_tool, known_factory, move, schedule
from devstack.testkit.database import connect_as, fetch

KH_PROTOCOL: dict[str, Any] = yaml.safe_load(
    files("assessments").joinpath("data", "zt_protocol_kh.yaml").read_text(encoding="utf-8")
)


@pytest.fixture
async def client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False)
    async with serve_in_process(app) as c:
        yield c


async def events(platform: TestPlatform, aggregate_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await fetch(
        platform,
        "assessments",
        "SELECT type, payload FROM assessments.outbox WHERE aggregateid = $1 ORDER BY seq",
        aggregate_id,
    )
    return [(r["type"].split(".")[-2], json.loads(r["payload"])) for r in rows]


async def hotline_case(
    client: httpx.AsyncClient, platform: TestPlatform, category: str = "forced_labour"
) -> dict[str, Any]:
    reported = await client.post(
        "/v1/zero-tolerance-cases",
        json={"factory_id": str(await known_factory(platform)), "category": category, "source": "hotline"},
        headers=staff(platform),
    )
    assert reported.status_code == 201, reported.text
    case: dict[str, Any] = reported.json()
    return case


# ---- rules, no I/O ---------------------------------------------------------------------------------------------


def test_not_confirmed_is_possible_before_remediation_only_and_needs_a_reason() -> None:
    for current in (CaseStatus.OPENED, CaseStatus.REFERRED, CaseStatus.ACKNOWLEDGED):
        check_move(current, CaseStatus.NOT_CONFIRMED, "the hotline report was unfounded")
        with pytest.raises(CaseError, match="why"):
            check_move(current, CaseStatus.NOT_CONFIRMED, " ")
    for current in (CaseStatus.REMEDIATION, CaseStatus.CLOSED, CaseStatus.NOT_CONFIRMED):
        with pytest.raises(CaseError):
            check_move(current, CaseStatus.NOT_CONFIRMED, "too late")
    with pytest.raises(CaseError, match="not_confirmed"):
        check_move(CaseStatus.NOT_CONFIRMED, CaseStatus.REFERRED, None)


def test_refer_days_zero_means_at_once_not_overdue_on_opening() -> None:
    opened = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    rule = IssueRule("imminent_danger", {"en": "x"}, ("ministry_of_labour",), {CaseStatus.REFERRED: 0})
    deadlines = deadlines_for(rule, opened)
    assert datetime.fromisoformat(deadlines["referred"]) == opened + AT_ONCE
    assert overdue_steps(CaseStatus.OPENED, deadlines, opened + timedelta(minutes=5)) == []
    assert overdue_steps(CaseStatus.OPENED, deadlines, opened + AT_ONCE + timedelta(minutes=1)) == ["referred"]
    assert overdue_steps(CaseStatus.NOT_CONFIRMED, deadlines, opened + timedelta(days=9)) == []


# ---- over HTTP ---------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_unfounded_hotline_report_ends_not_confirmed_without_passing_through_remediation(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    case = await hotline_case(client, test_platform)
    url = f"/v1/zero-tolerance-cases/{case['id']}/transitions"
    assert (await client.post(url, json={"to": "not_confirmed"}, headers=headers)).status_code == 409  # no reason
    ended = await client.post(
        url,
        json={"to": "not_confirmed", "note": "exits were open; the caller confirmed a misunderstanding"},
        headers=headers,
    )
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["overdue"]) == ("not_confirmed", False)
    assert ended.json()["steps"][-1]["note"] == "exits were open; the caller confirmed a misunderstanding"
    assert (await client.post(url, json={"to": "referred"}, headers=headers)).status_code == 409
    kinds = await events(test_platform, case["id"])
    assert [k for k, _ in kinds] == ["case_opened", "case_not_confirmed"]
    assert kinds[1][1]["previous_status"] == "opened" and "caller" not in json.dumps(kinds[1][1])

    later = await hotline_case(client, test_platform)
    url = f"/v1/zero-tolerance-cases/{later['id']}/transitions"
    for step in ("referred", "acknowledged", "remediation"):
        assert (await client.post(url, json={"to": step}, headers=headers)).status_code == 200
    refused = await client.post(url, json={"to": "not_confirmed", "note": "x"}, headers=headers)
    assert refused.status_code == 409 and refused.json()["current_status"] == "remediation"


@pytest.mark.asyncio
async def test_each_referral_is_recorded_with_party_time_channel_and_acknowledgement(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform)
    case = await hotline_case(client, test_platform, "child_labour")
    url = f"/v1/zero-tolerance-cases/{case['id']}/referrals"
    stranger = await client.post(url, json={"party": "the_press", "channel": "email"}, headers=headers)
    assert stranger.status_code == 409 and "ministry_of_labour" in stranger.json()["detail"]
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert (
        await client.post(
            url, json={"party": "ministry_of_labour", "channel": "email", "referred_at": future}, headers=headers
        )
    ).status_code == 409
    assert (
        await client.post(url, json={"party": "ministry_of_labour", "channel": "fax"}, headers=headers)
    ).status_code == 422
    referred = await client.post(
        url, json={"party": "ministry_of_labour", "channel": "letter", "reference": "MoLVT 123/26"}, headers=headers
    )
    assert referred.status_code == 201, referred.text
    second = await client.post(url, json={"party": "child_labour_office", "channel": "phone"}, headers=headers)
    assert second.status_code == 201
    ack_url = f"{url}/{referred.json()['id']}/acknowledgement"
    acknowledged = await client.post(ack_url, json={"note": "inspector assigned"}, headers=headers)
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_by"] == "ea-dara"
    assert (await client.post(ack_url, json={}, headers=headers)).status_code == 409
    assert (await client.post(f"{url}/{uuid.uuid4()}/acknowledgement", json={}, headers=headers)).status_code == 404
    other = staff(test_platform, "VN")
    assert (
        await client.post(url, json={"party": "ministry_of_labour", "channel": "email"}, headers=other)
    ).status_code == 404

    found = (await client.get(f"/v1/zero-tolerance-cases/{case['id']}", headers=headers)).json()
    assert found["status"] == "referred"  # the first referral moved it
    assert [(r["party"], r["channel"], r["reference"], r["acknowledgement_note"]) for r in found["referrals"]] == [
        ("ministry_of_labour", "letter", "MoLVT 123/26", "inspector assigned"),
        ("child_labour_office", "phone", None, None),
    ]
    assert [k for k, _ in await events(test_platform, case["id"])] == ["case_opened", "case_updated"]


@pytest.mark.asyncio
async def test_protocols_are_checked_against_the_tools_zero_tolerance_categories(
    client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    country = "TH"
    headers = staff(test_platform, country)
    full = {**copy.deepcopy(KH_PROTOCOL), "country": country}
    partial = {**full, "issues": [i for i in full["issues"] if i["category"] == "child_labour"]}
    yaml_headers = {**headers, "Content-Type": "application/yaml"}
    first = await client.put("/v1/zero-tolerance-protocol", content=yaml.safe_dump(partial), headers=yaml_headers)
    assert first.status_code == 200, first.text  # no tool of the country yet
    tool = {**kh_tool(), "country": country, "label": f"TH garment {uuid.uuid4().hex[:6]}"}
    draft = await client.post("/v1/tools", content=yaml.safe_dump(tool, allow_unicode=True), headers=yaml_headers)
    assert draft.status_code == 201, draft.text
    refused = await client.post(f"/v1/tools/{draft.json()['id']}/publish", headers=headers)
    assert refused.status_code == 409 and "forced_labour" in refused.json()["detail"]
    assert (
        await client.put("/v1/zero-tolerance-protocol", content=yaml.safe_dump(full), headers=yaml_headers)
    ).status_code == 200
    assert (await client.post(f"/v1/tools/{draft.json()['id']}/publish", headers=headers)).status_code == 200
    shrunk = await client.put("/v1/zero-tolerance-protocol", content=yaml.safe_dump(partial), headers=yaml_headers)
    assert shrunk.status_code == 422 and "forced_labour" in shrunk.json()["detail"]

    # A protocol stored before this check existed: the finding is refused with the reason, not a 500.
    conn = await connect_as(test_platform, "assessments")
    try:
        await conn.execute(
            "UPDATE assessments.zt_protocol SET document = $1::jsonb WHERE country = $2", json.dumps(partial), country
        )
    finally:
        await conn.close()
    plant = await known_factory(test_platform, country=country)
    assessment = await schedule(client, headers, plant)
    await move(client, headers, assessment["id"], "in_progress")
    forced = next(q for q in tool["questions"] if q.get("zero_tolerance_category") == "forced_labour")
    recorded = await client.put(
        f"/v1/assessments/{assessment['id']}/findings/{forced['code']}",
        json={"result": "non_compliant"},
        headers=headers,
    )
    assert recorded.status_code == 409 and "forced_labour" in recorded.json()["detail"]
    assert (await client.get(f"/v1/assessments/{assessment['id']}/findings", headers=headers)).json() == []
