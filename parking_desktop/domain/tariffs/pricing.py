"""What a stay costs under a tariff version, with the lines that explain it.

The rules (docs/tariffs.md): within the grace period a stay is free; otherwise the billed time is
the stay, at least the minimum, rounded up to whole increments counted from the arrival; each
increment is priced by the band in force (local time) when it starts; consecutive increments
at the same rate make one line, rounded half-up to cents once; with a daily maximum, lines are
also cut every 24 h from the arrival and each such period costs at most the maximum.

All arithmetic is on integers (microseconds, cents), so it is exact and quick: ``Pricer.cents``
prices a stay given as two UTC microsecond counts, for bulk repricing; ``Pricer.quote`` gives
the same total with its lines for people."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from parking_desktop.domain.tariffs.model import TariffVersion
from parking_desktop.domain.tariffs.units import DAY_NAMES, EXACT
from parking_desktop.domain.tariffs.week import DAY_US, WeekTable, week_table
from parking_desktop.domain.tariffs.zones import EPOCH, ZoneTimeline, timeline, to_us

HOUR_US = 3_600_000_000
_TWO_HOURS_US = 2 * HOUR_US  # half-up: floor((2·x + d) / 2d)
_FOREVER = 2**62
LineKind = Literal["time", "cap", "grace"]


@dataclass(frozen=True)
class PricedLine:
    """One line of a quote or receipt. ``amount`` is negative for a daily-maximum reduction."""

    kind: LineKind
    label: str
    amount: Decimal
    start: datetime | None = None  # local time, for "time" lines and cap periods
    end: datetime | None = None
    rate: str | None = None  # the band's name
    increments: int = 0

    def __str__(self) -> str:
        return f"{self.label} … {format_amount(self.amount)}"


@dataclass(frozen=True)
class PricedStay:
    lines: tuple[PricedLine, ...]
    total: Decimal  # the sum of the lines
    currency: str
    stay: timedelta  # real elapsed time (0 if the clock went backwards)
    billed: timedelta  # time charged for: the stay, at least the minimum, whole increments

    def __str__(self) -> str:
        body = "\n".join(str(line) for line in self.lines)
        return f"{body}\ntotal … {format_amount(self.total)} {self.currency}"


def format_amount(amount: Decimal) -> str:
    return f"−{-amount}" if amount < 0 else str(amount)


def line_cents(micros: int, cents_per_hour: int) -> int:
    """``micros`` of billed time at ``cents_per_hour``, rounded half-up to a cent: the one
    rounding of a line (exact: floor((2·x + d) / 2d) on integers)."""
    return (2 * micros * cents_per_hour + HOUR_US) // _TWO_HOURS_US


# One line's increments: (first, last) as indices from the arrival (last excluded), the rate,
# and the 24 h period from the arrival (always 0 without a cap).
Run = tuple[int, int, int, int]


class Pricer:
    """A version made ready to price many stays in one zone (see ``pricer``). Safe to share
    between threads; a process makes its own (the zone table holds a lock)."""

    def __init__(self, version: TariffVersion, zone: tzinfo) -> None:
        self.version = version
        self.zone = zone
        self._table: WeekTable = week_table(version)
        self._timeline: ZoneTimeline = timeline(zone)
        micro = timedelta(microseconds=1)
        self._inc = version.increment // micro
        self._minimum = version.minimum // micro
        # -1: no grace period, so even a zero-length stay pays the minimum (as compute_fee).
        self._grace = version.grace // micro if version.grace > timedelta(0) else -1
        cap = version.daily_maximum
        self._cap = None if cap is None else int(cap * 100)
        self._cents = [rate.cents_per_hour for rate in self._table.rates]
        # One rate all week and no cap: the walk over the week is not needed.
        self._flat = self._table.single_rate and self._cap is None

    # --- bulk --------------------------------------------------------------------------------
    def cents(self, arrived_us: int, left_us: int) -> int:
        """The total in cents of a stay given as UTC microseconds since 1970."""
        increments = self._increments(left_us - arrived_us)
        if increments == 0:
            return 0
        inc = self._inc
        if self._flat:
            return line_cents(increments * inc, self._cents[0])
        total = 0
        period_total = 0
        period = 0
        cap, cents = self._cap, self._cents
        for first, last, rate, run_period in self._runs(arrived_us, increments):
            if run_period != period:
                total += period_total if cap is None or period_total < cap else cap
                period_total, period = 0, run_period
            period_total += line_cents((last - first) * inc, cents[rate])
        return total + (period_total if cap is None or period_total < cap else cap)

    def _increments(self, stay_us: int) -> int:
        """How many increments are billed; 0 within the grace period."""
        stay = stay_us if stay_us > 0 else 0
        if stay <= self._grace:
            return 0
        billed = stay if stay > self._minimum else self._minimum
        return -(-billed // self._inc)

    def _runs(self, arrived: int, increments: int) -> list[Run]:
        """The billed increments grouped into lines: consecutive increments whose starts fall
        in the same rate (local time) and, with a cap, the same 24 h period from the arrival.

        Walks the billed time [arrived, arrived + increments × increment) piece by piece, a
        piece ending where the rate changes, the zone's offset changes (daylight saving), the
        local day ends (when there are holidays) or a 24 h period ends (with a cap)."""
        if self._flat:
            return [(0, increments, 0, 0)]
        inc = self._inc
        end = arrived + increments * inc
        table = self._table
        starts, rate_of, holidays = table.starts, table.rate_of, table.holidays
        offset_at = self._timeline.at
        period, period_end = 0, (arrived + DAY_US if self._cap is not None else _FOREVER)
        runs: list[Run] = []
        done = 0  # increments that start before t
        t = arrived
        while t < end:
            offset, offset_until = offset_at(t)
            wall = t + offset
            day, into_day = divmod(wall, DAY_US)
            weekday = 6 if day in holidays else (day + 3) % 7  # 1970-01-01 was a Thursday
            position = weekday * DAY_US + into_day
            i = bisect_right(starts, position) - 1
            wall_end = wall + starts[i + 1] - position
            if holidays and wall_end > wall - into_day + DAY_US:
                wall_end = wall - into_day + DAY_US  # the next day may be priced differently
            t = min(wall_end - offset, offset_until, end, period_end)
            last = -(-(t - arrived) // inc)  # increments that start before the piece's end
            if last > done:  # a sliver in which no increment starts adds nothing
                rate = rate_of[i]
                if runs and runs[-1][2] == rate and runs[-1][3] == period:
                    runs[-1] = (runs[-1][0], last, rate, period)
                else:
                    runs.append((done, last, rate, period))
                done = last
            if t == period_end:
                period, period_end = period + 1, period_end + DAY_US
        return runs

    # --- for people --------------------------------------------------------------------------
    def quote(self, arrived_at: datetime, left_at: datetime) -> PricedStay:
        arrived, left = to_us(arrived_at), to_us(left_at)
        stay_us = max(0, left - arrived)
        version = self.version
        stay = timedelta(microseconds=stay_us)
        increments = self._increments(left - arrived)
        if increments == 0 and self._grace >= 0:
            line = PricedLine(
                "grace", f"grace period: free (left within {_duration(version.grace)})",
                Decimal("0.00"),
            )
            return PricedStay((line,), line.amount, version.currency, stay, timedelta(0))
        inc = self._inc
        used = -(-stay_us // inc)  # increments the stay itself started
        dated = stay_us >= 6 * DAY_US  # weekday names alone would repeat
        lines: list[PricedLine] = []
        period, period_total, period_start = 0, 0, arrived
        for first, last, rate, run_period in self._runs(arrived, increments):
            if run_period != period:
                lines.extend(self._cap_line(period_total, period_start, dated))
                period, period_total = run_period, 0
                period_start = arrived + run_period * DAY_US
            count = last - first
            cents = line_cents(count * inc, self._cents[rate])
            period_total += cents
            line_start = arrived + first * inc
            line_end = arrived + last * inc
            name = self._table.rates[rate].name
            label = (
                f"{self._when(line_start, line_end, dated)}, {name}, "
                f"{self._quantity(count)} at {_money(self._cents[rate])}/h"
            )
            if increments > used and last > used:
                label += f", minimum charge {_duration(version.minimum)}"
            lines.append(
                PricedLine(
                    "time", label, _money(cents), self._local(line_start),
                    self._local(line_end), name, count,
                )
            )
        lines.extend(self._cap_line(period_total, period_start, dated))
        total = sum((line.amount for line in lines), Decimal("0.00"))
        billed = timedelta(microseconds=increments * inc)
        return PricedStay(tuple(lines), total, version.currency, stay, billed)

    def _cap_line(self, period_total: int, period_start: int, dated: bool) -> list[PricedLine]:
        cap = self._cap
        if cap is None or period_total <= cap:
            return []
        end = period_start + DAY_US
        label = (
            f"daily maximum applied, {self._when(period_start, end, dated)} "
            f"(at most {_money(cap)} per 24 h)"
        )
        return [
            PricedLine(
                "cap", label, -_money(period_total - cap), self._local(period_start),
                self._local(end),
            )
        ]

    def _local(self, micros: int) -> datetime:
        return (EPOCH + timedelta(microseconds=micros)).astimezone(self.zone)

    def _when(self, start: int, end: int, dated: bool) -> str:
        """'Mon 18:10–20:00', 'Mon 20:00–Tue 08:00'; with the date for long stays."""
        first, last = self._local(start), self._local(end)

        def day(moment: datetime) -> str:
            name = DAY_NAMES[moment.weekday()]
            return f"{name} {moment:%Y-%m-%d}" if dated else name

        if first.date() == last.date():
            return f"{day(first)} {first:%H:%M}–{last:%H:%M}"
        return f"{day(first)} {first:%H:%M}–{day(last)} {last:%H:%M}"

    def _quantity(self, count: int) -> str:
        if self.version.increment == EXACT:
            hours = Decimal(count) / HOUR_US
            return f"{hours.quantize(Decimal('0.0001'))} h"
        return f"{count} × {_duration(self.version.increment)}"


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _duration(value: timedelta) -> str:
    """'15 min', '1 h', '1 h 30 min'."""
    minutes = value // timedelta(minutes=1)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


@lru_cache(maxsize=256)
def pricer(version: TariffVersion, zone: tzinfo) -> Pricer:
    """The ready-made pricer of ``version`` in ``zone`` (cached: versions never change)."""
    return Pricer(version, zone)


def quote(
    version: TariffVersion, arrived_at: datetime, left_at: datetime, tz: tzinfo
) -> PricedStay:
    """What a stay from ``arrived_at`` to ``left_at`` (aware datetimes) costs at a site in
    ``tz``, with its lines."""
    return pricer(version, tz).quote(arrived_at, left_at)
