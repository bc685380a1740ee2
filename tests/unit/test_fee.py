"""The fee rule: hours = max(1, seconds / 3600); cost = hours * price, half-up to
cents, in Decimal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parking_desktop.domain.fee import billable_hours, compute_fee, money

# No per-example deadline: a busy CI machine must not fail a correct rule on time.
relaxed = settings(deadline=None)

# Prices as the validation allows them: > 0, at most 2 decimals, below 100000.
prices = st.integers(min_value=1, max_value=9_999_999).map(lambda cents: Decimal(cents) / 100)
# Stays up to 60 days, to the microsecond.
stays = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))


def exact_cost(stay: timedelta, price: Decimal) -> Decimal:
    """The rule computed with exact fractions, rounded half-up by hand."""
    seconds = max(Fraction(3600), Fraction(stay // timedelta(microseconds=1), 1_000_000))
    cents = seconds * Fraction(price) * 100 / 3600
    whole = int(cents)  # cents >= 0
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole) / 100


@relaxed
@given(stays, prices)
def test_cost_matches_the_rule_computed_exactly(stay: timedelta, price: Decimal) -> None:
    assert compute_fee(stay, price).cost == exact_cost(stay, price)


@relaxed
@given(stays, stays, prices)
def test_fee_never_drops_when_the_stay_gets_longer(
    a: timedelta, b: timedelta, price: Decimal
) -> None:
    shorter, longer = sorted((a, b))
    assert compute_fee(shorter, price).cost <= compute_fee(longer, price).cost
    assert compute_fee(shorter, price).hours <= compute_fee(longer, price).hours


@relaxed
@given(stays, prices)
def test_cost_always_has_exactly_two_decimals(stay: timedelta, price: Decimal) -> None:
    cost = compute_fee(stay, price).cost
    assert isinstance(cost, Decimal)
    assert cost.as_tuple().exponent == -2


@relaxed
@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=1)), prices)
def test_anything_up_to_an_hour_costs_exactly_one_hour(stay: timedelta, price: Decimal) -> None:
    fee = compute_fee(stay, price)
    assert fee.cost == price
    assert fee.hours == Decimal("1.0000")


@relaxed
@given(prices)
def test_a_stay_never_costs_less_than_one_hour(price: Decimal) -> None:
    assert compute_fee(timedelta(seconds=1), price).cost == price
    assert compute_fee(0, price).cost == price


@pytest.mark.parametrize(
    ("seconds", "price", "cost"),
    [
        (5400, "2.50", "3.75"),  # 1.5 h
        (5400, "2.35", "3.53"),  # 3.525 → half-up (banker's rounding would give 3.52)
        (5400, "0.03", "0.05"),  # 0.045 → 0.05
        (7000, "1.17", "2.28"),  # exactly 2.275: hours-first arithmetic gave 2.27 here
        (6600, "0.03", "0.06"),  # exactly 0.055
        (3601, "3600.00", "3601.00"),  # one second over the hour is charged pro rata
        (86_400, "1.99", "47.76"),  # a whole day
        (60, "4.00", "4.00"),  # the one-hour minimum
    ],
)
def test_hand_computed_fees(seconds: int, price: str, cost: str) -> None:
    assert compute_fee(timedelta(seconds=seconds), Decimal(price)).cost == Decimal(cost)
    # Seconds given as a number give the same answer as a timedelta.
    assert compute_fee(seconds, Decimal(price)).cost == Decimal(cost)


def test_fractional_seconds_are_exact_with_a_timedelta() -> None:
    # 1 h 30 min 0.000001 s at 1000/h: the microsecond is kept (0.00027 of a cent), not lost
    # to a float, and the half-up rounding still gives the right cent.
    stay = timedelta(hours=1, minutes=30, microseconds=1)
    assert billable_hours(stay) == Decimal("5400.000001") / Decimal(3600)
    assert compute_fee(stay, Decimal("1000.00")).cost == Decimal("1500.00")


def test_hours_are_shown_with_four_decimals() -> None:
    fee = compute_fee(timedelta(minutes=100), Decimal("3.00"))
    assert fee.hours == Decimal("1.6667")
    assert fee.cost == Decimal("5.00")


def test_a_clock_that_went_backwards_is_charged_the_minimum() -> None:
    assert compute_fee(timedelta(seconds=-30), Decimal("2.00")).cost == Decimal("2.00")
    assert compute_fee(float("nan"), Decimal("2.00")).cost == Decimal("2.00")


@pytest.mark.parametrize("price", [Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity")])
def test_an_impossible_price_is_refused(price: Decimal) -> None:
    with pytest.raises(ValueError, match="price per hour"):
        compute_fee(3600, price)


def test_a_free_lot_costs_nothing() -> None:
    assert compute_fee(timedelta(hours=5), Decimal("0")).cost == Decimal("0.00")


@pytest.mark.parametrize(
    ("value", "expected"), [("2.345", "2.35"), ("2.344", "2.34"), (3, "3.00"), ("0.005", "0.01")]
)
def test_money_rounds_half_up_to_two_places(value: str | int, expected: str) -> None:
    result = money(value)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2
