"""Who receives which alerts, as data: the tier rules and the industry alert kinds of `data/subscriptions.yaml`.

Partners get rapid alerts (zero tolerance at their factories and industry alerts staff issue), participants zero
tolerance at their factories only: the file says so, this module checks the file and answers questions about it.
Reading the file is the adapter's (`adapters/subscription_rules.py`); here only its parsed content is judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from partnerships.domain.relationships import Tier

ZERO_TOLERANCE, INDUSTRY = "zero_tolerance", "industry"
ALERT_FAMILIES: tuple[str, ...] = (ZERO_TOLERANCE, INDUSTRY)


class SubscriptionRulesError(ValueError):
    """The rules file does not say clearly who receives what."""


@dataclass(frozen=True)
class SubscriptionRules:
    version: int
    tier_alerts: Mapping[Tier, frozenset[str]]  # tier -> alert families it receives
    industry_alert_kinds: Mapping[str, str]  # kind -> what it means

    def receives(self, tier: Tier | str, family: str) -> bool:
        """Whether a buyer of `tier` is alerted of alerts of `family`."""
        try:
            return family in self.tier_alerts[Tier(tier)]
        except ValueError:
            return False  # a tier this version does not know receives nothing

    def tiers_receiving(self, family: str) -> frozenset[Tier]:
        return frozenset(tier for tier, families in self.tier_alerts.items() if family in families)

    def check_industry_kind(self, kind: str) -> None:
        if kind not in self.industry_alert_kinds:
            known = ", ".join(sorted(self.industry_alert_kinds))
            raise SubscriptionRulesError(f"{kind!r} is not an industry alert kind; the kinds are {known}")


def parse_rules(raw: Any) -> SubscriptionRules:
    """The rules of a parsed file, or `SubscriptionRulesError` naming what is wrong with it."""
    if not isinstance(raw, Mapping):
        raise SubscriptionRulesError("the rules are a mapping with version, tiers and industry_alert_kinds")
    unknown = set(raw) - {"version", "tiers", "industry_alert_kinds"}
    if unknown:
        raise SubscriptionRulesError(f"unknown keys {sorted(unknown)}")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SubscriptionRulesError("version is a whole number from 1")
    tiers = raw.get("tiers")
    if not isinstance(tiers, Mapping):
        raise SubscriptionRulesError("tiers maps each tier to the alert families it receives")
    missing = {t.value for t in Tier} - set(tiers)
    if missing:
        raise SubscriptionRulesError(f"tiers lacks {sorted(missing)}: every tier says what it receives")
    tier_alerts: dict[Tier, frozenset[str]] = {}
    for name, entry in tiers.items():
        try:
            tier = Tier(name)
        except ValueError:
            raise SubscriptionRulesError(f"{name!r} is not a tier ({', '.join(t.value for t in Tier)})") from None
        families = entry.get("alerts") if isinstance(entry, Mapping) else None
        if not isinstance(families, list) or not all(isinstance(f, str) for f in families):
            raise SubscriptionRulesError(f"tier {name}: alerts is a list of alert families")
        _check_families(name, families)
        tier_alerts[tier] = frozenset(families)
    kinds = raw.get("industry_alert_kinds")
    if not isinstance(kinds, Mapping) or not kinds:
        raise SubscriptionRulesError("industry_alert_kinds maps each kind to what it means")
    for kind, meaning in kinds.items():
        if not (isinstance(kind, str) and kind.isidentifier() and kind.islower()):
            raise SubscriptionRulesError(f"industry alert kind {kind!r} is a lower-case word (letters, digits, _)")
        if not isinstance(meaning, str) or not meaning.strip():
            raise SubscriptionRulesError(f"industry alert kind {kind}: say what it means")
    return SubscriptionRules(version=version, tier_alerts=tier_alerts, industry_alert_kinds=dict(kinds))


def _check_families(tier: str, families: Iterable[str]) -> None:
    listed = list(families)
    unknown = sorted(set(listed) - set(ALERT_FAMILIES))
    if unknown:
        raise SubscriptionRulesError(f"tier {tier}: unknown alert families {unknown} (known: {list(ALERT_FAMILIES)})")
    if len(set(listed)) != len(listed):
        raise SubscriptionRulesError(f"tier {tier}: an alert family is listed twice")
