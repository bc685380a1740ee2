"""Hypothesis strategies for tariffs and stays, and a reference pricer that follows the rules of
docs/tariffs.md literally: one increment at a time, each looked up in the bands directly (no week
table, no offset table), so the engine's shortcuts are checked against the plain rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from parking_desktop.domain.tariffs import EXACT, Band, TariffVersion

PARIS = ZoneInfo("Europe/Paris")
# Whole-hour, half-hour (Lord Howe's clocks move by 30 min) and 45-minute offsets.
ZONES = [PARIS, ZoneInfo("America/New_York"), ZoneInfo("UTC"), ZoneInfo("Australia/Lord_Howe"),
         ZoneInfo("Asia/Kathmandu")]
WEEK_MIN = 7 * 1440
DAY = timedelta(days=1)
NAMES = ["day rate", "night rate", "weekend rate", "peak"]

prices = st.integers(min_value=0, max_value=2_000).map(lambda cents: Decimal(cents).scaleb(-2))
# Increments that divide an hour and some that do not; EXACT is the flat rule's.
increments = st.sampled_from(
    [EXACT, *(timedelta(minutes=m) for m in (1, 5, 7, 15, 20, 60, 90, 1440))]
)
# Arrival windows around Europe's two clock changes of 2026 and one quiet week.
WINDOWS = [datetime(2026, 3, 25, tzinfo=UTC), datetime(2026, 10, 21, tzinfo=UTC),
           datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)]


def minute_time(minutes: int) -> time:
    return time((minutes // 60) % 24, minutes % 60)


@st.composite
def week_bands(draw: st.DrawFn, step: int = 15, max_cuts: int = 6) -> tuple[Band, ...]:
    """Bands covering the week exactly once: cut the week at 1..max_cuts points (multiples of
    ``step`` minutes), give each stretch a rate, and write stretches longer than a day as one
    band per day. Stretches cross midnight and Sunday→Monday."""
    cuts = sorted(draw(st.sets(st.integers(0, WEEK_MIN // step - 1).map(lambda k: k * step),
                               min_size=1, max_size=max_cuts)))
    rates = draw(st.lists(st.tuples(st.sampled_from(NAMES), prices), min_size=1, max_size=3))
    bands: list[Band] = []
    for i, begin in enumerate(cuts):
        finish = cuts[i + 1] if i + 1 < len(cuts) else cuts[0] + WEEK_MIN
        name, price = draw(st.sampled_from(rates))
        while begin < finish:
            length = min(1440, finish - begin)
            bands.append(Band(((begin // 1440) % 7,), minute_time(begin % 1440),
                              minute_time((begin + length) % 1440), price, name))
            begin += length
    return tuple(bands)


@st.composite
def tariffs(draw: st.DrawFn, *, cap: bool = True, extras: bool = True) -> TariffVersion:
    """Any valid version; ``extras=False`` gives minimum 0, no grace, no holidays."""
    minute = timedelta(minutes=1)
    return TariffVersion(
        bands=draw(week_bands()),
        increment=draw(increments),
        minimum=draw(st.integers(0, 1440)) * minute if extras else timedelta(0),
        grace=draw(st.integers(0, 30)) * minute if extras else timedelta(0),
        daily_maximum=draw(st.none() | prices.map(lambda p: p * 3)) if cap else None,
        holidays=draw(st.frozensets(st.sampled_from(
            [date(2026, 3, 29), date(2026, 3, 30), date(2026, 10, 25), date(2026, 7, 2),
             date(2026, 11, 2)]), max_size=3)) if extras else frozenset(),
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        currency=draw(st.sampled_from(["EUR", "CHF", "USD"])),
    )


@st.composite
def arrivals(draw: st.DrawFn, whole_minutes: bool = False) -> datetime:
    start = draw(st.sampled_from(WINDOWS))
    minutes = draw(st.integers(0, 8 * 1440))
    micros = 0 if whole_minutes else draw(st.integers(0, 59_999_999))
    return start + timedelta(minutes=minutes, microseconds=micros)


def band_at(version: TariffVersion, local: datetime) -> Band:
    """The band in force at a local wall-clock time, straight from the band list."""
    weekday = 6 if local.date() in version.holidays else local.weekday()
    position = weekday * 1440 + local.hour * 60 + local.minute + Fraction(
        local.second * 1_000_000 + local.microsecond, 60_000_000)
    for band in version.bands:
        start = band.start.hour * 60 + band.start.minute
        length = (band.end.hour * 60 + band.end.minute - start) % 1440 or 1440
        for day in band.days:
            if (position - day * 1440 - start) % WEEK_MIN < length:
                return band
    raise AssertionError(f"no band at {local}")


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def reference_cents(version: TariffVersion, zone: ZoneInfo, arrived: datetime,
                    left: datetime) -> int:
    """The rule, one increment at a time. An EXACT increment is stepped minute by minute, which
    is the same thing when the stay starts and ends on whole minutes."""
    stay = max(left - arrived, timedelta(0))
    if version.grace > timedelta(0) and stay <= version.grace:
        return 0
    step = timedelta(minutes=1) if version.increment == EXACT else version.increment
    if version.increment == EXACT:
        assert stay % step == timedelta(0) and arrived.second == arrived.microsecond == 0
    billed = max(stay, version.minimum)
    count = -(-billed // step)
    keys: list[tuple[str, Decimal, int]] = []  # (name, price, 24 h period) of each line
    counts: list[int] = []  # its increments
    for k in range(count):
        band = band_at(version, (arrived + k * step).astimezone(zone))
        # Lines are cut every 24 h from the arrival only when there is a daily maximum.
        period = (k * step) // DAY if version.daily_maximum is not None else 0
        key = (band.name, band.price_per_hour, period)
        if keys and keys[-1] == key:
            counts[-1] += 1
        else:
            keys.append(key)
            counts.append(1)
    per_period: dict[int, int] = {}
    for (_name, price, period), n in zip(keys, counts, strict=True):
        hours = Fraction(n * (step // timedelta(microseconds=1)), 3_600_000_000)
        per_period[period] = per_period.get(period, 0) + half_up(hours * Fraction(price) * 100)
    cap = version.daily_maximum
    return sum(total if cap is None else min(total, int(cap * 100))
               for total in per_period.values())
