"""A tariff version in a few words and figures, for lists (`lots --json`, `tariff show`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from parking_desktop.domain.tariffs import TariffVersion, tariff_to_json


def summary(version: TariffVersion) -> dict[str, Any]:
    """The figures a list shows: base rate (the highest price per hour), the lowest, the
    rates by name, the increment, minimum, grace, cap, currency and since when."""
    document = tariff_to_json(version)
    rates: dict[str, str] = {}
    for band in version.bands:
        rates.setdefault(band.name, str(band.price_per_hour))
    return {
        "effective_from": version.effective_from,
        "currency": version.currency,
        "base_rate": version.base_rate,
        "lowest_rate": min(band.price_per_hour for band in version.bands),
        "rates": rates,
        "flat": len({(b.name, b.price_per_hour) for b in version.bands}) == 1
        and version.daily_maximum is None
        and version.grace == timedelta(0),
        "increment_minutes": document["increment_minutes"],
        "minimum_minutes": document["minimum_minutes"],
        "grace_minutes": document["grace_minutes"],
        "daily_maximum": version.daily_maximum,
        "holidays": len(version.holidays),
    }


def describe(version: TariffVersion, money: Callable[[Decimal], str] | None = None) -> str:
    """One line: 'day rate 3.50/h, night rate 1.20/h; 15 min steps, minimum 60 min, grace
    10 min, at most 20.00 per 24 h (EUR)'. With ``money`` (the site's formatter), amounts are
    written by it: 'day rate €3.50/h, …, at most €20.00 per 24 h'."""
    facts = summary(version)
    show = money or str
    rates = ", ".join(f"{name} {show(Decimal(price))}/h" for name, price in facts["rates"].items())
    step = facts["increment_minutes"]
    parts = [
        "billed to the second" if step == "exact" else f"{step} min steps",
        f"minimum {facts['minimum_minutes']} min",
    ]
    if facts["grace_minutes"]:
        parts.append(f"grace {facts['grace_minutes']} min")
    if version.daily_maximum is not None:
        parts.append(f"at most {show(version.daily_maximum)} per 24 h")
    if version.holidays:
        parts.append(f"{len(version.holidays)} holidays priced as Sundays")
    return f"{rates}; {', '.join(parts)}" + ("" if money else f" ({version.currency})")
