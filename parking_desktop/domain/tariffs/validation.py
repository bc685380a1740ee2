"""The rules a tariff version must follow. Each problem is one line naming the field, so the CLI
can print it and a form can show it next to the field.

Field names are the JSON keys (docs/tariffs.md): ``bands[2].start``, ``increment_minutes``…"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.tariffs.units import DAY_NAMES, EXACT
from parking_desktop.domain.validation import MAX_PRICE, max_price_per_hour

if TYPE_CHECKING:  # the model calls check() when a version is made
    from parking_desktop.domain.tariffs.model import Band, TariffVersion

# The same ceiling as a lot's flat price, so every existing lot's price is a valid tariff; these
# are the euro's, a version's own currency scales them (validation.max_price_per_hour).
MAX_PRICE_PER_HOUR = MAX_PRICE  # exclusive
MAX_DAILY_MAXIMUM = MAX_PRICE * 24  # exclusive: a day at the highest rate
MAX_SPAN = timedelta(hours=24)  # increment, minimum and grace: at most a day
MAX_NAME = 40
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class TariffError(ValidationError):
    """One problem with a tariff: ``field`` says where (a JSON path), ``message`` what.
    ``str(error)`` is the one line to print: "bands[2].start: '25:00' is not a time"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Stretch:
    """A part of the week covered by one band on one day, in minutes from Monday 00:00."""

    start: int
    end: int
    band: int  # index in the version's bands
    day: int  # the day the band starts on (its wrap past Sunday keeps Sunday)


def check(version: TariffVersion) -> None:
    """Raise the first problem of ``version`` as a TariffError."""
    found = problems(version)
    if found:
        raise found[0]


def problems(version: TariffVersion) -> list[TariffError]:
    """Every problem of ``version``, in field order (a form shows them all at once)."""
    found: list[TariffError] = []
    if not version.bands:
        found.append(TariffError("bands", "add at least one band; nothing covers the week"))
    for index, band in enumerate(version.bands):
        found.extend(_band_problems(index, band, max_price_per_hour(version.currency)))
    if not found:  # coverage only means something when each band is well formed
        coverage = _coverage_problem(version.bands)
        if coverage:
            found.append(TariffError("bands", coverage))
    found.extend(_duration_problems(version))
    cap = version.daily_maximum
    if cap is not None:
        problem = _amount_problem(cap, max_price_per_hour(version.currency) * 24)
        if problem:
            found.append(TariffError("daily_maximum", problem))
    for index, holiday in enumerate(sorted(version.holidays, key=_date_key)):
        if not isinstance(holiday, date) or isinstance(holiday, datetime):
            found.append(TariffError(f"holidays[{index}]", f"{holiday!r} is not a date"))
    moment = version.effective_from
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        found.append(TariffError("effective_from", "give a date and time with a UTC offset"))
    if not isinstance(version.currency, str) or not CURRENCY_RE.fullmatch(version.currency):
        found.append(
            TariffError("currency", f"{version.currency!r} is not a currency code like 'EUR'")
        )
    return found


def _date_key(value: object) -> str:
    return str(value)  # sorts dates in order and never fails on a wrong type


def _band_problems(index: int, band: Band,
                   ceiling: Decimal = MAX_PRICE_PER_HOUR) -> list[TariffError]:
    where = f"bands[{index}]"
    found: list[TariffError] = []
    if not band.days:
        found.append(TariffError(f"{where}.days", "choose at least one day"))
    elif any(not isinstance(day, int) or not 0 <= day <= 6 for day in band.days):
        found.append(TariffError(f"{where}.days", "days are 0 (Mon) to 6 (Sun)"))
    for name in ("start", "end"):
        value = getattr(band, name)
        if not isinstance(value, time) or value.tzinfo is not None:
            found.append(TariffError(f"{where}.{name}", f"{value!r} is not a local time"))
        elif value.second or value.microsecond:
            found.append(
                TariffError(f"{where}.{name}", f"{value:%H:%M:%S} is not on a whole minute")
            )
    problem = _amount_problem(band.price_per_hour, ceiling)
    if problem:
        found.append(TariffError(f"{where}.price_per_hour", problem))
    name = band.name
    if not isinstance(name, str) or not name.strip():
        found.append(TariffError(f"{where}.name", "give the band a name, e.g. 'day rate'"))
    elif len(name) > MAX_NAME or name != name.strip() or "\n" in name:
        found.append(
            TariffError(f"{where}.name", f"use at most {MAX_NAME} characters on one line")
        )
    return found


