"""The parking fee rule (DESIGN §2): one hour minimum, then fractional hours."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class Fee:
    hours: Decimal  # billed hours, at least 1, kept to 4 decimals for display
    cost: Decimal  # two decimals


def billable_hours(parked_seconds: float) -> Decimal:
    """Hours billed for a stay: max(1, seconds / 3600), exact (no float rounding)."""
    seconds = Decimal(str(max(0.0, float(parked_seconds))))
    return max(Decimal(1), seconds / SECONDS_PER_HOUR)


def compute_fee(parked_seconds: float, price_per_hour: Decimal) -> Fee:
    if price_per_hour < 0:
        raise ValueError("price per hour cannot be negative")
    hours = billable_hours(parked_seconds)
    cost = (hours * price_per_hour).quantize(CENT, rounding=ROUND_HALF_UP)
    return Fee(hours=hours.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), cost=cost)


def money(value: Decimal | int | str) -> Decimal:
    """A Decimal with exactly two places (half-up), for display and storage."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
