"""What an unpaid invoice past its due date leads to, per country programme, as data (`data/overdue_policies.yaml`).

The clock starts at the due date, never at the invoice date (Kill Bill's overdue counts from the invoice date
and so can block a period already paid: killbill#1997). Each step runs once per invoice; a paid, credited or
written-off invoice is no longer overdue and takes no step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from invoicing.domain.invoice import CustomerKind, Invoice
from invoicing.domain.money import parse_amount


class OverdueAction(StrEnum):
    REMINDER = "reminder"
    HOLD_REPORTS = "hold_reports"
    SUSPEND_FACTORY = "suspend_factory"


@dataclass(frozen=True)
class Step:
    index: int
    days_past_due: int
    action: OverdueAction
    min_amount_due: Mapping[str, str] = field(default_factory=dict)  # currency -> amount, e.g. {"USD": "500.00"}

    def threshold(self, currency_code: str) -> int:
        amount = self.min_amount_due.get(currency_code)
        return parse_amount(amount, currency_code) if amount is not None else 0


@dataclass(frozen=True)
class OverduePolicy:
    country: str
    steps: tuple[Step, ...]


def policy_from(country: str, steps: Sequence[Mapping[str, Any]]) -> OverduePolicy:
    built = tuple(
        Step(
            index=i,
            days_past_due=int(s["days_past_due"]),
            action=OverdueAction(s["action"]),
            min_amount_due={k.upper(): str(v) for k, v in (s.get("min_amount_due") or {}).items()},
        )
        for i, s in enumerate(steps)
    )
    if any(s.days_past_due < 1 for s in built):
        raise ValueError("a step starts at least one day after the due date")
    return OverduePolicy(country, built)


@cache
def _policies() -> dict[str, Any]:
    text = files("invoicing").joinpath("data", "overdue_policies.yaml").read_text(encoding="utf-8")
    table: dict[str, Any] = yaml.safe_load(text)
    return table


def policy_for(country: str) -> OverduePolicy:
    table = _policies()
    return policy_from(country, table.get(country.upper(), table["default"]))


def steps_due(policy: OverduePolicy, invoice: Invoice, *, on: date, taken: frozenset[int]) -> list[Step]:
    """The steps `invoice` has reached on `on` and not yet taken, in order.

    A suspension is for factories only: a buyer's unpaid invoice never suspends a factory.
    """
    if not invoice.is_overdue(on):
        return []
    late = invoice.days_past_due(on)
    return [
        step
        for step in policy.steps
        if step.index not in taken
        and late >= step.days_past_due
        and invoice.amount_due >= step.threshold(invoice.currency)
        and (step.action is not OverdueAction.SUSPEND_FACTORY or invoice.customer.kind is CustomerKind.FACTORY)
    ]
