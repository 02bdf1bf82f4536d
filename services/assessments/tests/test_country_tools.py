"""One country per instance: an instance loads the tool and protocol of its COUNTRY; Vietnam's garment tool
(Labour Code 2019) ships with its protocol and works end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from importlib.resources import files

import httpx
import pytest
import yaml

from assessments.domain.tool import ZERO_TOLERANCE_CATEGORIES, parse_tool, zero_tolerance_categories
from assessments.domain.zero_tolerance import check_covers, parse_protocol
from assessments.service.tools import SHIPPED, parse_yaml, shipped_for
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.assessments import known_factory, move, schedule

DATA = files("assessments").joinpath("data")


def shipped(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_an_instance_loads_the_shipped_data_of_its_own_country_only() -> None:
    assert shipped_for("VN") == [("tool_vn_garment.yaml", "zt_protocol_vn.yaml")]
    assert shipped_for("kh") == [("tool_kh_garment.yaml", "zt_protocol_kh.yaml")]
    assert shipped_for("TH") == []  # nothing shipped: the country's staff publish their own
    assert shipped_for(None) == list(SHIPPED.values())  # development and tests: every country


def test_the_vietnam_tool_follows_the_labour_code_2019_and_its_protocol_covers_it() -> None:
    tool = parse_yaml(shipped("tool_vn_garment.yaml"))
    assert (tool.country, tool.sector, tool.effective_from) == ("VN", "garment", date(2021, 1, 1))
    assert tool.legal_basis is not None and "Labour Code 2019" in tool.legal_basis
    assert len(tool.questions) >= 60
    assert {q.cluster for q in tool.questions.values()} == set(tool.clusters)  # all 8 clusters
    assert len(tool.clusters) == 8
    assert zero_tolerance_categories(tool) == ZERO_TOLERANCE_CATEGORIES
    assert all(q.legal_reference for q in tool.questions.values())
    assert all(not q.slcp or q.slcp_confirmed is False for q in tool.questions.values())
    protocol = parse_protocol(yaml.safe_load(shipped("zt_protocol_vn.yaml")))
    assert protocol.country == "VN"
    check_covers(protocol, zero_tolerance_categories(tool), tool=tool.label)
    kh = parse_tool(yaml.safe_load(shipped("cat_global.yaml")), yaml.safe_load(shipped("tool_kh_garment.yaml")))
    assert kh.clusters.keys() == tool.clusters.keys()  # clusters and compliance points are global


@pytest.fixture
async def vn_client(test_platform: TestPlatform) -> AsyncIterator[httpx.AsyncClient]:
    app = test_platform.app("assessments", relay_enabled=False, consumer_enabled=False, country="VN")
    async with serve_in_process(app) as c:
        yield c


@pytest.mark.asyncio
async def test_a_vietnam_instance_assesses_with_the_vietnam_tool_and_protocol(
    vn_client: httpx.AsyncClient, test_platform: TestPlatform
) -> None:
    headers = staff(test_platform, "VN", subject="ea-lan")
    tools = (await vn_client.get("/v1/tools", params={"country": "VN"}, headers=headers)).json()
    current = next(t for t in tools if t["status"] == "published")
    assert current["label"] == "VN garment 2026.1 (Labour Code 2019)" and current["question_count"] >= 60
    assessment = await schedule(vn_client, headers, await known_factory(test_platform, country="VN"))
    assert assessment["tool_version_id"] == current["id"]
    await move(vn_client, headers, assessment["id"], "in_progress")
    recorded = await vn_client.put(
        f"/v1/assessments/{assessment['id']}/findings/VN-OS-07",
        json={"result": "non_compliant", "severity": "critical", "explanation": "Workers were fined for leaving."},
        headers=headers,
    )
    assert recorded.status_code == 200, recorded.text
    (case_id,) = recorded.json()["zero_tolerance_cases_opened"]
    case = (await vn_client.get(f"/v1/zero-tolerance-cases/{case_id}", headers=headers)).json()
    assert (case["category"], case["notify"]) == ("imminent_danger", ["dolisa", "osh_inspectorate", "linked_buyers"])
    assert case["overdue"] is False  # refer_days 0: at once, not overdue the moment it opens
