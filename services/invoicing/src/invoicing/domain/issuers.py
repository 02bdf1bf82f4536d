"""The legal entities that issue invoices, per country programme (`data/issuing_entities.yaml`).

The issuer may differ from the body that delivers the service (Indonesia): documents name both.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@dataclass(frozen=True)
class IssuingEntity:
    code: str  # prefixes document numbers: BFC-INV-2027-000001
    name: str
    address: str
    country: str
    delivered_by: str


@cache
def _entities() -> dict[str, Any]:
    text = files("invoicing").joinpath("data", "issuing_entities.yaml").read_text(encoding="utf-8")
    table: dict[str, Any] = yaml.safe_load(text)
    return table


def issuer_for(country: str) -> IssuingEntity:
    table = _entities()
    return IssuingEntity(**table.get(country.upper(), table["default"]))


def issuer_by_code(code: str) -> IssuingEntity:
    for entry in _entities().values():
        if entry["code"] == code:
            return IssuingEntity(**entry)
    raise KeyError(code)


def document_number(issuer: str, prefix: str, year: int, sequence: int) -> str:
    """`BFC-INV-2027-000042`: issuer, series, year, then the gapless counter of that series and year."""
    return f"{issuer}-{prefix}-{year}-{sequence:06d}"
