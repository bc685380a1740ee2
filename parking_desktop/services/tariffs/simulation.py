"""What-if repricing: the completed stays of the last N days priced by a draft tariff, against
what they were charged.

Built for a million stays: one plain SELECT per lot gives (arrival, departure, fee) as
integers (UTC microseconds, cents) computed by the database, read in big batches of plain
tuples from the driver (a server-side cursor on PostgreSQL; ``adapters.db.stream``), priced by
``Pricer.cents`` and summed. No ORM object, no Decimal and no datetime per stay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.stream import read_ahead, stream_rows
from parking_desktop.adapters.db.types import UTCDateTime
from parking_desktop.domain.tariffs import Pricer
from parking_desktop.domain.tariffs.zones import timeline

BATCH = 50_000
HOUR_US = 3_600_000_000
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

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
_PERIOD = "status = 'completed' AND left_at >= :since AND left_at < :until"
_WHERE = (
    "status = 'completed' AND left_at >= :since AND left_at < :until"
    " AND parked_at IS NOT NULL AND cost IS NOT NULL"
    " AND spot_id IN (SELECT id FROM parking_spots WHERE lot_id = :lot_id)"
)
# SQLite: when the period holds more than this share of all reservations, one pass over the
# table beats a walk of the left_at index with a table look-up per row (measured: 2x faster
# for a period holding all of them); PostgreSQL's planner makes that choice itself.
SCAN_SHARE = 0.25
DAY_US = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1).toordinal()


class SimulationCancelled(Exception):
    """Raised by ``simulate`` when ``cancelled()`` said stop: no partial figures come back."""


@dataclass(frozen=True)
class LotSimulation:
    """One lot's completed stays of the period: what they were charged and what the draft
    would have charged."""

    lot_id: int
    lot_name: str
    stays: int
    revenue_now: Decimal
    revenue_draft: Decimal
    more: int  # stays that would cost more with the draft
    less: int
    same: int
    # By local hour of arrival (0-23): the change of revenue, and the number of stays.
    change_by_hour: tuple[Decimal, ...]
    stays_by_hour: tuple[int, ...]

    @property
    def change(self) -> Decimal:
        return self.revenue_draft - self.revenue_now

    @property
    def change_percent(self) -> Decimal | None:
        """The change in % of today's revenue, to 0.1; None when today's revenue is 0."""
        if not self.revenue_now:
            return None
        return (self.change * 100 / self.revenue_now).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True)
class SimulationResult:
    since: datetime
    until: datetime
    days: int
    currency: str
    lots: tuple[LotSimulation, ...]

    @property
    def stays(self) -> int:
        return sum(lot.stays for lot in self.lots)

    @property
    def revenue_now(self) -> Decimal:
        return sum((lot.revenue_now for lot in self.lots), Decimal("0.00"))

    @property
    def revenue_draft(self) -> Decimal:
        return sum((lot.revenue_draft for lot in self.lots), Decimal("0.00"))

    @property
    def change(self) -> Decimal:
        return self.revenue_draft - self.revenue_now


def stays_query(is_sqlite: bool, *, scan: bool = False) -> str:
    """The SELECT of one lot's repriced stays (``scan``: SQLite reads the whole table), for
    ``adapters.db.stream.stream_rows``. Only the constants above go into the text; the
    period and the lot are bound."""
    columns = _SQLITE_COLUMNS if is_sqlite else _PG_COLUMNS
    table = "reservations NOT INDEXED" if is_sqlite and scan else "reservations"
    return f"SELECT {columns} FROM {table} WHERE {_WHERE}"  # noqa: S608


def _typed() -> tuple[Any, Any]:
    return bindparam("since", type_=UTCDateTime), bindparam("until", type_=UTCDateTime)


def period_count(session: Session, since: datetime, until: datetime) -> int:
    """Completed stays of every lot that left in the period: an index-only count (the
    status, left_at, cost index), used as the progress total."""
    query = text(f"SELECT count(*) FROM reservations WHERE {_PERIOD}").bindparams(  # noqa: S608
        *_typed()
    )
    return int(session.execute(query, {"since": since, "until": until}).scalar_one())


class _Lot:
    """One lot's running sums, in cents."""

    __slots__ = ("by_hour", "count_by_hour", "draft", "less", "more", "now", "stays")

    def __init__(self) -> None:
        self.stays = self.now = self.draft = self.more = self.less = 0
        self.by_hour = [0] * 24
        self.count_by_hour = [0] * 24


def run(
    session: Session,
    *,
    is_sqlite: bool,
    lots: dict[int, str],
    draft: Pricer,
    since: datetime,
    until: datetime,
    days: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> SimulationResult:
    """Reprice the stays of ``lots`` (id: name), one lot after the other. ``progress`` gets
    (done, total): the total counts the period's stays of every lot (one cheap count), so with
    one lot of several it is an upper bound until the last call, (done, done)."""
    total = period_count(session, since, until)
    scan = False
    if is_sqlite and total:
        table_rows = session.execute(text("SELECT max(id) FROM reservations")).scalar() or 0
        scan = total > SCAN_SHARE * int(table_rows)
    rows_query = stays_query(is_sqlite, scan=scan)
    price = _price_sqlite_batch if is_sqlite else _price_batch
    if progress is not None:
        progress(0, total)
    done = 0
    results = []
    for lot_id in sorted(lots, key=lambda i: (lots[i], i)):
        acc = _Lot()
        if total:
            params = {"since": since, "until": until, "lot_id": lot_id}
            batches = read_ahead(stream_rows(session.connection(), rows_query, params, BATCH))
            try:
                for batch in batches:
                    if cancelled is not None and cancelled():
                        raise SimulationCancelled
                    price(batch, draft, acc)
                    done += len(batch)
                    if progress is not None:
                        progress(done, max(total, done))
            finally:
                batches.close()  # closes the cursor now, also when cancelled
        results.append(_lot_result(lot_id, lots[lot_id], acc))
    if cancelled is not None and cancelled():
        raise SimulationCancelled
    if progress is not None:
        progress(done, done)
    return SimulationResult(
        since=since,
        until=until,
        days=days,
        currency=draft.version.currency,
        lots=tuple(results),
    )


def _price_sqlite_batch(batch: Sequence[Any], draft: Pricer, acc: _Lot) -> None:
    """SQLite rows: (arrival date, µs into it, departure date, µs into it, cents)."""
    day_us: dict[str, int] = {}

    def start_of(day: str) -> int:
        found = day_us.get(day)
        if found is None:
            found = day_us[day] = (date.fromisoformat(day).toordinal() - _EPOCH_DAY) * DAY_US
        return found

    _price_batch(
        [
            (start_of(arrived_day) + arrived, start_of(left_day) + left, charged)
            for arrived_day, arrived, left_day, left, charged in batch
        ],
        draft,
        acc,
    )


def _price_batch(batch: Sequence[Any], draft: Pricer, acc: _Lot) -> None:
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


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _lot_result(lot_id: int, name: str, acc: _Lot) -> LotSimulation:
    return LotSimulation(
        lot_id=lot_id,
        lot_name=name,
        stays=acc.stays,
        revenue_now=_money(acc.now),
        revenue_draft=_money(acc.draft),
        more=acc.more,
        less=acc.less,
        same=acc.stays - acc.more - acc.less,
        change_by_hour=tuple(_money(c) for c in acc.by_hour),
        stays_by_hour=tuple(acc.count_by_hour),
    )
