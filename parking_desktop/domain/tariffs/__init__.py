"""Tariffs: time bands, billing increments, minimum, grace period, daily maximum, holidays.
Pure rules, no storage (docs/tariffs.md)."""

from parking_desktop.domain.tariffs.json_form import tariff_from_json, tariff_to_json
from parking_desktop.domain.tariffs.model import (
    ALL_DAYS,
    Band,
    TariffVersion,
    flat_tariff,
)
from parking_desktop.domain.tariffs.pricing import PricedLine, PricedStay, Pricer, pricer, quote
from parking_desktop.domain.tariffs.units import DAY_NAMES, EXACT
from parking_desktop.domain.tariffs.validation import TariffError, check_site_currency, problems

__all__ = [
    "ALL_DAYS",
    "DAY_NAMES",
    "EXACT",
    "Band",
    "PricedLine",
    "PricedStay",
    "Pricer",
    "TariffError",
    "TariffVersion",
    "check_site_currency",
    "flat_tariff",
    "pricer",
    "problems",
    "quote",
    "tariff_from_json",
    "tariff_to_json",
]
