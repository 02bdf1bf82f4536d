"""The transparency part of the country pack (`pack.transparency`): the publication rules of the instance.

Transparency computes every publication of a country under the newest shipped rule set that covers it
(`domain/rule_sets/*.json`, versioned so a release can be rebuilt). At start the pack's rules are checked
against that rule set: a pack that would name other factories, other issues or show other replies (its issue
list, its cycle, the assessments a factory needs, low-compliance naming, consecutive cycles, the factory's right of
reply) stops the start, naming the field, so an instance never publishes under rules other than its pack's.
"""

from __future__ import annotations

from servicekit.country_pack import CountryPack, CountryPackError
from transparency.domain.rules import PublicationRuleSet, rule_set_for

# The tool's list of publicly reported issues a pack names, as the rule set selects it: (selection, issue count).
REPORTED_ISSUES: dict[str, tuple[str, int | None]] = {
    "bfc_critical_21": ("listed_codes", 21),
    "bw_public_reporting": ("publicly_reported_tag", None),
}


def publication_rules_of(pack: CountryPack | None) -> PublicationRuleSet | None:
    """The rule set transparency applies to the pack's country, checked against the pack (CountryPackError on a
    difference that changes who or what is published); None without a pack."""
    if pack is None:
        return None
    rules = rule_set_for(pack.country)
    if rules is None:
        raise CountryPackError(
            f"country pack for {pack.country}: transparency has no publication rule set for {pack.country}"
        )
    part = pack.transparency
    if part.reported_issues not in REPORTED_ISSUES:
        raise CountryPackError(
            f"country pack for {pack.country}: transparency.reported_issues {part.reported_issues!r} is not a list "
            f"transparency knows ({', '.join(sorted(REPORTED_ISSUES))})"
        )
    selection, count = REPORTED_ISSUES[part.reported_issues]
    low = rules.low_compliance
    checks: list[tuple[str, object, object]] = [
        (
            "reported_issues",
            (selection, count),
            (rules.issues.select, len(rules.issues.codes) if selection == "listed_codes" else None),
        ),
        ("cycle", part.cycle, rules.period),
        ("min_assessments", part.min_assessments, rules.min_assessments),
        ("low_compliance_naming", part.low_compliance_naming, low is not None),
        (
            "low_compliance_min_assessments",
            part.low_compliance_min_assessments if part.low_compliance_naming else None,
            low.min_assessments if low is not None else None,
        ),
        (
            "repeat_cycles_required",
            part.repeat_cycles_required,
            rules.consecutive_cycles - 1 if rules.consecutive_cycles is not None else None,
        ),
        ("factory_may_reply", part.factory_may_reply, rules.right_of_reply),
    ]
    for field, ours, theirs in checks:
        if ours != theirs:
            raise CountryPackError(
                f"country pack for {pack.country}: transparency.{field} is {ours!r}, but the publication rule set "
                f"{rules.key} that transparency applies to {pack.country} has {theirs!r}"
            )
    return rules
