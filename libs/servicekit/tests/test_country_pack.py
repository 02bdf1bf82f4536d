"""Country packs: every committed pack loads, and a bad pack stops the start-up with a message that says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from devstack.pytest_plugin import TestPlatform
from servicekit.country_pack import (
    CountryPackError,
    country_pack_schema,
    load_country_pack,
    load_country_pack_from_env,
)

ROOT = Path(__file__).resolve().parents[3]
COUNTRIES = ROOT / "deploy" / "countries"
PACKS = sorted(p.stem for p in COUNTRIES.glob("*.yaml"))


def write(tmp_path: Path, data: Any) -> Path:
    file = tmp_path / "pack.yaml"
    file.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return file


def kh() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((COUNTRIES / "kh.yaml").read_text())
    return data


def test_the_five_programmes_have_packs() -> None:
    assert {"kh", "vn", "jo", "bd", "id"} <= set(PACKS)


@pytest.mark.parametrize("iso", PACKS)
def test_each_committed_pack_loads_and_matches_the_committed_json_schema(iso: str) -> None:
    pack = load_country_pack(COUNTRIES / f"{iso}.yaml", expected_country=iso.upper())
    assert pack.country == iso.upper()
    assert pack.languages[0] == "en"
    assert pack.invoicing.issuing_entity.country == pack.country
    schema = json.loads((COUNTRIES / "country-pack.schema.json").read_text())
    data = json.loads(json.dumps(yaml.safe_load((COUNTRIES / f"{iso}.yaml").read_text()), default=str))
    assert list(jsonschema_rs.validator_for(schema).iter_errors(data)) == []


def test_the_committed_schema_is_the_model_s_schema() -> None:
    committed = json.loads((COUNTRIES / "country-pack.schema.json").read_text())
    assert committed == country_pack_schema()


def test_the_schema_rejects_what_the_model_rejects() -> None:
    validator = jsonschema_rs.validator_for(country_pack_schema())
    data = json.loads(json.dumps(kh(), default=str))
    data["currency"] = "riel"
    data["invoicing"]["price_list"]["items"][0]["unit_price"] = 5800
    data["surprise"] = True
    messages = [e.message for e in validator.iter_errors(data)]
    assert len(messages) == 3, messages


def test_parts_a_service_reads() -> None:
    pack = load_country_pack(COUNTRIES / "kh.yaml")
    assert pack.time_zone == "Asia/Phnom_Penh" and str(pack.zone) == "Asia/Phnom_Penh"
    assert str(pack.price("service_package")) == "5800.00"
    assert pack.price("buyer_credit") is None  # tiered
    credit = next(i for i in pack.invoicing.price_list.items if i.service == "buyer_credit")
    assert credit.tiers[0].unit_price == "1400.00"
    assert [s.days_past_due for s in pack.invoicing.overdue_policy] == [1, 14, 30, 45]
    assert pack.transparency.min_assessments == 2 and pack.transparency.low_compliance_naming
    assert pack.assessments.tool == "kh_garment"
    assert pack.advisory.training_days_per_year == 10


def test_neither_country_pack_nor_country_means_no_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    assert load_country_pack_from_env(None) is None
    monkeypatch.setenv("COUNTRY_PACK", "  ")
    assert load_country_pack_from_env(None) is None


def test_without_country_pack_the_pack_shipped_for_country_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    monkeypatch.delenv("COUNTRY_PACKS_DIR", raising=False)
    pack = load_country_pack_from_env("kh")  # from the checkout's deploy/countries
    assert pack is not None and pack.programme == "Better Factories Cambodia"


def test_country_packs_dir_names_the_folder_of_shipped_packs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    monkeypatch.setenv("COUNTRY_PACKS_DIR", str(tmp_path))
    (tmp_path / "vn.yaml").write_text((COUNTRIES / "vn.yaml").read_text())
    pack = load_country_pack_from_env("VN")
    assert pack is not None and pack.country == "VN"
    with pytest.raises(CountryPackError, match=r"no country pack is shipped for KH \(looked for .*kh\.yaml\)"):
        load_country_pack_from_env("KH")


def test_a_country_without_a_shipped_pack_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    with pytest.raises(CountryPackError, match=r"no country pack is shipped for EG .*set COUNTRY_PACK"):
        test_platform.app("registry", country="EG")


def test_the_environment_names_the_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(COUNTRIES / "vn.yaml"))
    pack = load_country_pack_from_env("vn")
    assert pack is not None and pack.currency == "VND"


def test_a_pack_for_another_country_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(COUNTRIES / "vn.yaml"))
    with pytest.raises(CountryPackError, match="is for VN, but this instance serves KH"):
        load_country_pack_from_env("KH")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CountryPackError, match=r"nowhere\.yaml cannot be read"):
        load_country_pack(tmp_path / "nowhere.yaml")


def test_broken_yaml_is_named(tmp_path: Path) -> None:
    with pytest.raises(CountryPackError, match="is not valid YAML"):
        load_country_pack(write(tmp_path, "country: [KH\n"))


def items(d: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = d["invoicing"]["price_list"]["items"]
    return found


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(time_zone="Asia/Atlantis"), "time_zone"),
        (lambda d: d.update(languages=["km"]), "languages must include en"),
        (lambda d: d["invoicing"].update(overdue_policy=[d["invoicing"]["overdue_policy"][1]] * 2), "overdue_policy"),
        (lambda d: items(d)[0].update(tiers=[{"min_quantity": 1, "unit_price": "1.00"}]), "either unit_price or tiers"),
        (lambda d: items(d).append(items(d)[0]), "one price item per service"),
        (lambda d: d["transparency"].update(publish_everything=True), "transparency.publish_everything"),
        (lambda d: d.update(country="Cambodia"), "country"),
    ],
)  # fmt: skip
def test_an_invalid_pack_is_refused_with_the_field_named(tmp_path: Path, change: Any, field: str) -> None:
    data = kh()
    change(data)
    with pytest.raises(CountryPackError, match="is invalid") as refused:
        load_country_pack(write(tmp_path, data))
    assert field in str(refused.value)


def test_every_service_loads_the_pack_at_start(monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(COUNTRIES / "kh.yaml"))
    for service in test_platform.services:
        app = test_platform.app(service, country="KH")
        assert app.state.country_pack.programme == "Better Factories Cambodia", service


def test_a_service_refuses_to_start_with_another_country_s_pack(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(COUNTRIES / "kh.yaml"))
    with pytest.raises(CountryPackError, match="is for KH, but this instance serves VN"):
        test_platform.app("invoicing", country="VN")


def test_without_a_pack_a_service_starts_with_its_defaults(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    assert test_platform.app("registry").state.country_pack is None
