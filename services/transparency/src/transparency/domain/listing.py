"""Which factories a country publishes, and what is shown for each: a rule set applied to a snapshot.

Pure and deterministic: the same snapshot, rule set, country and cut-off give the same listing, in the same order
(factories by id, issues by question code), which is what makes a release rebuild byte for byte.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import date

from transparency.domain.facts import AssessmentFacts, FactoryFacts, Snapshot
from transparency.domain.rules import PublicationRuleSet


@dataclass(frozen=True)
class ListedIssue:
    question_code: str
    title: str
    cluster: str
    compliance_point: str
    result: str  # compliant, non_compliant, not_applicable
    remediation: str  # "", verified (an advisor verified the fix since the assessment)
    reply: str  # the factory's public reply, "" if none
    reply_status: str  # "", unverified, verified


@dataclass(frozen=True)
class ListedFactory:
    factory_id: uuid.UUID
    name: str
    country: str
    province: str
    sector: str
    workers_total: int | None
    assessment_id: uuid.UUID
    cycle: int
    assessed_on: date
    assessments_counted: int
    low_compliance: bool
    compliance_rate: float | None  # on the low-compliance requirements, when the rule applies to the factory
    issues: tuple[ListedIssue, ...]

    @property
    def non_compliant(self) -> int:
        return sum(1 for i in self.issues if i.result == "non_compliant")


@dataclass(frozen=True)
class Listing:
    country: str
    rule_set: str
    cut_off: date
    factories: tuple[ListedFactory, ...]


def assessments_counted(rules: PublicationRuleSet, assessments: list[AssessmentFacts]) -> int:
    """How many assessments count towards the minimum: distinct cycles, or distinct calendar years (BFC)."""
    if rules.assessments_counted == "calendar_years":
        return len({a.assessed_on.year for a in assessments})
    return len({a.cycle for a in assessments})


def in_period(rules: PublicationRuleSet, assessed_on: date, cut_off: date) -> bool:
    """A calendar-year rule set reports on whole years: an assessment of the cut-off's own year waits for the
    year to close, unless the cut-off is the year's last day."""
    if rules.period == "calendar_year":
        closed_year = cut_off.year if (cut_off.month, cut_off.day) == (12, 31) else cut_off.year - 1
        return assessed_on.year <= closed_year
    return assessed_on <= cut_off


def persistent_issues(rules: PublicationRuleSet, assessments: list[AssessmentFacts]) -> bool:
    """The consecutive-cycles rule: the last N assessments have consecutive cycle numbers, and each has at least
    one non-compliance on a listed issue."""
    n = rules.consecutive_cycles
    if n is None:
        return True
    by_cycle = {a.cycle: a for a in assessments}
    if len(by_cycle) < n:
        return False
    last = sorted(by_cycle)[-n:]
    if last[-1] - last[0] != n - 1:
        return False
    return all(
        any(
            o.result == "non_compliant" and rules.issues.selects(code, o.publicly_reported)
            for code, o in by_cycle[c].results.items()
        )
        for c in last
    )


def compliance_rate(requirements: tuple[str, ...], assessment: AssessmentFacts) -> float | None:
    """Share of the requirements (all questions when none are listed) answered compliant; None if none apply."""
    answered = [
        o.result
        for code, o in assessment.results.items()
        if o.result != "not_applicable" and (not requirements or code in requirements)
    ]
    if not answered:
        return None
    return sum(1 for r in answered if r == "compliant") / len(answered)


def low_compliance_flags(
    rules: PublicationRuleSet, eligible: dict[uuid.UUID, list[AssessmentFacts]], cut_off: date
) -> dict[uuid.UUID, tuple[bool, float | None]]:
    """Per factory: (named as low-compliance, its rate) under the mean-minus-k-SD rule (population SD)."""
    rule = rules.low_compliance
    if rule is None:
        return {}
    rates: dict[uuid.UUID, float] = {}
    for factory_id, assessments in eligible.items():
        latest = assessments[-1]
        if assessments_counted(rules, assessments) < rule.min_assessments:
            continue
        if rule.max_age_days is not None and (cut_off - latest.assessed_on).days > rule.max_age_days:
            continue
        rate = compliance_rate(rule.requirements, latest)
        if rate is not None:
            rates[factory_id] = rate
    if len(rates) < rule.min_population:
        return {f: (False, r) for f, r in rates.items()}
    values = list(rates.values())
    threshold = statistics.fmean(values) - rule.standard_deviations * statistics.pstdev(values)
    return {f: (r < threshold, r) for f, r in rates.items()}


