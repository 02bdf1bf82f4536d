"""Reads the subscription rules shipped with the service (`data/subscriptions.yaml`), once per process."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

from partnerships.domain.subscriptions import SubscriptionRules, SubscriptionRulesError, parse_rules

RULES_FILE = "subscriptions.yaml"


@cache
def subscription_rules() -> SubscriptionRules:
    """The rules in force; a file that does not parse or check out raises (the app factory calls this, so a bad
    file stops the start instead of alerting the wrong buyers)."""
    text = files("partnerships").joinpath("data", RULES_FILE).read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SubscriptionRulesError(f"data/{RULES_FILE} is not YAML: {exc}") from exc
    try:
        return parse_rules(raw)
    except SubscriptionRulesError as exc:
        raise SubscriptionRulesError(f"data/{RULES_FILE}: {exc}") from exc