def _amount_problem(value: object, ceiling: Decimal) -> str | None:
    if not isinstance(value, Decimal) or not value.is_finite():
        return f"{value!r} is not an amount"
    if value < 0:
        return f"{value} is negative"
    # The ceiling before the decimals: quantizing a huge value (1E+30) raises.
    if value >= ceiling:
        return f"{value} is too large: it must be less than {ceiling}"
    if value != value.quantize(Decimal("0.01")):
        return f"{value} has more than 2 decimals"
    return None


def _duration_problems(version: TariffVersion) -> list[TariffError]:
    found: list[TariffError] = []
    for name, value, lowest in (
        ("increment_minutes", version.increment, timedelta(minutes=1)),
        ("minimum_minutes", version.minimum, timedelta(0)),
        ("grace_minutes", version.grace, timedelta(0)),
    ):
        if not isinstance(value, timedelta):
            found.append(TariffError(name, f"{value!r} is not a duration"))
        elif name == "increment_minutes" and value == EXACT:
            continue  # billed exactly, to the microsecond
        elif value < lowest:
            if value < timedelta(0):
                found.append(TariffError(name, "cannot be negative"))
            else:
                found.append(TariffError(name, f"must be at least {_minutes(lowest)}"))
        elif value > MAX_SPAN:
            found.append(TariffError(name, f"{_minutes(value)} is more than 24 h"))
        elif value % timedelta(minutes=1):
            found.append(TariffError(name, f"{value} is not a whole number of minutes"))
    return found


def _minutes(value: timedelta) -> str:
    return f"{value // timedelta(minutes=1)} min"


def stretches(bands: tuple[Band, ...]) -> list[Stretch]:
    """The week's minutes each band covers, sorted by start; a band running past Sunday midnight
    is cut in two (its tail starts Monday 00:00)."""
    found: list[Stretch] = []
    for index, band in enumerate(bands):
        start = band.start.hour * 60 + band.start.minute
        end = band.end.hour * 60 + band.end.minute
        length = (end - start) % MINUTES_PER_DAY or MINUTES_PER_DAY
        for day in band.days:
            begin = day * MINUTES_PER_DAY + start
            finish = begin + length
            if finish <= MINUTES_PER_WEEK:
                found.append(Stretch(begin, finish, index, day))
            else:
                found.append(Stretch(begin, MINUTES_PER_WEEK, index, day))
                found.append(Stretch(0, finish - MINUTES_PER_WEEK, index, day))
    found.sort(key=lambda s: (s.start, s.end))
    return found


def _coverage_problem(bands: tuple[Band, ...]) -> str | None:
    """The first overlap, else the first gap, as a sentence; None when the week is covered
    exactly once."""
    parts = stretches(bands)
    gaps: list[tuple[int, int]] = []
    reach = 0
    furthest: Stretch | None = None
    for part in parts:
        if part.start < reach and furthest is not None:
            first, second = furthest, part
            return (
                f"{bands[first.band].describe(first.day)} overlaps "
                f"{bands[second.band].describe(second.day)}"
            )
        if part.start > reach:
            gaps.append((reach, part.start))
        reach, furthest = part.end, part
    if reach < MINUTES_PER_WEEK:
        gaps.append((reach, MINUTES_PER_WEEK))
    if not gaps:
        return None
    start, end = gaps[0]
    if len(gaps) > 1 and start == 0 and gaps[-1][1] == MINUTES_PER_WEEK:
        # One gap across Sunday midnight, found as two.
        start, end = gaps[-1][0], gaps[0][1] + MINUTES_PER_WEEK
    return f"nothing covers {_span(start, end)}"


def _span(start: int, end: int) -> str:
    """'Sun 03:00–05:00', 'Sun 22:00–24:00', 'Sun 22:00–Mon 02:00' (minutes of the week)."""
    day = start // MINUTES_PER_DAY
    first = f"{DAY_NAMES[day % 7]} {_clock(start % MINUTES_PER_DAY)}"
    if end - day * MINUTES_PER_DAY <= MINUTES_PER_DAY:
        return f"{first}–{_clock(end - day * MINUTES_PER_DAY)}"
    last_day = end // MINUTES_PER_DAY
    return f"{first}–{DAY_NAMES[last_day % 7]} {_clock(end % MINUTES_PER_DAY)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_site_currency(version: TariffVersion, site_currency: str) -> None:
    """A site charges in one currency (the CURRENCY setting): a version in another is refused,
    or its fees and the payments taken for them would not add up."""
    if version.currency != site_currency:
        raise TariffError(
            "currency",
            f"{version.currency} is not this site's currency ({site_currency}); "
            f"write the tariff in {site_currency} or leave currency out",
        )
