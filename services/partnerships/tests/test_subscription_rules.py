"""The subscription rules as shipped (`data/subscriptions.yaml`), one test per rule, and what a rules file must say;
which webhook event types each kind of owner may ever receive; who reads what of an industry alert. No I/O beyond
reading the shipped file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from partnerships.adapters.subscription_rules import subscription_rules
from partnerships.domain.industry_alerts import IndustryAlert, IndustryAlertError, check_audience, groups_by_factories
from partnerships.domain.relationships import Tier
from partnerships.domain.subscriptions import INDUSTRY, ZERO_TOLERANCE, SubscriptionRulesError, parse_rules
from partnerships.domain.webhooks import EVENT_TYPES, never_received

# ---- the shipped rules, one test per rule ---------------------------------------------------------------------------


def test_partners_receive_zero_tolerance_alerts_at_their_factories() -> None:
    assert subscription_rules().receives(Tier.PARTNER, ZERO_TOLERANCE)


def test_partners_receive_industry_alerts() -> None:
    assert subscription_rules().receives(Tier.PARTNER, INDUSTRY)


def test_participants_receive_zero_tolerance_alerts_at_their_factories() -> None:
    assert subscription_rules().receives(Tier.PARTICIPANT, ZERO_TOLERANCE)


def test_participants_do_not_receive_industry_alerts() -> None:
    rules = subscription_rules()
    assert not rules.receives(Tier.PARTICIPANT, INDUSTRY)
    assert rules.tiers_receiving(INDUSTRY) == {Tier.PARTNER}
    assert rules.tiers_receiving(ZERO_TOLERANCE) == {Tier.PARTNER, Tier.PARTICIPANT}


def test_industry_alert_kinds_are_a_controlled_list() -> None:
    rules = subscription_rules()
    assert {"strike", "building_safety", "wage_decision"} <= set(rules.industry_alert_kinds)
    rules.check_industry_kind("strike")
    with pytest.raises(SubscriptionRulesError, match="'gossip' is not an industry alert kind"):
        rules.check_industry_kind("gossip")


def test_a_tier_the_rules_do_not_know_receives_nothing() -> None:
    assert not subscription_rules().receives("sponsor", ZERO_TOLERANCE)


# ---- what a rules file must say -------------------------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "version": 2,
    "tiers": {"partner": {"alerts": ["zero_tolerance", "industry"]}, "participant": {"alerts": []}},
    "industry_alert_kinds": {"strike": "Strike"},
}


def test_a_rules_file_can_change_who_receives_what() -> None:
    rules = parse_rules(GOOD)
    assert rules.version == 2 and not rules.receives(Tier.PARTICIPANT, ZERO_TOLERANCE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 0}, "version"),
        ({"tiers": {"partner": {"alerts": ["industry"]}}}, "lacks \\['participant'\\]"),
        ({"tiers": {**GOOD["tiers"], "sponsor": {"alerts": []}}}, "'sponsor' is not a tier"),
        ({"tiers": {**GOOD["tiers"], "partner": {"alerts": ["gossip"]}}}, "unknown alert families \\['gossip'\\]"),
        ({"tiers": {**GOOD["tiers"], "partner": {"alerts": ["industry", "industry"]}}}, "listed twice"),
        ({"tiers": {**GOOD["tiers"], "partner": "industry"}}, "alerts is a list"),
        ({"industry_alert_kinds": {}}, "industry_alert_kinds"),
        ({"industry_alert_kinds": {"Strike!": "x"}}, "lower-case word"),
        ({"industry_alert_kinds": {"strike": ""}}, "say what it means"),
        ({"extra": 1}, "unknown keys"),
    ],
)
def test_a_rules_file_that_is_not_clear_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SubscriptionRulesError, match=message):
        parse_rules(GOOD | change)


# ---- webhook event types by owner -----------------------------------------------------------------------------------


def test_buyers_may_subscribe_to_alerts_releases_and_access_changes_but_not_case_updates() -> None:
    assert never_received(["*", "alert.raised", "assessment.released", "report_access.revoked"], "buyer") == []
    assert never_received(["progress_report_access.granted", "zero_tolerance.case_updated"], "buyer") == [
        "zero_tolerance.case_updated"
    ]


def test_service_clients_may_subscribe_to_alerts_and_case_updates_but_not_releases() -> None:
    assert never_received(["alert.raised", "zero_tolerance.case_not_confirmed"], "service") == []
    assert never_received(["assessment.released", "report_access.granted"], "service") == [
        "assessment.released",
        "report_access.granted",
    ]


def test_every_event_type_reaches_someone() -> None:
    assert all(never_received([t], "buyer") == [] or never_received([t], "service") == [] for t in EVENT_TYPES)


# ---- industry alerts ------------------------------------------------------------------------------------------------


def test_an_alert_names_factories_or_a_province_not_both() -> None:
    check_audience([uuid.uuid4()], None)
    check_audience([], "Kandal")
    with pytest.raises(IndustryAlertError) as refused:
        check_audience([uuid.uuid4()], "Kandal")
    assert refused.value.field == "province"


def test_each_buyer_is_told_of_the_named_factories_it_sources_from_only() -> None:
    mine, theirs, first, second = (uuid.uuid4() for _ in range(4))
    groups = groups_by_factories({first: {mine}, second: {mine, theirs}}, [mine, theirs])
    assert sorted(map(sorted, groups.values())) == sorted(map(sorted, [[first], [second]]))
    assert groups[(mine,)] == [first]
    assert groups_by_factories({first: {mine}, second: {theirs}}, []) == {(): sorted([first, second], key=str)}

    alert = IndustryAlert(
        id=uuid.uuid4(), kind="strike", title="t", body="b", country="KH", factory_ids=[mine, theirs],
        province=None, buyer_ids=[first, second], endpoints=3, rules_version=1, issued_by="ea",
        issued_at=datetime.now(UTC),
    )  # fmt: skip
    seen = alert.as_seen_by_buyer(first, [mine])
    assert (seen.buyer_ids, seen.factory_ids, seen.endpoints) == ([first], [mine], None)
    assert alert.webhook_data(uuid.uuid4(), [mine])["factory_ids"] == [str(mine)]
