"""One lot's stays of a period, read as integers and priced: the SELECT and the hot loop of
what-if repricing (simulation.py), shared by the process that runs it and its workers
(workers.py). No ORM object, no Decimal and no datetime per stay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from parking_desktop.domain.tariffs import Pricer
from parking_desktop.domain.tariffs.zones import timeline

BATCH = 50_000
HOUR_US = 3_600_000_000
DAY_US = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1).toordinal()

# Arrival and departure as UTC microseconds, the fee in cents. PostgreSQL computes them.
# SQLite keeps UTC times as text 'YYYY-MM-DD HH:MM:SS.ffffff' (types.UTCDateTime) and its date
# functions cost ~3 µs a call, so it gives the date as text (turned into days by a small
# cache here) and the microseconds into the day from plain substrings.
_SQLITE_DAY_US = (
    "(CAST(substr({c}, 12, 2) AS INTEGER) * 3600000000"
    " + CAST(substr({c}, 15, 2) AS INTEGER) * 60000000"
    " + CAST(substr({c}, 18, 2) AS INTEGER) * 1000000"
    " + CAST(substr({c}, 21, 6) AS INTEGER))"
)
_SQLITE_COLUMNS = (
    "substr(parked_at, 1, 10), " + _SQLITE_DAY_US.format(c="parked_at") + ", "
    "substr(left_at, 1, 10), " + _SQLITE_DAY_US.format(c="left_at") + ", "
    "CAST(ROUND(cost * 100) AS INTEGER)"
)
# extract(epoch) is numeric since PostgreSQL 14: exact to the microsecond.
_PG_COLUMNS = (
    "(extract(epoch FROM parked_at) * 1000000)::bigint, "
    "(extract(epoch FROM left_at) * 1000000)::bigint, (cost * 100)::bigint"
)
_WHERE = (
    "status = 'completed' AND left_at >= :since AND left_at < :until"
    " AND parked_at IS NOT NULL AND cost IS NOT NULL"
    " AND spot_id IN (SELECT id FROM parking_spots WHERE lot_id = :lot_id)"
)
# A worker's share: the stays whose id is in [lo, hi).
_RANGE = " AND id >= :lo AND id < :hi"


def stays_query(is_sqlite: bool, *, scan: bool = False, ranged: bool = False) -> str:
    """The SELECT of one lot's repriced stays (``scan``: SQLite reads the whole table), for
    ``adapters.db.stream.stream_rows``. Only the constants above go into the text; the
    period and the lot are bound (``ranged``: also the ids, ``lo`` and ``hi``)."""
    columns = _SQLITE_COLUMNS if is_sqlite else _PG_COLUMNS
    table = "reservations NOT INDEXED" if is_sqlite and scan else "reservations"
    where = _WHERE + (_RANGE if ranged else "")
    return f"SELECT {columns} FROM {table} WHERE {where}"  # noqa: S608


class Sums:
    """One lot's running sums, in cents."""

    __slots__ = ("by_hour", "count_by_hour", "draft", "less", "more", "now", "stays")

    def __init__(self) -> None:
        self.stays = self.now = self.draft = self.more = self.less = 0
        self.by_hour = [0] * 24
        self.count_by_hour = [0] * 24

    def as_tuple(self) -> tuple[Any, ...]:
        """Plain data, to send from a worker process."""
        return (
            self.stays,
            self.now,
            self.draft,
            self.more,
            self.less,
            self.by_hour,
            self.count_by_hour,
        )

    def add(self, other: tuple[Any, ...]) -> None:
        """Add a worker's sums (integers: the order of adding changes nothing)."""
        stays, now, draft, more, less, by_hour, count_by_hour = other
        self.stays += stays
        self.now += now
        self.draft += draft
        self.more += more
        self.less += less
        for hour in range(24):
            self.by_hour[hour] += by_hour[hour]
            self.count_by_hour[hour] += count_by_hour[hour]


def price_sqlite_batch(batch: Sequence[Any], draft: Pricer, acc: Sums) -> None:
    """SQLite rows: (arrival date, µs into it, departure date, µs into it, cents)."""
    day_us: dict[str, int] = {}

    def start_of(day: str) -> int:
        found = day_us.get(day)
        if found is None:
            found = day_us[day] = (date.fromisoformat(day).toordinal() - _EPOCH_DAY) * DAY_US
        return found

    price_batch(
        [
            (start_of(arrived_day) + arrived, start_of(left_day) + left, charged)
            for arrived_day, arrived, left_day, left, charged in batch
        ],
        draft,
        acc,
    )


def price_batch(batch: Sequence[Any], draft: Pricer, acc: Sums) -> None:
    """Rows (arrival µs, departure µs, cents charged): the hot loop, on local variables."""
    cents = draft.cents
    offset_at = timeline(draft.zone).at
    by_hour, count_by_hour = acc.by_hour, acc.count_by_hour
    now = new_total = more = less = 0
    # The zone's offset is looked up again only when a stay arrives outside the span of the
    # last one (stays come roughly in time order, so this is rare).
    span_start, span_end, offset = 1, 0, 0
    for arrived, left, charged in batch:
        new = cents(arrived, left)
        if not span_start <= arrived < span_end:
            offset, span_end = offset_at(arrived)
            span_start = arrived
        hour = (arrived + offset) // HOUR_US % 24
        now += charged
        new_total += new
        change = new - charged
        by_hour[hour] += change
        count_by_hour[hour] += 1
        if change > 0:
            more += 1
        elif change < 0:
            less += 1
    acc.stays += len(batch)
    acc.now += now
    acc.draft += new_total
    acc.more += more
    acc.less += less
