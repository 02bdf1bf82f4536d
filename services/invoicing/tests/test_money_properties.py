"""Property tests on money: totals, tiers, discounts, allocations and conversions never lose or create a minor unit."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.domain import money
from invoicing.domain.cost_recovery import in_reporting_currency
from invoicing.domain.invoice import CustomerKind, Invoice, Party, Purpose, Status, allocate_payment, draft, issue, pay
from invoicing.domain.pricing import (
    PUBLISHED_CREDIT_SCALE_USD,
    PricedLine,
    PriceItem,
    PriceListVersion,
    PricingError,
    Service,
    Tier,
    check_tiers,
    new_version,
    price,
)

AMOUNTS = st.integers(min_value=0, max_value=10**13)
BPS = st.integers(min_value=0, max_value=10_000)


def credit_list(group_bps: int = 500, reduced: int = 2_500) -> PriceListVersion:
    return new_version(
        country="KH",
        currency_code="USD",
        effective_from=date(2027, 1, 1),
        items=[
            PriceItem(Service.BUYER_CREDIT, "Report credit", tiers=PUBLISHED_CREDIT_SCALE_USD),
            PriceItem(Service.SERVICE_PACKAGE, "Core service package", unit_price=420_000),
        ],
        group_discount_bps=group_bps,
        reduced_tariffs={"small_factory": reduced},
    )


@given(total=AMOUNTS, weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30))
def test_an_allocation_adds_up_to_the_whole(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights[0] = 1
    parts = money.allocate(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):  # each part is within one unit of its exact share
        assert abs(part * whole - total * weight) < whole


@given(amount=AMOUNTS, bps=BPS)
def test_a_share_and_the_rest_make_the_whole(amount: int, bps: int) -> None:
    share = money.share_of(amount, bps)
    assert 0 <= share <= amount
    assert share + (amount - share) == amount
    assert abs(share * 10_000 - amount * bps) <= 5_000  # rounded to the nearest unit


@given(
    quantity=st.integers(min_value=1, max_value=500),
    group=st.integers(min_value=0, max_value=20),
    group_bps=BPS,
    reduced_bps=BPS,
    reduced=st.booleans(),
)
def test_a_priced_line_keeps_every_unit(
    quantity: int, group: int, group_bps: int, reduced_bps: int, reduced: bool
) -> None:
    version = credit_list(group_bps, reduced_bps)
    line = price(
        version,
        Service.BUYER_CREDIT,
        quantity,
        group_size=group,
        reduced_tariff="small_factory" if reduced else None,
    )
    assert line.gross == line.unit_price * quantity
    assert line.net + sum(d.amount for d in line.discounts) == line.gross
    assert line.net >= 0
    assert (group >= 5 and group_bps > 0) == any(d.reason == "group" for d in line.discounts)


@pytest.mark.parametrize(
    ("quantity", "unit", "tier"),
    [
        (1, 140_000, "1-9"),
        (9, 140_000, "1-9"),
        (10, 130_000, "10-20"),
        (20, 130_000, "10-20"),
        (21, 120_000, "21-40"),
        (40, 120_000, "21-40"),
        (41, 110_000, "41-60"),
        (60, 110_000, "41-60"),
        (61, 100_000, "61+"),
        (500, 100_000, "61+"),
    ],
)
def test_the_published_credit_scale(quantity: int, unit: int, tier: str) -> None:
    line = price(credit_list(), Service.BUYER_CREDIT, quantity)
    assert (line.unit_price, line.tier, line.net) == (unit, tier, unit * quantity)


@given(cuts=st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=6, unique=True))
def test_tiers_cover_every_quantity_once(cuts: list[int]) -> None:
    bounds = sorted(cuts)
    tiers, start = [], 1
    for i, end in enumerate(bounds):
        if end >= start:
            tiers.append(Tier(start, end, 1000 - i))
            start = end + 1
    tiers.append(Tier(start, None, 1))
    check_tiers(tiers)
    for quantity in range(1, start + 5):
        assert sum(t.holds(quantity) for t in tiers) == 1


def test_tiers_with_a_gap_or_no_open_end_are_refused() -> None:
    with pytest.raises(PricingError):
        check_tiers([Tier(1, 9, 10), Tier(11, None, 9)])
    with pytest.raises(PricingError):
        check_tiers([Tier(1, 9, 10), Tier(10, 20, 9)])
    with pytest.raises(PricingError):
        check_tiers([Tier(2, None, 10)])


def _issued(total: int, due: date, n: int) -> Invoice:
    line = PricedLine(Service.ADVISORY_DAY, "Advisory", 1, total, None, total, (), total)
    customer = Party(CustomerKind.FACTORY, uuid.uuid4(), "F", "KH")
    invoice = draft(
        purpose=Purpose.SERVICES,
        country="KH",
        currency="USD",
        issuer="BFC",
        customer=customer,
        lines=[line],
        created_at=datetime.now(UTC),
        created_by="t",
        terms_days=0,
    )
    return issue(invoice, number=f"N{n}", issue_date=due, document_hash="h")


@given(
    totals=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=10),
    payment=st.integers(min_value=1, max_value=10**10),
)
@settings(max_examples=200)
def test_a_payment_is_allocated_without_losing_a_unit(totals: list[int], payment: int) -> None:
    invoices = [_issued(t, date(2027, 1, 1 + i), i) for i, t in enumerate(totals)]
    allocations, left = allocate_payment(payment, invoices)
    assert sum(a for _, a in allocations) + left == payment
    assert left == max(0, payment - sum(totals))
    by_id = {i.id: i for i in invoices}
    for invoice_id, amount in allocations:
        after = pay(by_id[invoice_id], amount)
        assert after.amount_paid == amount
        assert after.status in (Status.PAID, Status.PARTIALLY_PAID)
        assert after.amount_due == by_id[invoice_id].total - amount
    # earliest due first: only the last invoice touched may be partly paid
    assert all(amount == by_id[i].total for i, amount in allocations[:-1])


@given(
    amounts=st.dictionaries(st.sampled_from(["USD", "VND", "JOD", "KHR"]), st.integers(0, 10**12), min_size=1),
    rate=st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("30000"), places=5),
)
def test_conversion_is_one_rounding_per_currency(amounts: dict[str, int], rate: Decimal) -> None:
    rates = {c: rate for c in amounts if c != "USD"}
    total = in_reporting_currency(amounts, "USD", rates)
    expected = sum(
        money.convert(minor, code, "USD", rates[code]) if code != "USD" else minor for code, minor in amounts.items()
    )
    assert total == expected


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [("1400.00", "USD", 140000), ("1400", "USD", 140000), ("25000", "VND", 25000), ("1.250", "JOD", 1250)],
)
def test_amounts_parse_by_the_currency_exponent(text: str, code: str, minor: int) -> None:
    assert money.parse_amount(text, code) == minor
    assert money.parse_amount(money.format_amount(minor, code), code) == minor


def test_too_many_decimals_or_an_unknown_currency_are_refused() -> None:
    for text, code in (("1.5", "VND"), ("1.2345", "JOD"), ("1.001", "USD"), ("1", "XXX"), ("nan", "USD")):
        with pytest.raises(money.MoneyError):
            money.parse_amount(text, code)
    assert money.currency("idr").exponent == 2  # ISO 4217, not CLDR's 0
