"""The three shipped rule sets on hand-made cases, checked by hand: who is named, which issues are shown, the
low-compliance rule, the consecutive-cycles rule, replies and verified fixes; and merges followed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from transparency.domain.facts import (
    ASSESSMENT_FINALISED,
    ASSESSMENT_REVISED,
    FACTORY_MERGED,
    FACTORY_REGISTERED,
    ITEM_STATUS,
    REPLY,
    Fact,
    fold,
)
from transparency.domain.listing import compute_listing
from transparency.domain.rules import RuleSetError, parse_rule_set, rule_set_for, shipped_rule_sets

RULES = shipped_rule_sets()
BW, BFC, BD = RULES["better-work-portal@1"], RULES["bfc-public-reporting@1"], RULES["better-work-bangladesh@1"]


class Log:
    """A fact log written by hand."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(self, kind: str, at: datetime, **payload: object) -> None:
        self.facts.append(Fact(len(self.facts) + 1, kind, at, payload))

    def factory(self, country: str, name: str, **profile: object) -> uuid.UUID:
        factory_id = uuid.uuid4()
        self.add(
            FACTORY_REGISTERED,
            datetime(2020, 1, 1, tzinfo=UTC),
            factory_id=str(factory_id),
            name=name,
            country=country,
            **profile,
        )
        return factory_id

    def assessment(
        self,
        factory_id: uuid.UUID,
        country: str,
        cycle: int,
        on: date,
        results: dict[str, str],
        *,
        reported: set[str] | None = None,
    ) -> uuid.UUID:
        assessment_id = uuid.uuid4()
        rows = [
            {
                "question_code": code,
                "compliance_point": code.rsplit("-", 1)[0],
                "cluster": code.split("-")[1],
                "result": result,
                "publicly_reported": reported is None or code in reported,
            }
            for code, result in results.items()
        ]
        self.add(
            ASSESSMENT_FINALISED,
            datetime.combine(on, datetime.min.time(), UTC),
            assessment_id=str(assessment_id),
            factory_id=str(factory_id),
            country=country,
            cycle=cycle,
            assessed_on=on.isoformat(),
            results=rows,
        )
        return assessment_id


def names(listing: object) -> list[str]:
    return sorted(f.name for f in listing.factories)  # type: ignore[attr-defined]


def test_each_country_has_its_rule_set() -> None:
    assert rule_set_for("VN") is BW and rule_set_for("JO") is BW
    assert rule_set_for("KH") is BFC and rule_set_for("BD") is BD
    assert rule_set_for("FR") is None
    assert len(BFC.issues.codes) == 21 and BFC.issues.titles["KH-OS-18"].startswith("Emergency exit doors are unlocked")


def test_a_broken_rule_set_is_refused() -> None:
    doc = {
        "code": "x",
        "version": 1,
        "title": "x",
        "countries": ["VN"],
        "min_assessments": 1,
        "assessments_counted": "cycles",
        "period": "rolling",
        "right_of_reply": True,
        "remediated_when": "advisor_verified",
        "issues": {"select": "listed_codes", "codes": []},
    }
    with pytest.raises(RuleSetError):
        parse_rule_set(doc)
    with pytest.raises(RuleSetError):
        parse_rule_set({**doc, "issues": {"select": "everything"}})


def test_better_work_shows_the_latest_assessment_only_on_publicly_reported_issues() -> None:
    log = Log()
    a = log.factory("VN", "Alpha Garment", province="Dong Nai")
    log.assessment(a, "VN", 1, date(2024, 3, 1), {"VN-CL-01": "non_compliant", "VN-OSH-02": "non_compliant"})
    log.assessment(
        a,
        "VN",
        2,
        date(2025, 3, 1),
        {"VN-CL-01": "compliant", "VN-OSH-02": "non_compliant", "VN-WT-09": "non_compliant"},
        reported={"VN-CL-01", "VN-OSH-02"},
    )
    other = log.factory("KH", "Not Vietnam")
    log.assessment(other, "KH", 1, date(2025, 1, 1), {"KH-CL-01": "non_compliant"})

    listing = compute_listing(fold(log.facts), BW, "VN", date(2025, 6, 30))

    (f,) = listing.factories
    assert (f.name, f.cycle, f.assessments_counted, f.province) == ("Alpha Garment", 2, 2, "Dong Nai")
    # WT-09 is not publicly reported; CL-01 was fixed by the latest assessment
    assert [(i.question_code, i.result) for i in f.issues] == [
        ("VN-CL-01", "compliant"),
        ("VN-OSH-02", "non_compliant"),
    ]
    assert f.non_compliant == 1


