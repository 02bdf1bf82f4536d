"""The advisory part of the country pack, through HTTP against real Postgres: a factory's training-day
entitlement is the pack's figure for the instance's country, and a pack asking for a progress-report deadline
advisory cannot honour stops the start, naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.advisory import known_factory
from servicekit.country_pack import CountryPackError

COUNTRIES = Path(__file__).resolve().parents[3] / "deploy" / "countries"
QUIET = {"relay_enabled": False, "consumer_enabled": False}


def kh_pack(tmp_path: Path, **advisory: Any) -> Path:
    data = yaml.safe_load((COUNTRIES / "kh.yaml").read_text(encoding="utf-8"))
    data["advisory"].update(advisory)
    path = tmp_path / "kh.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def entitled(platform: TestPlatform, country: str, **overrides: Any) -> Any:
    factory_id = await known_factory(platform, country="KH")
    async with serve_in_process(platform.app("advisory", **QUIET, **overrides, country=country)) as client:
        answer = await client.get(
            f"/v1/factories/{factory_id}/training", params={"year": 2027}, headers=staff(platform, "KH")
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["entitled_days"]


async def test_a_factory_is_entitled_to_the_training_days_of_the_instance_s_pack(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    assert await entitled(test_platform, "KH") == 10  # the shipped Cambodia pack
    monkeypatch.setenv("COUNTRY_PACK", str(kh_pack(tmp_path, training_days_per_year=18)))
    assert await entitled(test_platform, "KH") == 18
    assert await entitled(test_platform, "KH", training_days_per_year=12) == 12  # ADVISORY_TRAINING_DAYS_PER_YEAR


def test_a_pack_with_a_progress_report_deadline_advisory_cannot_honour_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path
) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(kh_pack(tmp_path, progress_report_days=45)))
    with pytest.raises(CountryPackError, match=r"advisory.progress_report_days is 45, but advisory dues .* 30 days"):
        test_platform.app("advisory", **QUIET, country="KH")
