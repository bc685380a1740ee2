"""A version's bands as one table of the week, precomputed once per version: the boundaries
where the rate changes, in microseconds from Monday 00:00 local time. Pricing a stay walks
these boundaries; it never steps minute by minute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from parking_desktop.domain.tariffs.model import TariffVersion
from parking_desktop.domain.tariffs.validation import stretches

MINUTE_US = 60_000_000
DAY_US = 1440 * MINUTE_US
WEEK_US = 7 * DAY_US
_EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class Rate:
    """What a band charges; bands with the same name and price are one rate (one line)."""

    name: str
    cents_per_hour: int


@dataclass(frozen=True)
class WeekTable:
    # starts[i] (µs from Monday 00:00) begins a stretch at rates[rate_of[i]]; the last entry of
    # starts is WEEK_US, so starts[i + 1] always exists for a stretch i.
    starts: tuple[int, ...]
    rate_of: tuple[int, ...]
    rates: tuple[Rate, ...]
    # Local days priced as Sundays, as days since 1970-01-01.
    holidays: frozenset[int]

    @property
    def single_rate(self) -> bool:
        return len(self.rates) == 1


@lru_cache(maxsize=256)
def week_table(version: TariffVersion) -> WeekTable:
    rates: list[Rate] = []
    starts: list[int] = []
    rate_of: list[int] = []
    for part in stretches(version.bands):
        band = version.bands[part.band]
        rate = Rate(band.name, int(band.price_per_hour * 100))
        if rate not in rates:
            rates.append(rate)
        index = rates.index(rate)
        if rate_of and rate_of[-1] == index:
            continue  # the same rate goes on: no boundary here
        starts.append(part.start * MINUTE_US)
        rate_of.append(index)
    starts.append(WEEK_US)
    holidays = frozenset((day - _EPOCH_DAY).days for day in version.holidays)
    return WeekTable(tuple(starts), tuple(rate_of), tuple(rates), holidays)
