"""The transparency part of the country pack (`pack.transparency`): the publication rules of the instance.

Transparency computes every publication of a country under the newest shipped rule set that covers it
(`domain/rule_sets/*.json`, versioned so a release can be rebuilt). At start the pack's rules are checked
against that rule set: a pack that would name other factories or other issues (its issue list, its cycle, the
assessments a factory needs, low-compliance naming, consecutive cycles) stops the start, naming the field, so an
instance never publishes under rules other than its pack's. A pack that disagrees only on the factory's right
of reply is started with a warning: the rule set decides what a release shows, and the difference is for the
programme to settle in the pack or in a new rule set version.
"""

from __future__ import annotations

import logging

from servicekit.country_pack import CountryPack, CountryPackError
from transparency.domain.rules import PublicationRuleSet, rule_set_for

_log = logging.getLogger("transparency.country_pack")

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
    ]
    for field, ours, theirs in checks:
        if ours != theirs:
            raise CountryPackError(
                f"country pack for {pack.country}: transparency.{field} is {ours!r}, but the publication rule set "
                f"{rules.key} that transparency applies to {pack.country} has {theirs!r}"
            )
    if part.factory_may_reply != rules.right_of_reply:
        _log.warning(
            "country pack for %s: transparency.factory_may_reply is %s, but rule set %s %s factory replies; "
            "releases follow the rule set",
            pack.country,
            part.factory_may_reply,
            rules.key,
            "publishes" if rules.right_of_reply else "does not publish",
        )
    return rules