def test_an_assessment_after_the_cut_off_is_not_used() -> None:
    log = Log()
    a = log.factory("VN", "Alpha")
    log.assessment(a, "VN", 1, date(2025, 3, 1), {"VN-CL-01": "non_compliant"})
    log.assessment(a, "VN", 2, date(2025, 9, 1), {"VN-CL-01": "compliant"})
    (f,) = compute_listing(
        fold(log.facts, cut_off=datetime(2025, 6, 30, tzinfo=UTC)), BW, "VN", date(2025, 6, 30)
    ).factories
    assert (f.cycle, f.issues[0].result) == (1, "non_compliant")


def test_a_reply_shows_unverified_until_an_advisor_verifies_the_fix() -> None:
    log = Log()
    a = log.factory("VN", "Alpha")
    log.assessment(a, "VN", 1, date(2025, 3, 1), {"VN-OSH-02": "non_compliant"})
    log.add(
        REPLY,
        datetime(2025, 3, 10, tzinfo=UTC),
        factory_id=str(a),
        question_code="VN-OSH-02",
        text="The exit is clear now.",
    )
    issue = compute_listing(fold(log.facts), BW, "VN", date(2025, 6, 30)).factories[0].issues[0]
    assert (issue.reply, issue.reply_status, issue.remediation) == ("The exit is clear now.", "unverified", "")

    log.add(
        ITEM_STATUS, datetime(2025, 4, 1, tzinfo=UTC), factory_id=str(a), question_code="VN-OSH-02", status="verified"
    )
    issue = compute_listing(fold(log.facts), BW, "VN", date(2025, 6, 30)).factories[0].issues[0]
    assert (issue.reply_status, issue.remediation, issue.result) == ("verified", "verified", "non_compliant")

    log.add(
        ITEM_STATUS, datetime(2025, 5, 1, tzinfo=UTC), factory_id=str(a), question_code="VN-OSH-02", status="reopened"
    )
    issue = compute_listing(fold(log.facts), BW, "VN", date(2025, 6, 30)).factories[0].issues[0]
    assert (issue.reply_status, issue.remediation) == ("unverified", "")


def test_a_merged_factory_counts_for_its_survivor() -> None:
    log = Log()
    survivor, merged = log.factory("VN", "Alpha"), log.factory("VN", "Alpha (duplicate)")
    log.assessment(merged, "VN", 1, date(2025, 3, 1), {"VN-CL-01": "non_compliant"})
    log.add(FACTORY_MERGED, datetime(2025, 4, 1, tzinfo=UTC), factory_id=str(merged), survivor_id=str(survivor))
    (f,) = compute_listing(fold(log.facts), BW, "VN", date(2025, 6, 30)).factories
    assert (f.factory_id, f.name) == (survivor, "Alpha")


def test_a_revision_changes_the_published_result() -> None:
    log = Log()
    a = log.factory("VN", "Alpha")
    assessment = log.assessment(a, "VN", 1, date(2025, 3, 1), {"VN-CL-01": "non_compliant"})
    log.add(
        ASSESSMENT_REVISED,
        datetime(2025, 4, 1, tzinfo=UTC),
        assessment_id=str(assessment),
        question_code="VN-CL-01",
        result="compliant",
    )
    assert compute_listing(fold(log.facts), BW, "VN", date(2025, 6, 30)).factories[0].issues[0].result == "compliant"


def _bfc_results(non_compliant: int, total: int = 10, critical: str = "compliant") -> dict[str, str]:
    results = {f"KH-LR-{n:02d}": "non_compliant" if n < non_compliant else "compliant" for n in range(total)}
    results["KH-OS-18"] = critical
    return results


def test_bfc_names_factories_after_two_annual_assessments_only() -> None:
    log = Log()
    once = log.factory("KH", "Once")
    twice_same_year = log.factory("KH", "Twice in one year")
    two_years = log.factory("KH", "Two years")
    log.assessment(once, "KH", 1, date(2024, 5, 1), _bfc_results(0, critical="non_compliant"))
    log.assessment(twice_same_year, "KH", 1, date(2024, 2, 1), _bfc_results(0))
    log.assessment(twice_same_year, "KH", 2, date(2024, 11, 1), _bfc_results(0))
    log.assessment(two_years, "KH", 1, date(2023, 5, 1), _bfc_results(0))
    log.assessment(two_years, "KH", 2, date(2024, 5, 1), _bfc_results(0, critical="non_compliant"))

    listing = compute_listing(fold(log.facts), BFC, "KH", date(2025, 3, 31))

    assert names(listing) == ["Two years"]
    (f,) = listing.factories
    # only the 21 critical issues are shown, with their BFC wording; the other ten questions are not
    assert [(i.question_code, i.title, i.result) for i in f.issues] == [
        ("KH-OS-18", "Emergency exit doors are unlocked during working hours", "non_compliant")
    ]


