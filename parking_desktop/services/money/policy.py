"""The site's money settings the services apply, read once from Settings at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from parking_desktop.config import Settings

SITE_NAME = "Parking Desktop"


@dataclass(frozen=True)
class MoneyPolicy:
    currency: str = "EUR"
    vat_rate: Decimal = Decimal(0)  # percent, included in the fees
    locale: str = "en_US"
    waiver_limit: Decimal = Decimal(10)  # what an attendant may give away alone
    shift_max: timedelta = timedelta(hours=12)
    site_name: str = SITE_NAME

    @classmethod
    def from_settings(cls, settings: Settings) -> MoneyPolicy:
        return cls(
            currency=settings.currency,
            vat_rate=settings.vat_rate,
            locale=settings.locale,
            waiver_limit=settings.attendant_waiver_limit,
            shift_max=timedelta(hours=settings.shift_max_hours),
        )
