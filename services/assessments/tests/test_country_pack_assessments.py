"""The assessments part of the country pack: an instance runs the tool and protocol its pack names. A pack naming
a shipped tool at another version, or another country's, stops the start with a message saying so; a pack naming
a tool and protocol this release does not ship (Jordan's) starts a programme that uploads its own."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from assessments.service.country_pack import programme_of
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.assessments import kh_tool, known_factory, move
from servicekit.country_pack import CountryPackError, load_country_pack

COUNTRIES = Path(__file__).resolve().parents[3] / "deploy" / "countries"
QUIET = {"relay_enabled": False, "consumer_enabled": False}


def pack_file(tmp_path: Path, iso: str = "kh", **assessments: Any) -> Path:
    data = yaml.safe_load((COUNTRIES / f"{iso}.yaml").read_text(encoding="utf-8"))
    data["assessments"].update(assessments)
    path = tmp_path / f"{iso}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def test_a_cambodia_instance_runs_the_tool_and_protocol_its_pack_names(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(COUNTRIES / "kh.yaml"))
    app = test_platform.app("assessments", **QUIET, country="KH")
    programme = app.state.country_programme
    assert (programme.tool, programme.tool_version, programme.protocol) == ("kh_garment", "1.0", "zt_protocol_kh")
    assert programme.referral_list == ("ministry_of_labour", "employers_association")
    assert programme.cycle_months == 12
    headers = staff(test_platform, "KH")
    async with serve_in_process(app) as client:
        tools = (await client.get("/v1/tools", params={"country": "KH"}, headers=headers)).json()
        programme = (await client.get("/v1/programme", headers=headers)).json()
    # seeded on first start (later tests of the session may publish newer Cambodian versions over it)
    assert "KH garment 2026.1" in [t["label"] for t in tools]
    assert (programme["tool"]["source"], programme["tool"]["published"]) == ("shipped", True)
    assert (programme["zero_tolerance_protocol"]["source"], programme["zero_tolerance_protocol"]["loaded"]) == (
        "shipped",
        True,
    )
    assert programme["ready"] is True and programme["next_steps"] == []


def test_without_country_pack_the_pack_shipped_for_country_is_used(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    app = test_platform.app("assessments", **QUIET, country="VN")
    assert app.state.country_pack.programme == "Better Work Vietnam"
    assert app.state.country_programme.tool == "vn_garment"


def jo_tool(**identity: str) -> bytes:
    """A Jordan garment tool as its programme would upload it (the shipped Cambodian questions stand in for
    Jordan's), naming itself as the pack does unless `identity` says otherwise."""
    document = kh_tool() | {"country": "JO", "label": "JO garment 2027.1", "languages": ["en", "ar"]}
    document |= {"code": "jo_garment", "version": "1.0"} | identity
    return str(yaml.safe_dump(document, allow_unicode=True)).encode()


# The parties Jordan's pack refers findings to besides the ministry, as its protocol would define them.
JO_REFERRALS = {"gtu_union": {"en": "General Trade Union of Workers in Textile, Garment and Clothing Industries"},
                "jgate": {"en": "Jordan Garments, Accessories and Textiles Exporters' Association"}}  # fmt: skip


def jo_protocol(*, referrals: bool = True, **identity: str) -> bytes:
    """Jordan's protocol as its programme would upload it (the shipped Cambodian one stands in), defining the parties
    of Jordan's referral list unless `referrals` is False."""
    text = files("assessments").joinpath("data", "zt_protocol_kh.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text) | {"country": "JO", "code": "zt_protocol_jo", "version": "1.0"} | identity
    if referrals:
        document["parties"] |= JO_REFERRALS
    return str(yaml.safe_dump(document, allow_unicode=True)).encode()


YAML = {"Content-Type": "application/yaml"}
VISIT = {"assessment_type": "initial", "start_date": "2027-03-01", "end_date": "2027-03-02"}


async def test_a_jordan_instance_starts_without_its_tool_and_schedules_once_staff_load_the_pack_s_tool(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)  # Jordan's shipped pack names jo_garment 1.0, not shipped
    app = test_platform.app("assessments", **QUIET, country="JO")
    headers = staff(test_platform, "JO", subject="ea-rania")
    factory_id = await known_factory(test_platform, country="JO")
    caplog.set_level(logging.WARNING, logger="assessments.country_pack")
    async with serve_in_process(app) as client:
        assert "upload tool jo_garment 1.0 for JO" in caplog.text  # warned at start
        assert "load zero-tolerance protocol zt_protocol_jo 1.0 for JO" in caplog.text
        assert (await client.get("/health/ready")).status_code == 200  # serving, so staff can load the tool
        assert (await client.get("/v1/tools", params={"country": "JO"}, headers=headers)).json() == []  # no seed
        programme = (await client.get("/v1/programme", headers=headers)).json()
        assert programme["programme"] == "Better Work Jordan"
        assert programme["tool"] == {
            "code": "jo_garment", "version": "1.0", "source": "uploaded", "published": False,
            "tool_version_id": None, "label": None,
        }  # fmt: skip
        assert programme["zero_tolerance_protocol"]["loaded"] is False and programme["ready"] is False
        assert "upload tool jo_garment 1.0" in programme["next_steps"][0]

        refused = await client.post("/v1/assessments", json={"factory_id": str(factory_id), **VISIT}, headers=headers)
        assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
        assert "tool jo_garment 1.0" in refused.json()["detail"] and "POST /v1/tools" in refused.json()["detail"]
        assert refused.json()["expected_tool"] == {"code": "jo_garment", "version": "1.0"}

        uploaded = await client.post("/v1/tools", content=jo_tool(), headers=headers | YAML)
        assert uploaded.status_code == 201, uploaded.text
        published = await client.post(f"/v1/tools/{uploaded.json()['id']}/publish", headers=headers)
        assert published.status_code == 200, published.text

        # the tool is there; the protocol that says who is told of a zero-tolerance finding is not yet
        refused = await client.post("/v1/assessments", json={"factory_id": str(factory_id), **VISIT}, headers=headers)
        assert refused.status_code == 409 and "zt_protocol_jo 1.0" in refused.json()["detail"]
        loaded = await client.put("/v1/zero-tolerance-protocol", content=jo_protocol(), headers=headers | YAML)
        assert loaded.status_code == 200, loaded.text
        assert (loaded.json()["code"], loaded.json()["version"]) == ("zt_protocol_jo", "1.0")

        programme = (await client.get("/v1/programme", headers=headers)).json()
        assert programme["ready"] is True and programme["next_steps"] == []
        assert programme["tool"]["tool_version_id"] == uploaded.json()["id"]
        scheduled = await client.post("/v1/assessments", json={"factory_id": str(factory_id), **VISIT}, headers=headers)
        assert scheduled.status_code == 201, scheduled.text
        assert scheduled.json()["tool_version_id"] == uploaded.json()["id"]

        # and a zero-tolerance finding opens a case under the programme's protocol
        assessment_id = scheduled.json()["id"]
        assert (await move(client, headers, assessment_id, "in_progress")).status_code == 200
        question = next(q["code"] for q in kh_tool()["questions"] if q.get("zero_tolerance_category") == "child_labour")
        recorded = await client.put(
            f"/v1/assessments/{assessment_id}/findings/{question}",
            json={"result": "non_compliant", "severity": "critical", "explanation": "A 13-year-old on the line."},
            headers=headers,
        )
        assert recorded.status_code == 200, recorded.text
        assert len(recorded.json()["zero_tolerance_cases_opened"]) == 1

    # the programme moves to a new version of its tool: the pack says so, and 1.0 no longer schedules
    monkeypatch.setenv("COUNTRY_PACK", str(pack_file(tmp_path, "jo", tool_version="1.1")))
    async with serve_in_process(test_platform.app("assessments", **QUIET, country="JO")) as client:
        refused = await client.post("/v1/assessments", json={"factory_id": str(factory_id), **VISIT}, headers=headers)
        assert refused.status_code == 409
        assert (refused.json()["expected_tool"]["version"], refused.json()["received_tool"]["version"]) == (
            "1.1",
            "1.0",
        )
        uploaded = await client.post(
            "/v1/tools", content=jo_tool(version="1.1", label="JO garment 2027.2"), headers=headers | YAML
        )
        assert uploaded.status_code == 201, uploaded.text
        assert (await client.post(f"/v1/tools/{uploaded.json()['id']}/publish", headers=headers)).status_code == 200
        scheduled = await client.post(
            "/v1/assessments",
            json={"factory_id": str(factory_id), **VISIT, "assessment_type": "regular"},
            headers=headers,
        )
        assert scheduled.status_code == 201, scheduled.text
        assert scheduled.json()["tool_version_id"] == uploaded.json()["id"]


async def test_a_jordan_instance_refuses_a_tool_or_protocol_other_than_its_pack_s(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    app = test_platform.app("assessments", **QUIET, country="JO")
    headers = staff(test_platform, "JO", subject="ea-omar")
    async with serve_in_process(app) as client:
        before = (await client.get("/v1/tools", params={"country": "JO"}, headers=headers)).json()
        for code, version in (("jo_garment", "2.0"), ("bd_garment", "1.0")):
            wrong = jo_tool(code=code, version=version, label=f"JO garment {code} {version}")
            received = {"code": code, "version": version, "country": "JO"}
            refused = await client.post("/v1/tools", content=wrong, headers=headers | YAML)
            assert refused.status_code == 409, refused.text
            problem = refused.json()
            assert problem["expected_tool"] == {"code": "jo_garment", "version": "1.0", "country": "JO"}
            assert problem["received_tool"] == received
            assert "jo_garment 1.0" in problem["detail"]
            assert f"{code} {version}" in problem["detail"]
        unnamed = kh_tool() | {"country": "JO", "label": "JO garment unnamed"}
        refused = await client.post("/v1/tools", content=yaml.safe_dump(unnamed).encode(), headers=headers | YAML)
        assert refused.status_code == 409 and "(no code) (no version)" in refused.json()["detail"]
        assert (await client.get("/v1/tools", params={"country": "JO"}, headers=headers)).json() == before

        refused = await client.put(
            "/v1/zero-tolerance-protocol", content=jo_protocol(version="0.9"), headers=headers | YAML
        )
        assert refused.status_code == 409
        assert refused.json()["expected_protocol"]["version"] == "1.0"
        assert refused.json()["received_protocol"]["version"] == "0.9"
        # the pack's protocol, but without the parties the pack refers findings to: refused, naming them
        loaded = (await client.get("/v1/programme", headers=headers)).json()
        refused = await client.put(
            "/v1/zero-tolerance-protocol", content=jo_protocol(referrals=False), headers=headers | YAML
        )
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["unknown_parties"] == ["gtu_union", "jgate"]
        assert "refers zero-tolerance findings to gtu_union, jgate" in refused.json()["detail"]
        assert "Nothing was changed" in refused.json()["detail"]
        assert (await client.get("/v1/programme", headers=headers)).json() == loaded
        # staff of another country are told there is no programme to see
        other = await client.get("/v1/programme", headers=staff(test_platform, "KH"))
        assert other.status_code == 404


def test_a_pack_naming_an_unshipped_protocol_beside_the_shipped_tool_uploads_only_the_protocol(tmp_path: Path) -> None:
    pack = load_country_pack(pack_file(tmp_path, zero_tolerance_protocol="zt_protocol_kh_2027"))
    programme = programme_of(pack)
    assert programme is not None
    assert (programme.tool_file, programme.uploads_tool) == ("tool_kh_garment.yaml", False)
    assert programme.uploads_protocol and "PUT /v1/zero-tolerance-protocol" in programme.protocol_step()


async def test_without_a_country_pack_there_is_no_programme_to_read(test_platform: TestPlatform) -> None:
    app = test_platform.app("assessments", **QUIET)
    async with serve_in_process(app) as client:
        answer = await client.get("/v1/programme", headers=staff(test_platform, "KH"))
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"


def test_a_pack_asking_for_another_version_or_another_country_s_tool_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path
) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(pack_file(tmp_path, tool_version="2.0")))
    with pytest.raises(CountryPackError, match=r"asks for tool kh_garment 2.0, but assessments ships kh_garment 1.0"):
        test_platform.app("assessments", **QUIET, country="KH")
    monkeypatch.setenv("COUNTRY_PACK", str(pack_file(tmp_path, tool="vn_garment")))
    with pytest.raises(CountryPackError, match=r"which are not KH's: assessments ships kh_garment and zt_protocol_kh"):
        test_platform.app("assessments", **QUIET, country="KH")
    monkeypatch.setenv("COUNTRY_PACK", str(pack_file(tmp_path, "jo", tool="kh_garment")))
    with pytest.raises(
        CountryPackError, match=r"names tool kh_garment and protocol zt_protocol_jo, which are not JO's"
    ):
        test_platform.app("assessments", **QUIET, country="JO")
    monkeypatch.setenv("COUNTRY_PACK", str(pack_file(tmp_path, zero_tolerance_protocol_version="1.1")))
    with pytest.raises(CountryPackError, match=r"asks for zero-tolerance protocol zt_protocol_kh 1.1"):
        test_platform.app("assessments", **QUIET, country="KH")


def test_a_pack_referring_findings_to_a_party_its_shipped_protocol_lacks_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path
) -> None:
    """The names the packs once carried (TAFTAC, union federations, VCCI) are not parties of the shipped protocols."""
    for iso, referrals, unknown in (
        ("kh", ["ministry_of_labour", "taftac", "union_federations"], "taftac, union_federations"),
        ("vn", ["molisa", "vgcl", "vcci"], "vcci"),
    ):
        monkeypatch.setenv("COUNTRY_PACK", str(pack_file(tmp_path, iso, referral_list=referrals)))
        expected = rf"refers zero-tolerance findings to {unknown}, which zero-tolerance protocol zt_protocol_{iso} "
        with pytest.raises(CountryPackError, match=expected + "does not define"):
            test_platform.app("assessments", **QUIET, country=iso.upper())


@pytest.mark.parametrize("iso", ["kh", "vn"])
def test_the_shipped_packs_refer_findings_only_to_parties_of_the_shipped_protocols(iso: str) -> None:
    programme = programme_of(load_country_pack(COUNTRIES / f"{iso}.yaml"))
    assert programme is not None and programme.protocol_file is not None
    document = yaml.safe_load(files("assessments").joinpath("data", programme.protocol_file).read_text("utf-8"))
    assert set(programme.referral_list) <= set(document["parties"])


def test_betterwork_serve_refuses_a_bad_pack_with_one_clear_line(test_platform: TestPlatform, tmp_path: Path) -> None:
    env = test_platform.service_env(
        "assessments", COUNTRY="KH", COUNTRY_PACK=str(pack_file(tmp_path, tool_version="2.0"))
    )
    done = subprocess.run(
        [sys.executable, "-m", "servicekit.serve", "assessments"],
        env=env | {"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "assessments does not start: country pack for KH asks for tool kh_garment 2.0" in done.stderr
    assert "Traceback" not in done.stderr
