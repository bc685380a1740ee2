"""The editor's text read as a tariff version. Each problem is keyed by the field it concerns
(the JSON keys of docs/tariffs.md: ``bands[2].price_per_hour``, ``increment_minutes``…), so the
editor shows it next to that field or row. Text that is not a number, a time or a day is
refused here; every other rule is the domain's ``problems()``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import cast

from parking_desktop.domain.tariffs import DAY_NAMES, EXACT, Band, TariffVersion, problems
from parking_desktop.ui.common.numbers import decimal_text

BAND_FIELDS = ("days", "start", "end", "price_per_hour", "name")
SCALAR_FIELDS = (
    "increment_minutes",
    "minimum_minutes",
    "grace_minutes",
    "daily_maximum",
    "holidays",
    "effective_from",
)
_TIME_RE = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EVERY_DAY = {"every day", "all", "daily", "all week", "mon–sun", "mon-sun"}


@dataclass(frozen=True)
class BandText:
    days: str
    start: str
    end: str
    price_per_hour: str
    name: str


@dataclass(frozen=True)
class TariffText:
    """What the editor's fields hold."""

    bands: Sequence[BandText]
    increment_minutes: str
    minimum_minutes: str
    grace_minutes: str
    daily_maximum: str
    holidays: str
    effective_from: datetime  # aware
    currency: str


@dataclass
class Reading:
    """The version the text describes (None while anything is wrong) and the problems by field."""

    version: TariffVersion | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.problems.setdefault(key, []).append(message)


class _Bad(Exception):
    pass


def read(text: TariffText) -> Reading:
    reading = Reading()
    bands: list[Band] = []
    for index, row in enumerate(text.bands):
        band = _band(row, f"bands[{index}]", reading)
        if band is not None:
            bands.append(band)
    values: dict[str, object] = {}
    for key, parse in (
        ("increment_minutes", _increment),
        ("minimum_minutes", _minutes),
        ("grace_minutes", _minutes),
        ("daily_maximum", _cap),
        ("holidays", _holidays),
    ):
        try:
            values[key] = parse(getattr(text, key))
        except _Bad as bad:
            reading.add(key, str(bad))
    if reading.problems:
        return reading
    fields = {
        "bands": tuple(bands),
        "increment": values["increment_minutes"],
        "minimum": values["minimum_minutes"],
        "grace": values["grace_minutes"],
        "daily_maximum": values["daily_maximum"],
        "holidays": frozenset(cast(list[date], values["holidays"])),
        "effective_from": text.effective_from,
        "currency": text.currency,
    }
    for problem in problems(_unchecked(fields)):
        # holidays[3] is shown at the holidays field; a band's cell keeps its own key.
        key = "holidays" if problem.field.startswith("holidays[") else problem.field
        reading.add(key, problem.message)
    if not reading.problems:
        reading.version = TariffVersion(**fields)  # type: ignore[arg-type]
    return reading


def _unchecked(fields: dict[str, object]) -> TariffVersion:
    """A version that skips the check made on construction, so ``problems()`` can list every
    problem at once instead of the first one raised."""
    version = object.__new__(TariffVersion)
    for name, value in fields.items():
        object.__setattr__(version, name, value)
    return version


def _band(row: BandText, where: str, reading: Reading) -> Band | None:
    parsed: dict[str, object] = {}
    for key, parse in (
        ("days", parse_days),
        ("start", _start),
        ("end", _end),
        ("price_per_hour", _amount),
        ("name", _name),
    ):
        try:
            parsed[key] = parse(getattr(row, key))
        except _Bad as bad:
            reading.add(f"{where}.{key}", str(bad))
    if len(parsed) < len(BAND_FIELDS):
        return None
    return Band(**parsed)  # type: ignore[arg-type]


