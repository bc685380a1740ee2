"""A tariff version as JSON (the schema is in docs/tariffs.md). Bad input raises a TariffError
naming the place: "bands[2].start: '25:00' is not a time (HH:MM)"."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from parking_desktop.domain.tariffs.model import (
    ONE_HOUR,
    SINCE_ALWAYS,
    Band,
    TariffVersion,
)
from parking_desktop.domain.tariffs.units import DAY_NAMES, EXACT
from parking_desktop.domain.tariffs.validation import TariffError

KEYS = (
    "currency", "effective_from", "increment_minutes", "minimum_minutes", "grace_minutes",
    "daily_maximum", "holidays", "bands",
)
BAND_KEYS = ("name", "days", "start", "end", "price_per_hour")
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")
_AMOUNT_RE = re.compile(r"^\d+(\.\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def tariff_to_json(version: TariffVersion) -> dict[str, Any]:
    return {
        "currency": version.currency,
        "effective_from": version.effective_from.isoformat(),
        "increment_minutes": (
            "exact" if version.increment == EXACT else _minutes(version.increment)
        ),
        "minimum_minutes": _minutes(version.minimum),
        "grace_minutes": _minutes(version.grace),
        "daily_maximum": None if version.daily_maximum is None else str(version.daily_maximum),
        "holidays": [day.isoformat() for day in sorted(version.holidays)],
        "bands": [
            {
                "name": band.name,
                "days": [DAY_NAMES[day] for day in band.days],
                "start": f"{band.start:%H:%M}",
                "end": f"{band.end:%H:%M}",
                "price_per_hour": str(band.price_per_hour),
            }
            for band in version.bands
        ],
    }


def tariff_from_json(
    data: object, *, effective_from: datetime | None = None, currency: str = "EUR"
) -> TariffVersion:
    """The version ``data`` describes. ``effective_from`` and ``currency`` (the site's) are
    used when the data has none."""
    if not isinstance(data, dict):
        raise TariffError("tariff", "expected a JSON object with a list of bands")
    _no_unknown_keys(data, KEYS, "tariff")
    if "bands" not in data:
        raise TariffError("bands", "missing: a tariff needs its time bands")
    raw_bands = data["bands"]
    if not isinstance(raw_bands, list):
        raise TariffError("bands", "expected a list of bands")
    bands = tuple(_band(raw, f"bands[{i}]") for i, raw in enumerate(raw_bands))
    if "effective_from" in data:
        moment = _moment(data["effective_from"])
    else:
        moment = effective_from or SINCE_ALWAYS
    cap = data.get("daily_maximum")
    return TariffVersion(
        bands=bands,
        increment=_increment(data.get("increment_minutes", "exact")),
        minimum=_duration(data.get("minimum_minutes", ONE_HOUR // _MINUTE), "minimum_minutes"),
        grace=_duration(data.get("grace_minutes", 0), "grace_minutes"),
        daily_maximum=None if cap is None else _amount(cap, "daily_maximum"),
        holidays=frozenset(_holidays(data.get("holidays", []))),
        effective_from=moment,
        currency=_currency(data.get("currency", currency)),
    )


_MINUTE = timedelta(minutes=1)


def _minutes(value: timedelta) -> int:
    return value // _MINUTE


def _no_unknown_keys(data: dict[Any, Any], known: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in known:
            raise TariffError(where, f"unknown key {key!r}; expected {', '.join(known)}")


def _band(raw: object, where: str) -> Band:
    if not isinstance(raw, dict):
        raise TariffError(where, "expected an object with days, start, end and price_per_hour")
    _no_unknown_keys(raw, BAND_KEYS, where)
    for key in ("days", "start", "end", "price_per_hour"):
        if key not in raw:
            raise TariffError(f"{where}.{key}", "missing")
    name = raw.get("name", "standard rate")
    if not isinstance(name, str):
        raise TariffError(f"{where}.name", f"{name!r} is not text")
    return Band(
        days=_days(raw["days"], f"{where}.days"),
        start=_time(raw["start"], f"{where}.start", allow_24=False),
        end=_time(raw["end"], f"{where}.end", allow_24=True),
        price_per_hour=_amount(raw["price_per_hour"], f"{where}.price_per_hour"),
        name=name,
    )


def _days(raw: object, where: str) -> tuple[int, ...]:
    if not isinstance(raw, list):
        raise TariffError(where, 'expected a list of days like ["Mon", "Tue"]')
    days: list[int] = []
    for i, name in enumerate(raw):
        if name not in DAY_NAMES:
            raise TariffError(
                f"{where}[{i}]", f"{name!r} is not a day; use {', '.join(DAY_NAMES)}"
            )
        day = DAY_NAMES.index(name)
        if day in days:
            raise TariffError(where, f"{name!r} is listed twice")
        days.append(day)
    return tuple(days)


def _time(raw: object, where: str, *, allow_24: bool) -> time:
    match = _TIME_RE.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise TariffError(where, f"{raw!r} is not a time (HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if allow_24 and (hour, minute) == (24, 0):
        return time(0, 0)  # midnight at the end of the day: the same as 00:00 for an end
    if hour > 23 or minute > 59:
        raise TariffError(where, f"{raw!r} is not a time (HH:MM)")
    return time(hour, minute)


def _amount(raw: object, where: str) -> Decimal:
    if not isinstance(raw, str):
        # A JSON number may be a float that is not the amount written (0.1 + 0.2).
        raise TariffError(where, f'{raw!r}: write amounts as text, e.g. "3.50"')
    text = raw.strip()
    if text.startswith("-"):
        raise TariffError(where, f"{raw!r} is negative")
    if not _AMOUNT_RE.fullmatch(text):
        raise TariffError(where, f"{raw!r} is not an amount")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        raise TariffError(where, f"{raw!r} is not an amount") from None


def _whole_minutes(raw: object, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TariffError(where, f"{raw!r} is not a whole number of minutes")
    return raw


def _increment(raw: object) -> timedelta:
    if raw == "exact":
        return EXACT
    return _duration(raw, "increment_minutes")


def _duration(raw: object, where: str) -> timedelta:
    minutes = _whole_minutes(raw, where)
    if minutes < 0:
        raise TariffError(where, "cannot be negative")
    if minutes > 1440:
        raise TariffError(where, f"{minutes} min is more than 24 h")
    return timedelta(minutes=minutes)


def _holidays(raw: object) -> list[date]:
    if not isinstance(raw, list):
        raise TariffError("holidays", 'expected a list of dates like ["2027-12-25"]')
    days: list[date] = []
    for i, text in enumerate(raw):
        try:
            if not isinstance(text, str) or not _DATE_RE.fullmatch(text):
                raise ValueError
            days.append(date.fromisoformat(text))
        except ValueError:
            raise TariffError(f"holidays[{i}]", f"{text!r} is not a date (YYYY-MM-DD)") from None
    return days


def _moment(raw: object) -> datetime:
    try:
        if not isinstance(raw, str):
            raise ValueError
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise TariffError(
            "effective_from", f"{raw!r} is not a date and time like 2027-01-01T00:00:00+01:00"
        ) from None
    if moment.utcoffset() is None:
        raise TariffError("effective_from", f"{raw!r} has no UTC offset, e.g. +01:00")
    return moment


def _currency(raw: object) -> str:
    if not isinstance(raw, str):
        raise TariffError("currency", f"{raw!r} is not a currency code like 'EUR'")
    return raw
