"""The parking fee rule: one hour minimum, then fractional hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HOURS_SHOWN = Decimal("0.0001")
SECONDS_PER_HOUR = Decimal(3600)

# How long a car stayed: a timedelta (exact to the microsecond), or seconds.
Duration = timedelta | Decimal | int | float


@dataclass(frozen=True)
class Fee:
    hours: Decimal  # billed hours, at least 1, kept to 4 decimals for display
    cost: Decimal  # two decimals


def _billed_seconds(parked: Duration) -> Decimal:
    """Seconds to bill, exact: at least one hour. A negative or unknown duration (a clock
    that moved back) is billed as the one-hour minimum."""
    if isinstance(parked, timedelta):
        # Whole microseconds, so no float ever touches the money.
        micros = (parked.days * 86_400 + parked.seconds) * 1_000_000 + parked.microseconds
        seconds = Decimal(micros) / Decimal(1_000_000)
    elif isinstance(parked, Decimal):
        seconds = parked
    else:
        # str() of a float is its shortest form: 5400.1 stays 5400.1, not 5400.10000000000036…
        seconds = Decimal(str(parked))
    if not seconds.is_finite() or seconds < SECONDS_PER_HOUR:
        return SECONDS_PER_HOUR
    return seconds


def billable_hours(parked: Duration) -> Decimal:
    """Hours billed for a stay: max(1, seconds / 3600)."""
    return _billed_seconds(parked) / SECONDS_PER_HOUR


def compute_fee(parked: Duration, price_per_hour: Decimal) -> Fee:
    """cost = billed hours * price, rounded half-up to cents."""
    if not price_per_hour.is_finite() or price_per_hour < 0:
        raise ValueError("price per hour must be a finite amount of at least 0")
    seconds = _billed_seconds(parked)
    # Multiply before dividing: seconds * price is exact, so the single division by 3600 is
    # the only rounding step, and a cost landing exactly on half a cent rounds up as it must
    # (hours first gives 7000 s * 1.17/h = 1.9444…*1.17 = 2.27499… → 2.27 instead of 2.28).
    cost = (seconds * price_per_hour / SECONDS_PER_HOUR).quantize(CENT, rounding=ROUND_HALF_UP)
    hours = (seconds / SECONDS_PER_HOUR).quantize(HOURS_SHOWN, rounding=ROUND_HALF_UP)
    return Fee(hours=hours, cost=cost)


def money(value: Decimal | int | str) -> Decimal:
    """A Decimal with exactly two places (half-up), for display and storage."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
