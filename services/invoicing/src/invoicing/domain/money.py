"""Money in integer minor units of an ISO 4217 currency, whose exponent is data (`data/currencies.yaml`).

No float ever holds an amount. Every split (discounts, allocations, conversions) is done so that the parts
add up to the whole exactly: a minor unit is never lost or created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from importlib.resources import files

import yaml


class MoneyError(ValueError):
    """An amount or currency the rules do not allow."""


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int  # decimals of the minor unit: USD 2, VND 0, JOD 3


@cache
def _exponents() -> dict[str, int]:
    text = files("invoicing").joinpath("data", "currencies.yaml").read_text(encoding="utf-8")
    table: dict[str, int] = yaml.safe_load(text)
    return table


def currency(code: str) -> Currency:
    """The currency of an ISO 4217 code known to the table; `MoneyError` otherwise."""
    key = code.strip().upper()
    exponent = _exponents().get(key)
    if exponent is None:
        raise MoneyError(f"currency {code!r} is not in the currency table")
    return Currency(key, exponent)


def known_currencies() -> list[str]:
    return sorted(_exponents())


def parse_amount(text: str | int | Decimal, code: str) -> int:
    """`"1400.00"` USD -> 140000; refuses more decimals than the currency has (`"1.5"` VND)."""
    cur = currency(code)
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"{text!r} is not an amount") from exc
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not an amount")
    minor = value.scaleb(cur.exponent)
    if minor != minor.to_integral_value():
        raise MoneyError(f"{cur.code} has {cur.exponent} decimals; {text} has more")
    return int(minor)


def format_amount(minor: int, code: str) -> str:
    """140000 USD -> `"1400.00"`; 5000000 VND -> `"5000000"` (the form documents and CSV carry)."""
    cur = currency(code)
    if cur.exponent == 0:
        return str(minor)
    return str(Decimal(minor).scaleb(-cur.exponent).quantize(Decimal(1).scaleb(-cur.exponent)))


def display_amount(minor: int, code: str) -> str:
    """For people: `USD 1,400.00`."""
    cur = currency(code)
    value = Decimal(minor).scaleb(-cur.exponent)
    return f"{cur.code} {value:,.{cur.exponent}f}"


def share_of(amount: int, basis_points: int) -> int:
    """`basis_points`/10,000 of `amount`, rounded half away from zero (a discount of 5% is 500 bps)."""
    if not 0 <= basis_points <= 10_000:
        raise MoneyError("a share is between 0 and 10,000 basis points")
    return int((Decimal(amount) * basis_points / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder): the parts always sum to `total`."""
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise MoneyError("allocation needs non-negative weights that are not all zero")
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


def convert(minor: int, from_code: str, to_code: str, rate: Decimal) -> int:
    """`minor` of one currency in another at `rate` (units of `to` per unit of `from`), rounded half up."""
    source, target = currency(from_code), currency(to_code)
    if rate <= 0:
        raise MoneyError("an exchange rate is positive")
    value = Decimal(minor).scaleb(-source.exponent) * rate
    return int(value.scaleb(target.exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))