def test_bfc_reports_on_closed_calendar_years() -> None:
    log = Log()
    a = log.factory("KH", "Alpha")
    log.assessment(a, "KH", 1, date(2023, 5, 1), _bfc_results(0))
    log.assessment(a, "KH", 2, date(2024, 5, 1), _bfc_results(0))
    log.assessment(a, "KH", 3, date(2025, 2, 1), _bfc_results(0, critical="non_compliant"))
    # cut-off in March 2025: the year 2025 is not closed, the 2024 assessment is the latest shown
    (f,) = compute_listing(fold(log.facts), BFC, "KH", date(2025, 3, 31)).factories
    assert (f.cycle, f.issues[0].result) == (2, "compliant")
    (f,) = compute_listing(fold(log.facts), BFC, "KH", date(2025, 12, 31)).factories
    assert (f.cycle, f.issues[0].result) == (3, "non_compliant")


def test_bfc_low_compliance_is_two_standard_deviations_below_the_mean() -> None:
    """Ten factories with three annual assessments: nine answer 10 of 11 questions compliant (rate 10/11), one
    answers 2 of 11 (rate 2/11). Mean = (9*10/11 + 2/11)/10 = 92/110 = 0.8364; population SD = sqrt(9/10*1/10) *
    8/11 = 0.3*0.7273 = 0.2182; threshold 0.8364 - 0.4364 = 0.4; only 2/11 = 0.18 is below it. A factory with
    only two assessments is measured on critical issues but is not in the low-compliance population."""
    log = Log()
    for n in range(9):
        f = log.factory("KH", f"Good {n}")
        for year in (2022, 2023, 2024):
            log.assessment(f, "KH", year - 2021, date(year, 6, 1), _bfc_results(1))
    low = log.factory("KH", "Low")
    for year in (2022, 2023, 2024):
        log.assessment(low, "KH", year - 2021, date(year, 6, 1), _bfc_results(9))
    young = log.factory("KH", "Young")
    for year in (2023, 2024):
        log.assessment(young, "KH", year - 2022, date(year, 6, 1), _bfc_results(10))

    listing = compute_listing(fold(log.facts), BFC, "KH", date(2024, 12, 31))

    flagged = {f.name: (f.low_compliance, f.compliance_rate) for f in listing.factories}
    assert flagged["Low"] == (True, round(2 / 11, 4))
    assert flagged["Good 0"] == (False, round(10 / 11, 4))
    assert flagged["Young"] == (False, None)
    assert sum(1 for v in flagged.values() if v[0]) == 1


def test_bfc_low_compliance_needs_a_recent_assessment() -> None:
    log = Log()
    for n in range(9):
        f = log.factory("KH", f"Good {n}")
        for year in (2022, 2023, 2024):
            log.assessment(f, "KH", year - 2021, date(year, 6, 1), _bfc_results(1))
    low = log.factory("KH", "Low but old")
    for year in (2021, 2022, 2023):
        log.assessment(low, "KH", year - 2020, date(year, 1, 10), _bfc_results(9))
    flagged = {
        f.name: f.low_compliance for f in compute_listing(fold(log.facts), BFC, "KH", date(2024, 12, 31)).factories
    }
    assert flagged["Low but old"] is False  # latest assessment older than 12 months at the cut-off


def test_bangladesh_lists_only_critical_issues_in_three_consecutive_cycles() -> None:
    log = Log()
    persistent, fixed, gap = log.factory("BD", "Persistent"), log.factory("BD", "Fixed once"), log.factory("BD", "Gap")
    for cycle in (1, 2, 3):
        log.assessment(persistent, "BD", cycle, date(2021 + cycle, 3, 1), {"BD-OSH-01": "non_compliant"})
        log.assessment(
            fixed, "BD", cycle, date(2021 + cycle, 3, 1), {"BD-OSH-01": "compliant" if cycle == 2 else "non_compliant"}
        )
    for cycle in (1, 2, 4):  # cycle 3 missing: not consecutive
        log.assessment(gap, "BD", cycle, date(2021 + cycle, 3, 1), {"BD-OSH-01": "non_compliant"})
    two = log.factory("BD", "Only two cycles")
    for cycle in (1, 2):
        log.assessment(two, "BD", cycle, date(2021 + cycle, 3, 1), {"BD-OSH-01": "non_compliant"})

    assert names(compute_listing(fold(log.facts), BD, "BD", date(2026, 1, 1))) == ["Persistent"]


def test_bangladesh_shows_no_verified_fix_before_the_next_assessment() -> None:
    log = Log()
    f = log.factory("BD", "Persistent")
    for cycle in (1, 2, 3):
        log.assessment(f, "BD", cycle, date(2021 + cycle, 3, 1), {"BD-OSH-01": "non_compliant"})
    log.add(
        ITEM_STATUS, datetime(2024, 6, 1, tzinfo=UTC), factory_id=str(f), question_code="BD-OSH-01", status="verified"
    )
    issue = compute_listing(fold(log.facts), BD, "BD", date(2026, 1, 1)).factories[0].issues[0]
    assert (issue.result, issue.remediation) == ("non_compliant", "")