def compute_listing(snapshot: Snapshot, rules: PublicationRuleSet, country: str, cut_off: date) -> Listing:
    """The factories of `country` that `rules` publish as of `cut_off`, and their issues."""
    per_factory: dict[uuid.UUID, list[AssessmentFacts]] = {}
    for factory_id, assessments in snapshot.assessments_of().items():
        factory = snapshot.factories.get(factory_id)
        if factory is None or factory.country != country or factory.merged_into is not None:
            continue
        in_scope = [a for a in assessments if in_period(rules, a.assessed_on, cut_off)]
        if in_scope:
            per_factory[factory_id] = in_scope
    flags = low_compliance_flags(rules, per_factory, cut_off)
    listed: list[ListedFactory] = []
    for factory_id in sorted(per_factory, key=str):
        assessments = per_factory[factory_id]
        counted = assessments_counted(rules, assessments)
        latest = assessments[-1]
        if counted < rules.min_assessments:
            continue
        if rules.max_age_days is not None and (cut_off - latest.assessed_on).days > rules.max_age_days:
            continue
        if not persistent_issues(rules, assessments):
            continue
        factory = snapshot.factories[factory_id]
        low, rate = flags.get(factory_id, (False, None))
        listed.append(_listed(snapshot, rules, factory, latest, counted, low, rate))
    return Listing(country=country, rule_set=rules.key, cut_off=cut_off, factories=tuple(listed))


def _listed(
    snapshot: Snapshot,
    rules: PublicationRuleSet,
    factory: FactoryFacts,
    latest: AssessmentFacts,
    counted: int,
    low: bool,
    rate: float | None,
) -> ListedFactory:
    issues = []
    for code in sorted(latest.results):
        outcome = latest.results[code]
        if not rules.issues.selects(code, outcome.publicly_reported):
            continue
        remediation = ""
        if outcome.result == "non_compliant" and rules.remediated_when == "advisor_verified":
            verified = snapshot.verified_at(factory.factory_id, code)
            if verified is not None and verified.date() >= latest.assessed_on:
                remediation = "verified"
        reply_text, reply_status = "", ""
        reply = snapshot.reply(factory.factory_id, code) if rules.right_of_reply else None
        if reply is not None and reply.at.date() >= latest.assessed_on and outcome.result == "non_compliant":
            reply_text = reply.text
            reply_status = "verified" if remediation == "verified" else "unverified"
        issues.append(
            ListedIssue(
                question_code=code,
                title=rules.issues.titles.get(code, code),
                cluster=outcome.cluster,
                compliance_point=outcome.compliance_point,
                result=outcome.result,
                remediation=remediation,
                reply=reply_text,
                reply_status=reply_status,
            )
        )
    return ListedFactory(
        factory_id=factory.factory_id,
        name=factory.name,
        country=factory.country,
        province=factory.province or "",
        sector=factory.sector or "",
        workers_total=factory.workers_total,
        assessment_id=latest.assessment_id,
        cycle=latest.cycle,
        assessed_on=latest.assessed_on,
        assessments_counted=counted,
        low_compliance=low,
        compliance_rate=None if rate is None else round(rate, 4),
        issues=tuple(issues),
    )


def factory_document(f: ListedFactory) -> dict[str, object]:
    """The public JSON form of a listed factory, as a release stores and the API serves it."""
    return {
        "factory_id": str(f.factory_id),
        "name": f.name,
        "country": f.country,
        "province": f.province,
        "sector": f.sector,
        "assessment_id": str(f.assessment_id),
        "cycle": f.cycle,
        "assessed_on": f.assessed_on.isoformat(),
        "assessments_counted": f.assessments_counted,
        "low_compliance": f.low_compliance,
        "compliance_rate": f.compliance_rate,
        "non_compliant_issues": f.non_compliant,
        "issues": [
            {
                "question_code": i.question_code,
                "title": i.title,
                "cluster": i.cluster,
                "compliance_point": i.compliance_point,
                "result": i.result,
                "remediation": i.remediation,
                "reply": i.reply,
                "reply_status": i.reply_status,
            }
            for i in f.issues
        ],
    }
