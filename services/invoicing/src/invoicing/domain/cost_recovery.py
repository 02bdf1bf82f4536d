"""Cost recovery of a country programme in a year: revenue recognised against the programme's cost.

Revenue is recognised when a credit is spent (at the price of the lot it came from, a reversal taking it
back) and when a services invoice is issued (less its credit notes). Amounts in other currencies are
converted once per currency, at the exchange-rate snapshot staff recorded for that year, so the sum of the
parts and the reported total cannot drift apart by rounding line by line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from invoicing.domain.money import convert


class MissingRate(ValueError):
    """An amount in a currency without an exchange-rate snapshot for the year."""


@dataclass(frozen=True)
class Recovery:
    country: str
    year: int
    currency: str  # the reporting currency
    credits_revenue: int
    services_revenue: int
    cost: int | None  # None: no programme cost entered yet
    rates: Mapping[str, str]  # the snapshots used, currency -> rate to the reporting currency

    @property
    def revenue(self) -> int:
        return self.credits_revenue + self.services_revenue

    @property
    def recovery_rate(self) -> Decimal | None:
        """Revenue over cost, to four decimals (0.3090 is 30.9%); None without a cost."""
        if not self.cost:
            return None
        return (Decimal(self.revenue) / Decimal(self.cost)).quantize(Decimal("0.0001"))


def in_reporting_currency(amounts: Mapping[str, int], reporting: str, rates: Mapping[str, Decimal]) -> int:
    """Sum of amounts per currency, each converted once at its snapshot rate."""
    total = 0
    for code, minor in sorted(amounts.items()):
        if code == reporting:
            total += minor
            continue
        rate = rates.get(code)
        if rate is None:
            raise MissingRate(f"no exchange rate from {code} to {reporting} for this year")
        total += convert(minor, code, reporting, rate)
    return total


def recovery(
    *,
    country: str,
    year: int,
    reporting: str,
    credits: Mapping[str, int],
    services: Mapping[str, int],
    costs: Mapping[str, int],
    rates: Mapping[str, Decimal],
) -> Recovery:
    used = {c: str(rates[c]) for c in {*credits, *services, *costs} if c != reporting and c in rates}
    return Recovery(
        country=country,
        year=year,
        currency=reporting,
        credits_revenue=in_reporting_currency(credits, reporting, rates),
        services_revenue=in_reporting_currency(services, reporting, rates),
        cost=in_reporting_currency(costs, reporting, rates) if costs else None,
        rates=used,
    )
