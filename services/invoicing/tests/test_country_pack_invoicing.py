"""The invoicing part of the country pack, through HTTP against real Postgres: the pack's price list is in force
once the service has started (seeded once, however often it starts), its payment terms set the due date of
every invoice issued (over HTTP, and from events: a per-assessment charge is due on the pack's terms too), and a
pack that disagrees with what invoicing holds stops the start, naming the field.

The instance serves "QK" (a user-assigned code no other test uses) so the seeded price list cannot meet
another test's lists in the shared database; its issuer and overdue policy are invoicing's defaults.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from betterwork_contracts.events.assessments import AssessmentScheduled
from devstack.broker import TansuBroker
from devstack.pytest_plugin import TestPlatform, serve_in_process
from devstack.testkit.access import staff
from devstack.testkit.database import fetch
from devstack.testkit.events import cloudevent_headers, on, produce_raw
from devstack.testkit.invoicing import finance, known_factory, price_list
from devstack.testkit.waiting import wait_until
from invoicing.domain.issuers import issuer_for
from invoicing.domain.overdue import policy_for
from servicekit.country_pack import CountryPackError

COUNTRIES = Path(__file__).resolve().parents[3] / "deploy" / "countries"
QUIET = {"relay_enabled": False, "consumer_enabled": False, "overdue_sweep_enabled": False}
EFFECTIVE = date.today() - timedelta(days=30)


def qk_pack(tmp_path: Path, name: str = "qk.yaml", *, country: str = "QK", **invoicing: Any) -> Path:
    """Cambodia's pack, moved to QK: issuer and overdue policy as invoicing holds them for an unlisted country."""
    data = yaml.safe_load((COUNTRIES / "kh.yaml").read_text(encoding="utf-8"))
    data["country"] = country
    part = data["invoicing"]
    part["issuing_entity"] = asdict(issuer_for(country))
    part["overdue_policy"] = [
        {"days_past_due": s.days_past_due, "action": s.action.value, "min_amount_due": dict(s.min_amount_due)}
        for s in policy_for(country).steps
    ]
    part["payment_terms_days"] = 45
    part["price_list"]["effective_from"] = EFFECTIVE.isoformat()
    part.update(invoicing)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def test_the_pack_s_price_list_and_payment_terms_drive_the_invoices(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path
) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(qk_pack(tmp_path)))
    headers = finance(test_platform, "QK")
    async with serve_in_process(test_platform.app("invoicing", **QUIET, country="QK")) as client:
        in_force = await client.get("/v1/price-lists/QK/in-force", headers=staff(test_platform, "QK"))
        assert in_force.status_code == 200, in_force.text
        version = in_force.json()
        assert version["effective_from"] == EFFECTIVE.isoformat() and version["currency"] == "USD"
        items = {i["service"]: i for i in version["items"]}
        assert items["service_package"]["unit_price_minor"] == 580000
        assert [t["unit_price_minor"] for t in items["buyer_credit"]["tiers"]] == [
            140000,
            130000,
            120000,
            110000,
            100000,
        ]
        assert version["group_discount_bps"] == 1000

        factory_id = await known_factory(test_platform, country="QK")
        drafted = await client.post(
            "/v1/invoices",
            json={
                "country": "QK",
                "customer_kind": "factory",
                "customer_id": str(factory_id),
                "lines": [{"service": "service_package", "quantity": 1}],
            },
            headers=headers,
        )
        assert drafted.status_code == 201, drafted.text
        issued = await client.post(f"/v1/invoices/{drafted.json()['id']}/issue", headers=headers)
        assert issued.status_code == 200, issued.text
        invoice = issued.json()
    assert invoice["number"].startswith("BWG-INV-")
    assert date.fromisoformat(invoice["due_date"]) - date.fromisoformat(invoice["issue_date"]) == timedelta(days=45)
    assert invoice["total_minor"] == 580000  # one factory of no group: no discount

    # Started again with the same pack: the version is there once.
    async with serve_in_process(test_platform.app("invoicing", **QUIET, country="QK")) as client:
        versions = (await client.get("/v1/price-lists/QK", headers=staff(test_platform, "QK"))).json()
    assert [v["effective_from"] for v in versions] == [EFFECTIVE.isoformat()]

    # A pack changing that day's prices cannot rewrite the stored version: the start stops.
    items = yaml.safe_load((COUNTRIES / "kh.yaml").read_text(encoding="utf-8"))["invoicing"]["price_list"]["items"]
    items[0]["unit_price"] = "6100.00"
    changed = yaml.safe_load(qk_pack(tmp_path).read_text(encoding="utf-8"))["invoicing"]["price_list"]
    monkeypatch.setenv("COUNTRY_PACK", str(qk_pack(tmp_path, "qk2.yaml", price_list=changed | {"items": items})))
    with pytest.raises(CountryPackError, match=r"differs from the version invoicing already holds for that day"):
        async with serve_in_process(test_platform.app("invoicing", **QUIET, country="QK")):
            pass