def parse_days(text: str) -> tuple[int, ...]:
    """'Mon–Fri', 'Sat, Sun', 'Mon Wed Fri', 'every day' → day numbers (0 = Monday)."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise _Bad("choose at least one day, e.g. Mon–Fri")
    if cleaned in _EVERY_DAY:
        return tuple(range(7))
    days: list[int] = []
    for token in re.split(r"[,;\s]+", cleaned.replace("—", "–")):
        if not token:
            continue
        ends = re.split(r"[–-]", token)
        if len(ends) > 2:
            raise _Bad(f"'{token}' is not a day or a range like Mon–Fri")
        first, last = (_day(end) for end in (ends[0], ends[-1]))
        span = range(first, (last if last >= first else last + 7) + 1)
        days.extend(day % 7 for day in span)
    return tuple(sorted(set(days)))


def _day(token: str) -> int:
    for index, name in enumerate(_FULL_DAY_NAMES):
        if len(token) >= 2 and name.startswith(token):
            return index
    raise _Bad(f"'{token}' is not a day; use {', '.join(DAY_NAMES)}")


def days_text(days: Sequence[int]) -> str:
    """Day numbers as people write them: 'Mon–Fri', 'Sat, Sun', 'every day'."""
    days = sorted(set(days))
    if len(days) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]}–{DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[day] for day in run)
    return ", ".join(parts)


def _time(text: str, *, end: bool) -> time:
    match = _TIME_RE.fullmatch(text.strip())
    if match is None:
        raise _Bad(f"'{text.strip()}' is not a time (HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if end and (hour, minute) == (24, 0):
        return time(0, 0)
    if hour > 23 or minute > 59:
        raise _Bad(f"'{text.strip()}' is not a time (HH:MM)")
    return time(hour, minute)


def _start(text: str) -> time:
    return _time(text, end=False)


def _end(text: str) -> time:
    return _time(text, end=True)


def _amount(text: str) -> Decimal:
    """A number as typed (locale decimal comma accepted); its range is the domain's rule."""
    cleaned = decimal_text(text)
    if not cleaned:
        raise _Bad("give a price per hour, e.g. 3.50")
    if not _NUMBER_RE.fullmatch(cleaned):
        raise _Bad(f"'{text.strip()}' is not an amount")
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        raise _Bad(f"'{text.strip()}' is not an amount") from None


def _name(text: str) -> str:
    return text.strip()


def _minutes(text: str) -> timedelta:
    cleaned = text.strip()
    if not cleaned:
        raise _Bad("give a number of minutes (0 for none)")
    if not _INT_RE.fullmatch(cleaned):
        raise _Bad(f"'{cleaned}' is not a whole number of minutes")
    return timedelta(minutes=int(cleaned))


def _increment(text: str) -> timedelta:
    if not text.strip():
        raise _Bad("give a number of minutes, or 'exact'")
    if text.strip().lower() == "exact":
        return EXACT
    return _minutes(text)


def _cap(text: str) -> Decimal | None:
    if not text.strip():
        return None  # no daily maximum
    return _amount(text)


def _holidays(text: str) -> list[date]:
    days = []
    for token in re.split(r"[,;\s]+", text.strip()):
        if not token:
            continue
        try:
            days.append(date.fromisoformat(token))
        except ValueError:
            raise _Bad(f"'{token}' is not a date (YYYY-MM-DD)") from None
    return days


def minutes_text(value: timedelta) -> str:
    return "exact" if value == EXACT else str(value // timedelta(minutes=1))


def band_text(band: Band) -> BandText:
    # An end at midnight reads as the end of the day (00:00–24:00 is the whole day).
    end = "24:00" if band.end == time(0) else f"{band.end:%H:%M}"
    return BandText(
        days_text(band.days), f"{band.start:%H:%M}", end, str(band.price_per_hour), band.name
    )


def readable_bands(rows: Sequence[BandText]) -> list[Band]:
    """The rows that read as bands with whole-minute times (for the week preview while the
    table still has problems)."""
    found = []
    for row in rows:
        reading = Reading()
        band = _band(row, "band", reading)
        if band is not None:
            found.append(band)
    return found
