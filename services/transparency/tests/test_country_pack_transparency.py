"""The transparency part of the country pack, through HTTP against real Postgres: an instance publishes under
the rule set its pack describes, and a pack whose rules would name other factories or issues stops the start,
naming the field."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from servicekit.country_pack import CountryPackError

COUNTRIES = Path(__file__).resolve().parents[3] / "deploy" / "countries"
QUIET = {"relay_enabled": False, "consumer_enabled": False}


def pack_file(tmp_path: Path, iso: str, **transparency: Any) -> Path:
    data = yaml.safe_load((COUNTRIES / f"{iso}.yaml").read_text(encoding="utf-8"))
    data["transparency"].update(transparency)
    path = tmp_path / f"{iso}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def test_a_bangladesh_instance_publishes_under_the_rules_of_its_pack(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    app = test_platform.app("transparency", **QUIET, country="BD")
    assert app.state.publication_rules.key == "better-work-bangladesh@1"
    async with serve_in_process(app) as client:
        candidate = await client.post(
            "/v1/publications",
            json={"country": "BD", "cut_off": date.today().isoformat()},
            headers=staff(test_platform, "BD"),
        )
    assert candidate.status_code == 201, candidate.text
    assert candidate.json()["rule_set"] == "better-work-bangladesh@1"


@pytest.mark.parametrize(
    ("iso", "change", "message"),
    [
        ("bd", {"repeat_cycles_required": 1}, "transparency.repeat_cycles_required is 1, but the publication rule set "
         "better-work-bangladesh@1 that transparency applies to BD has 2"),
        ("kh", {"min_assessments": 3}, "transparency.min_assessments is 3, but .* bfc-public-reporting@1 .* has 2"),
        ("kh", {"reported_issues": "bw_public_reporting"}, "transparency.reported_issues is"),
        ("vn", {"cycle": "calendar_year"}, "transparency.cycle is 'calendar_year', but .* has 'rolling'"),
        ("vn", {"low_compliance_naming": True, "low_compliance_min_assessments": 3}, "low_compliance_naming is True"),
        ("kh", {"factory_may_reply": False}, "transparency.factory_may_reply is False, but the publication rule set "
         "bfc-public-reporting@1 that transparency applies to KH has True"),
        ("vn", {"factory_may_reply": False}, "transparency.factory_may_reply is False, but .* has True"),
    ],
)  # fmt: skip
def test_a_pack_whose_rules_differ_from_the_rule_set_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path, iso: str, change: Any, message: str
) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(pack_file(tmp_path, iso, **change)))
    with pytest.raises(CountryPackError, match=message):
        test_platform.app("transparency", **QUIET, country=iso.upper())


@pytest.mark.parametrize("iso", ["bd", "id", "jo", "kh", "vn"])
def test_every_shipped_pack_starts_under_its_rule_set(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, iso: str
) -> None:
    """BFC lets factories post about their findings on its database, as the rule set says: so does the KH pack."""
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    app = test_platform.app("transparency", **QUIET, country=iso.upper())
    assert app.state.publication_rules.right_of_reply is app.state.country_pack.transparency.factory_may_reply
