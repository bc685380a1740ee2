"""A tariff version: what a stay costs, as data. Rules in docs/tariffs.md.

A version is checked when it is made (see validation.py), so the pricing code never meets a
tariff with a gap, an overlap or an impossible amount."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from parking_desktop.domain.tariffs.units import DAY_NAMES, EXACT

ALL_DAYS = tuple(range(7))
SUNDAY = 6
ONE_HOUR = timedelta(hours=1)
# When no date is given: a version in force since before any stay was recorded.
SINCE_ALWAYS = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Band:
    """A price per hour on some days from ``start`` to ``end`` local time. An ``end`` at or
    before ``start`` runs past midnight into the next day (20:00–08:00; 00:00–00:00 is the
    whole day). ``days`` are the days the band starts on, 0 = Monday … 6 = Sunday."""

    days: tuple[int, ...]
    start: time
    end: time
    price_per_hour: Decimal
    name: str = "standard rate"

    def __post_init__(self) -> None:
        # Any iterable of days is accepted; kept sorted and unique so equal bands compare equal.
        object.__setattr__(self, "days", tuple(sorted(set(self.days))))

    def describe(self, day: int) -> str:
        """'Tue 20:00–08:00': this band as it starts on ``day``."""
        return f"{DAY_NAMES[day]} {self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True)
class TariffVersion:
    """One version of a lot's tariff. Never changed once used: an edit makes a new version."""

    bands: tuple[Band, ...]
    # A started increment is billed whole; increments are counted from the arrival.
    increment: timedelta = EXACT
    minimum: timedelta = ONE_HOUR
    # Leaving within the grace period costs nothing; 0 = no grace period.
    grace: timedelta = timedelta(0)
    # At most this much per 24 h counted from the arrival; None = no cap.
    daily_maximum: Decimal | None = None
    # Local dates priced as Sundays.
    holidays: frozenset[date] = field(default_factory=frozenset)
    effective_from: datetime = SINCE_ALWAYS
    currency: str = "EUR"

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        # Imported here: validation needs the model's types.
        from parking_desktop.domain.tariffs.validation import check

        check(self)

    @property
    def is_exact(self) -> bool:
        return self.increment == EXACT

    @property
    def base_rate(self) -> Decimal:
        """The highest price per hour: what a lot shows as its price."""
        return max(band.price_per_hour for band in self.bands)


def flat_tariff(
    price_per_hour: Decimal,
    *,
    effective_from: datetime = SINCE_ALWAYS,
    currency: str = "EUR",
    name: str = "standard rate",
) -> TariffVersion:
    """Today's rule as a tariff: one band all week, billed exactly, one hour minimum, no grace,
    no cap. It prices every stay exactly as ``domain.fee.compute_fee`` does."""
    return TariffVersion(
        bands=(Band(ALL_DAYS, time(0, 0), time(0, 0), price_per_hour, name),),
        increment=EXACT,
        minimum=ONE_HOUR,
        grace=timedelta(0),
        daily_maximum=None,
        holidays=frozenset(),
        effective_from=effective_from,
        currency=currency,
    )