async def test_a_charge_issued_from_an_event_is_due_on_the_pack_s_payment_terms(
    monkeypatch: pytest.MonkeyPatch,
    test_platform: TestPlatform,
    tmp_path: Path,
    dedicated_broker: TansuBroker,
    topic_prefix: str,
) -> None:
    """The consumer has no settings: the terms stored at start ("QS" charges per assessment from today on)."""
    monkeypatch.setenv("COUNTRY_PACK", str(qk_pack(tmp_path, country="QS", payment_terms_days=21)))
    settings = on(dedicated_broker, topic_prefix, kafka_fetch_max_wait_ms=25)
    app = test_platform.app("invoicing", **settings, overdue_sweep_enabled=False, country="QS")
    async with serve_in_process(app) as client:
        items = [{"service": "assessment", "description": "Compliance assessment", "unit_price": "3500.00"}]
        await price_list(client, staff(test_platform, "QS"), "QS", items=items, effective_from=date.today().isoformat())
        factory_id = await known_factory(test_platform, country="QS")
        start = date.today() + timedelta(days=14)
        event = AssessmentScheduled(
            assessment_id=uuid.uuid4(),
            factory_id=factory_id,
            country="QS",
            cycle=1,
            assessment_type="initial",
            mode="announced",
            joint=False,
            tool_version_id=uuid.uuid4(),
            start_date=start,
            end_date=start + timedelta(days=1),
            scheduled_at=datetime.now(UTC),
        )
        headers = cloudevent_headers(event, source="/assessments", country="QS")
        await produce_raw(
            dedicated_broker.bootstrap_servers,
            topic_prefix + event.topic.name,
            [(event.aggregate_id.encode(), event.model_dump_json().encode(), headers)],
        )

        async def charges() -> list[dict[str, Any]]:
            found = await client.get(
                "/v1/invoices", params={"assessment_id": str(event.assessment_id)}, headers=finance(test_platform, "QS")
            )
            items: list[dict[str, Any]] = found.json()["items"]
            return items

        (invoice,) = await wait_until(charges, lambda found: len(found) == 1, timeout=30)
    assert invoice["status"] == "issued" and invoice["terms_days"] == 21
    assert date.fromisoformat(invoice["due_date"]) - date.fromisoformat(invoice["issue_date"]) == timedelta(days=21)
    stored = await fetch(test_platform, "invoicing", "SELECT days FROM invoicing.payment_terms WHERE country = 'QS'")
    assert [r["days"] for r in stored] == [21]


def test_an_explicit_payment_terms_setting_wins_over_the_pack(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path
) -> None:
    monkeypatch.setenv("COUNTRY_PACK", str(qk_pack(tmp_path)))
    assert test_platform.app("invoicing", **QUIET, country="QK").state.settings.payment_terms_days == 45
    app = test_platform.app("invoicing", **QUIET, country="QK", payment_terms_days=10)
    assert app.state.settings.payment_terms_days == 10


def test_a_pack_naming_another_issuer_or_overdue_policy_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform, tmp_path: Path
) -> None:
    issuer = asdict(issuer_for("QK")) | {"name": "Someone Else Ltd"}
    monkeypatch.setenv("COUNTRY_PACK", str(qk_pack(tmp_path, issuing_entity=issuer)))
    with pytest.raises(CountryPackError, match=r"invoicing.issuing_entity.name is 'Someone Else Ltd'"):
        test_platform.app("invoicing", **QUIET, country="QK")
    monkeypatch.setenv(
        "COUNTRY_PACK", str(qk_pack(tmp_path, overdue_policy=[{"days_past_due": 5, "action": "reminder"}]))
    )
    with pytest.raises(CountryPackError, match=r"invoicing.overdue_policy differs"):
        test_platform.app("invoicing", **QUIET, country="QK")


def test_every_shipped_pack_agrees_with_what_invoicing_holds(
    monkeypatch: pytest.MonkeyPatch, test_platform: TestPlatform
) -> None:
    monkeypatch.delenv("COUNTRY_PACK", raising=False)
    for iso in ("KH", "VN", "JO", "BD", "ID"):
        app = test_platform.app("invoicing", **QUIET, country=iso)
        assert app.state.settings.payment_terms_days == app.state.country_pack.invoicing.payment_terms_days, iso
