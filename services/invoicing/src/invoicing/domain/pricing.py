"""Price lists as data: versions by effective date per country and currency, volume tiers, discounts.

A version holds one price item per service. An item either has one unit price or volume tiers: the tier
is chosen by the quantity bought and every unit is charged at that tier's price (the published buyer
credit scale: USD 1,400 below 10 credits, 1,300 for 10 to 20, ... 1,000 above 60). The group discount
(five or more factories of one manufacturing group) and reduced tariffs are shares in basis points, taken
one after the other from what is left, each rounded to the minor unit. A priced line keeps the price, the
tier and every discount it was charged at, so a later price change never alters it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from invoicing.domain.money import currency, share_of


class PricingError(ValueError):
    """A price list that breaks a rule, or a line that cannot be priced from it."""


class Service(StrEnum):
    SERVICE_PACKAGE = "service_package"  # a factory's service package, per cycle
    ADVISORY_DAY = "advisory_day"
    TRAINING = "training"
    ADDITIONAL_SERVICE = "additional_service"
    BUYER_CREDIT = "buyer_credit"  # one credit unlocks one factory cycle
    ASSESSMENT = "assessment"  # one assessment of a factory, where the country charges per assessment


@dataclass(frozen=True)
class Tier:
    min_quantity: int
    max_quantity: int | None  # None: no upper bound
    unit_price: int

    @property
    def label(self) -> str:
        return f"{self.min_quantity}+" if self.max_quantity is None else f"{self.min_quantity}-{self.max_quantity}"

    def holds(self, quantity: int) -> bool:
        return quantity >= self.min_quantity and (self.max_quantity is None or quantity <= self.max_quantity)


@dataclass(frozen=True)
class PriceItem:
    service: Service
    description: str
    unit_price: int | None = None
    tiers: tuple[Tier, ...] = ()

    def unit_price_for(self, quantity: int) -> tuple[int, Tier | None]:
        if not self.tiers:
            assert self.unit_price is not None
            return self.unit_price, None
        tier = next((t for t in self.tiers if t.holds(quantity)), None)
        if tier is None:
            raise PricingError(f"no tier of {self.service} holds a quantity of {quantity}")
        return tier.unit_price, tier


@dataclass(frozen=True)
class PriceListVersion:
    id: uuid.UUID
    country: str
    currency: str
    effective_from: date
    items: Mapping[Service, PriceItem]
    group_discount_bps: int = 0
    group_min_factories: int = 5
    reduced_tariffs: Mapping[str, int] = field(default_factory=dict)  # name -> basis points off


@dataclass(frozen=True)
class Discount:
    reason: str  # "group" or "reduced_tariff:<name>"
    basis_points: int
    amount: int


@dataclass(frozen=True)
class PricedLine:
    service: Service
    description: str
    quantity: int
    unit_price: int
    tier: str | None
    gross: int
    discounts: tuple[Discount, ...]
    net: int
    assessment_id: uuid.UUID | None = None  # the assessment a per-assessment charge is for


def check_tiers(tiers: Sequence[Tier]) -> None:
    """Tiers start at 1, follow each other without gap or overlap, and the last one has no upper bound."""
    if not tiers:
        return
    expected = 1
    for i, tier in enumerate(tiers):
        if tier.min_quantity != expected:
            raise PricingError(f"tier {i + 1} starts at {tier.min_quantity}, not {expected}")
        if tier.unit_price < 0:
            raise PricingError("a price is not negative")
        last = i == len(tiers) - 1
        if tier.max_quantity is None:
            if not last:
                raise PricingError("only the last tier is open-ended")
            return
        if tier.max_quantity < tier.min_quantity:
            raise PricingError(f"tier {i + 1} ends before it starts")
        expected = tier.max_quantity + 1
    raise PricingError("the last tier must have no upper bound")


def new_version(
    *,
    country: str,
    currency_code: str,
    effective_from: date,
    items: Iterable[PriceItem],
    group_discount_bps: int = 0,
    group_min_factories: int = 5,
    reduced_tariffs: Mapping[str, int] | None = None,
) -> PriceListVersion:
    """A checked price list version (one item per service, valid tiers, shares within 0..100%)."""
    cur = currency(currency_code)
    by_service: dict[Service, PriceItem] = {}
    for item in items:
        if item.service in by_service:
            raise PricingError(f"{item.service} is priced twice")
        if (item.unit_price is None) == (not item.tiers):
            raise PricingError(f"{item.service} needs either a unit price or tiers")
        if item.unit_price is not None and item.unit_price < 0:
            raise PricingError("a price is not negative")
        check_tiers(item.tiers)
        by_service[item.service] = item
    if not by_service:
        raise PricingError("a price list prices at least one service")
    shares = {"group discount": group_discount_bps, **(reduced_tariffs or {})}
    for name, bps in shares.items():
        if not 0 <= bps <= 10_000:
            raise PricingError(f"{name} must be between 0 and 10,000 basis points")
    if group_min_factories < 2:
        raise PricingError("a group discount needs a group of at least two factories")
    return PriceListVersion(
        id=uuid.uuid4(),
        country=country.upper(),
        currency=cur.code,
        effective_from=effective_from,
        items=by_service,
        group_discount_bps=group_discount_bps,
        group_min_factories=group_min_factories,
        reduced_tariffs=dict(reduced_tariffs or {}),
    )


def version_in_force(versions: Iterable[PriceListVersion], on: date) -> PriceListVersion | None:
    """The version with the latest effective date on or before `on`."""
    candidates = [v for v in versions if v.effective_from <= on]
    return max(candidates, key=lambda v: v.effective_from, default=None)


def price(
    version: PriceListVersion,
    service: Service,
    quantity: int,
    *,
    group_size: int = 0,
    reduced_tariff: str | None = None,
    description: str | None = None,
) -> PricedLine:
    """One line priced from `version`: the tier of the quantity, then the group discount, then a reduced tariff."""
    if quantity < 1:
        raise PricingError("a line is for at least one unit")
    item = version.items.get(service)
    if item is None:
        raise PricingError(f"the price list of {version.effective_from} does not price {service}")
    unit_price, tier = item.unit_price_for(quantity)
    gross = unit_price * quantity
    shares: list[tuple[str, int]] = []
    if version.group_discount_bps and group_size >= version.group_min_factories:
        shares.append(("group", version.group_discount_bps))
    if reduced_tariff is not None:
        bps = version.reduced_tariffs.get(reduced_tariff)
        if bps is None:
            raise PricingError(f"no reduced tariff {reduced_tariff!r} in this price list")
        shares.append((f"reduced_tariff:{reduced_tariff}", bps))
    remaining, discounts = gross, []
    for reason, bps in shares:
        amount = share_of(remaining, bps)
        discounts.append(Discount(reason, bps, amount))
        remaining -= amount
    return PricedLine(
        service=service,
        description=description or item.description,
        quantity=quantity,
        unit_price=unit_price,
        tier=tier.label if tier else None,
        gross=gross,
        discounts=tuple(discounts),
        net=remaining,
    )


PUBLISHED_CREDIT_SCALE_USD: tuple[Tier, ...] = (
    Tier(1, 9, 140_000),
    Tier(10, 20, 130_000),
    Tier(21, 40, 120_000),
    Tier(41, 60, 110_000),
    Tier(61, None, 100_000),
)
"""The published buyer credit scale, USD per factory cycle (DOMAIN.md section 5)."""
