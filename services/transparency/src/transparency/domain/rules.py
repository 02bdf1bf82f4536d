"""Publication rules per country, held as data (`rule_sets/*.json`) and read into frozen records.

A rule set says which issues are published, how many assessments a factory needs before it is named, how
assessments are counted (cycles, or calendar years as Better Factories Cambodia counts them), the low-compliance
rule (mean minus k standard deviations), the consecutive-cycles rule (Bangladesh), whether the factory may reply
publicly and what counts as remediated. Each set is versioned: a release records the code and version it used,
and a new version is a new file beside the old one, so an old release can still be rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

IssueSelection = Literal["publicly_reported_tag", "listed_codes"]
Counting = Literal["cycles", "calendar_years"]
Period = Literal["rolling", "calendar_year"]
Remediated = Literal["advisor_verified", "next_assessment"]


class RuleSetError(ValueError):
    """A rule set file that cannot be used as written."""


@dataclass(frozen=True)
class LowComplianceRule:
    min_assessments: int
    requirements: tuple[str, ...]  # question codes; empty: every question answered compliant or not
    standard_deviations: float
    max_age_days: int | None
    min_population: int  # fewer eligible factories than this: nobody is named (a mean of one is no yardstick)


@dataclass(frozen=True)
class IssueSelector:
    select: IssueSelection
    codes: tuple[str, ...]
    titles: dict[str, str]

    def selects(self, question_code: str, publicly_reported: bool) -> bool:
        if self.select == "listed_codes":
            return question_code in self.codes
        return publicly_reported


@dataclass(frozen=True)
class PublicationRuleSet:
    code: str
    version: int
    title: str
    countries: tuple[str, ...]
    issues: IssueSelector
    min_assessments: int
    assessments_counted: Counting
    period: Period
    max_age_days: int | None
    low_compliance: LowComplianceRule | None
    consecutive_cycles: int | None
    right_of_reply: bool
    remediated_when: Remediated
    notes: str

    @property
    def key(self) -> str:
        return f"{self.code}@{self.version}"


def parse_rule_set(document: dict[str, object]) -> PublicationRuleSet:
    """One rule set from its JSON document; refuses values the computation cannot honour."""
    try:
        issues = document["issues"]
        assert isinstance(issues, dict)
        low = document.get("low_compliance")
        rule = PublicationRuleSet(
            code=str(document["code"]),
            version=int(document["version"]),  # type: ignore[call-overload]
            title=str(document["title"]),
            countries=tuple(document["countries"]),  # type: ignore[arg-type]
            issues=IssueSelector(
                select=issues["select"], codes=tuple(issues.get("codes", ())), titles=dict(issues.get("titles", {}))
            ),
            min_assessments=int(document["min_assessments"]),  # type: ignore[call-overload]
            assessments_counted=document["assessments_counted"],  # type: ignore[arg-type]
            period=document["period"],  # type: ignore[arg-type]
            max_age_days=document.get("max_age_days"),  # type: ignore[arg-type]
            low_compliance=(
                LowComplianceRule(
                    min_assessments=int(low["min_assessments"]),
                    requirements=tuple(low.get("requirements", ())),
                    standard_deviations=float(low["standard_deviations"]),
                    max_age_days=low.get("max_age_days"),
                    min_population=int(low.get("min_population", 2)),
                )
                if isinstance(low, dict)
                else None
            ),
            consecutive_cycles=document.get("consecutive_cycles"),  # type: ignore[arg-type]
            right_of_reply=bool(document["right_of_reply"]),
            remediated_when=document["remediated_when"],  # type: ignore[arg-type]
            notes=str(document.get("notes", "")),
        )
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise RuleSetError(f"rule set {document.get('code')!r} is incomplete: {exc}") from exc
    if rule.issues.select not in ("publicly_reported_tag", "listed_codes"):
        raise RuleSetError(f"{rule.key}: unknown issue selection {rule.issues.select!r}")
    if rule.issues.select == "listed_codes" and not rule.issues.codes:
        raise RuleSetError(f"{rule.key}: a listed selection needs its codes")
    if rule.assessments_counted not in ("cycles", "calendar_years") or rule.period not in ("rolling", "calendar_year"):
        raise RuleSetError(f"{rule.key}: unknown counting or period")
    if rule.remediated_when not in ("advisor_verified", "next_assessment"):
        raise RuleSetError(f"{rule.key}: unknown remediation rule {rule.remediated_when!r}")
    if rule.min_assessments < 1 or (rule.consecutive_cycles is not None and rule.consecutive_cycles < 2):
        raise RuleSetError(f"{rule.key}: thresholds out of range")
    return rule


@cache
def shipped_rule_sets() -> dict[str, PublicationRuleSet]:
    """Every rule set shipped with the service, by `code@version`."""
    found: dict[str, PublicationRuleSet] = {}
    for entry in sorted(resources.files("transparency.domain").joinpath("rule_sets").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            rule = parse_rule_set(json.loads(entry.read_text(encoding="utf-8")))
            found[rule.key] = rule
    return found


def rule_set_for(country: str, rule_sets: dict[str, PublicationRuleSet] | None = None) -> PublicationRuleSet | None:
    """The newest rule set that covers `country`, or None when the country publishes nothing."""
    candidates = [r for r in (rule_sets or shipped_rule_sets()).values() if country in r.countries]
    return max(candidates, key=lambda r: r.version, default=None)
