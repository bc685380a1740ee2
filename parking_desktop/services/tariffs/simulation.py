"""What-if repricing: the completed stays of the last N days priced by a draft tariff, against
what they were charged.

Built for a million stays: one plain SELECT per lot gives (arrival, departure, fee) as
integers (UTC microseconds, cents) computed by the database, read in big batches of plain
tuples from the driver (a server-side cursor on PostgreSQL; ``adapters.db.stream``), priced by
``Pricer.cents`` and summed (repricing.py). No ORM object, no Decimal and no datetime per stay.
From ``parallel_from`` stays on, the period is split by id between ``procs`` worker processes
(workers.py), each pricing its share on its own core; the sums are integers, so the result is
the same to the cent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.stream import read_ahead, stream_rows
from parking_desktop.adapters.db.types import UTCDateTime
from parking_desktop.domain.tariffs import Pricer, tariff_to_json
from parking_desktop.services.tariffs.repricing import (
    BATCH,
    Sums,
    price_batch,
    price_sqlite_batch,
    stays_query,
)
from parking_desktop.services.tariffs.workers import Task, WorkerCancelled, run_workers

_PERIOD = "status = 'completed' AND left_at >= :since AND left_at < :until"
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

# SQLite: when the period holds more than this share of all reservations, one pass over the
# table beats a walk of the left_at index with a table look-up per row (measured: 2x faster
# for a period holding all of them); PostgreSQL's planner makes that choice itself.
SCAN_SHARE = 0.25


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


def _typed() -> tuple[Any, Any]:
    return bindparam("since", type_=UTCDateTime), bindparam("until", type_=UTCDateTime)


def period_count(session: Session, since: datetime, until: datetime) -> int:
    """Completed stays of every lot that left in the period: an index-only count (the
    status, left_at, cost index), used as the progress total."""
    query = text(f"SELECT count(*) FROM reservations WHERE {_PERIOD}").bindparams(  # noqa: S608
        *_typed()
    )
    return int(session.execute(query, {"since": since, "until": until}).scalar_one())


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
    url: str | None = None,
    procs: int = 1,
    parallel_from: int = 0,
) -> SimulationResult:
    """Reprice the stays of ``lots`` (id: name), one lot after the other. ``progress`` gets
    (done, total): the total counts the period's stays of every lot (one cheap count), so with
    one lot of several it is an upper bound until the last call, (done, done). With ``url``
    (the database's), ``procs`` > 1 and at least ``parallel_from`` stays in the period, worker
    processes price them (the same result)."""
    total = period_count(session, since, until)
    scan = False
    if is_sqlite and total:
        table_rows = session.execute(text("SELECT max(id) FROM reservations")).scalar() or 0
        scan = total > SCAN_SHARE * int(table_rows)
    if progress is not None:
        progress(0, total)
    order = sorted(lots, key=lambda i: (lots[i], i))
    if url is not None and procs > 1 and total and total >= parallel_from:
        sums = _in_workers(
            session,
            url,
            is_sqlite,
            scan,
            order,
            draft,
            since,
            until,
            procs,
            total,
            progress,
            cancelled,
        )
        done = sum(acc.stays for acc in sums.values())
        results = [_lot_result(i, lots[i], sums.get(i, Sums())) for i in order]
    else:
        done, results = _here(
            session,
            is_sqlite,
            scan,
            order,
            lots,
            draft,
            since,
            until,
            total,
            progress,
            cancelled,
        )
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


def _in_workers(
    session: Session,
    url: str,
    is_sqlite: bool,
    scan: bool,
    order: list[int],
    draft: Pricer,
    since: datetime,
    until: datetime,
    procs: int,
    total: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> dict[int, Sums]:
    """The period's ids cut into ``procs`` equal ranges, one per worker (for every lot)."""
    query = text(f"SELECT min(id), max(id) FROM reservations WHERE {_PERIOD}").bindparams(  # noqa: S608
        *_typed()
    )
    first, last = session.execute(query, {"since": since, "until": until}).one()
    step = -(-(int(last) + 1 - int(first)) // procs)
    tasks: list[list[Task]] = [
        [(lot_id, int(first) + k * step, int(first) + (k + 1) * step) for lot_id in order]
        for k in range(procs)
    ]
    done = 0

    def rows_done(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, max(total, done))

    try:
        return run_workers(
            url=url,
            is_sqlite=is_sqlite,
            scan=scan,
            tasks=tasks,
            document=tariff_to_json(draft.version),
            zone=str(getattr(draft.zone, "key", draft.zone)),
            since=since,
            until=until,
            rows_done=rows_done,
            cancelled=cancelled,
        )
    except WorkerCancelled:
        raise SimulationCancelled from None


def _here(
    session: Session,
    is_sqlite: bool,
    scan: bool,
    order: list[int],
    lots: dict[int, str],
    draft: Pricer,
    since: datetime,
    until: datetime,
    total: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> tuple[int, list[LotSimulation]]:
    """In this process: one lot after the other."""
    rows_query = stays_query(is_sqlite, scan=scan)
    price = price_sqlite_batch if is_sqlite else price_batch
    done = 0
    results = []
    for lot_id in order:
        acc = Sums()
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
    return done, results


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _lot_result(lot_id: int, name: str, acc: Sums) -> LotSimulation:
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
