"""What-if repricing: the completed stays of the last N days priced by a draft tariff, against
what they were charged.

Built for a million stays: one plain SELECT gives (spot, arrival, departure, fee) as integers
(UTC microseconds, cents) computed by the database, read in big batches (a server-side cursor
on PostgreSQL), priced by ``Pricer.cents`` and summed per lot. No ORM object, no Decimal and
no datetime per stay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.types import UTCDateTime
from parking_desktop.domain.tariffs import Pricer
from parking_desktop.domain.tariffs.zones import timeline

BATCH = 50_000
HOUR_US = 3_600_000_000
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

# Arrival and departure as UTC microseconds, the fee in cents, computed by the database.
# SQLite keeps UTC times as 'YYYY-MM-DD HH:MM:SS.ffffff' (types.UTCDateTime): whole seconds
# by strftime, the six digits after the dot as they are.
_SQLITE_US = (
    "(CAST(strftime('%s', {c}) AS INTEGER) * 1000000 + CAST(substr({c}, 21, 6) AS INTEGER))"
)
_PG_US = "(extract(epoch FROM {c}) * 1000000)::bigint"  # numeric since PostgreSQL 14: exact


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


def stays_query(is_sqlite: bool, lot_id: int | None) -> Any:
    us = _SQLITE_US if is_sqlite else _PG_US
    cents = "CAST(ROUND(cost * 100) AS INTEGER)" if is_sqlite else "(cost * 100)::bigint"
    where = (
        "status = 'completed' AND parked_at IS NOT NULL AND cost IS NOT NULL"
        " AND left_at >= :since AND left_at < :until"
    )
    if lot_id is not None:
        where += " AND spot_id IN (SELECT id FROM parking_spots WHERE lot_id = :lot_id)"
    columns = f"spot_id, {us.format(c='parked_at')}, {us.format(c='left_at')}, {cents}"
    # Only the constants above go into the text; values are bound.
    select_rows = text(f"SELECT {columns} FROM reservations WHERE {where}")  # noqa: S608
    count = text(f"SELECT count(*) FROM reservations WHERE {where}")  # noqa: S608
    typed = (bindparam("since", type_=UTCDateTime), bindparam("until", type_=UTCDateTime))
    return select_rows.bindparams(*typed), count.bindparams(*typed)


class _Lot:
    __slots__ = ("by_hour", "count_by_hour", "draft", "less", "more", "now", "stays")

    def __init__(self) -> None:
        self.stays = self.now = self.draft = self.more = self.less = 0
        self.by_hour = [0] * 24
        self.count_by_hour = [0] * 24


def run(
    session: Session,
    *,
    is_sqlite: bool,
    lot_id: int | None,
    lots: dict[int, str],
    spots: dict[int, int],
    draft: Pricer,
    since: datetime,
    until: datetime,
    days: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> SimulationResult:
    """Reprice the stays; ``lots`` names the lots by id, ``spots`` gives each spot's lot."""
    rows_query, count_query = stays_query(is_sqlite, lot_id)
    params: dict[str, Any] = {"since": since, "until": until}
    if lot_id is not None:
        params["lot_id"] = lot_id
    total = int(session.execute(count_query, params).scalar_one())
    if progress is not None:
        progress(0, total)
    accs: dict[int, _Lot] = {}
    done = 0
    connection = session.connection().execution_options(yield_per=BATCH)
    result = connection.execute(rows_query, params)
    try:
        for batch in result.partitions(BATCH):
            if cancelled is not None and cancelled():
                raise SimulationCancelled
            _price_batch(batch, draft, spots, accs)
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))
    finally:
        result.close()
    if cancelled is not None and cancelled():
        raise SimulationCancelled
    shown = [lot_id] if lot_id is not None else sorted(lots, key=lambda i: (lots[i], i))
    return SimulationResult(
        since=since,
        until=until,
        days=days,
        currency=draft.version.currency,
        lots=tuple(_lot_result(i, lots[i], accs.get(i) or _Lot()) for i in shown if i in lots),
    )


def _price_batch(
    batch: Sequence[Any], draft: Pricer, spots: dict[int, int], accs: dict[int, _Lot]
) -> None:
    cents = draft.cents
    offset_at = timeline(draft.zone).at
    # The zone's offset is looked up again only when a stay arrives outside the span of the
    # last one (stays come roughly in time order, so this is rare).
    span_start, span_end, offset = 1, 0, 0
    for spot_id, arrived, left, charged in batch:
        acc = accs.get(spots[spot_id])
        if acc is None:
            acc = accs[spots[spot_id]] = _Lot()
        new = cents(arrived, left)
        if not span_start <= arrived < span_end:
            offset, span_end = offset_at(arrived)
            span_start = arrived
        hour = (arrived + offset) // HOUR_US % 24
        acc.stays += 1
        acc.now += charged
        acc.draft += new
        acc.by_hour[hour] += new - charged
        acc.count_by_hour[hour] += 1
        if new > charged:
            acc.more += 1
        elif new < charged:
            acc.less += 1


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
