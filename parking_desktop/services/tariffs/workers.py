"""What-if repricing in worker processes: a million stays take most of their time in Python
(the pricing loop), which one process runs on one core. Here the period's stays are split
into id ranges and each of ``procs`` processes reads and prices its share over its own
database connection; the parent only adds the integer sums, so the result is exactly the
one-process result.

Processes are started by ``services/processes.py`` (spawned, one queue, a stop event). A worker
reports rows done through the queue (the parent turns that into progress) and stops between
batches when the parent sets the stop event (cancel). A worker's error comes back as one line
and fails the whole run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.adapters.db.stream import read_ahead, stream_rows
from parking_desktop.domain.errors import DomainError
from parking_desktop.domain.tariffs import pricer, tariff_from_json
from parking_desktop.services.processes import spawned
from parking_desktop.services.tariffs.repricing import (
    BATCH,
    Sums,
    price_batch,
    price_sqlite_batch,
    stays_query,
)

Task = tuple[int, int, int]  # lot id, first id, end id (excluded)
POLL_S = 0.1  # how often the parent looks at cancel while waiting


class WorkerCancelled(Exception):
    pass


def run_workers(
    *,
    url: str,
    is_sqlite: bool,
    scan: bool,
    tasks: list[list[Task]],
    document: dict[str, Any],
    zone: str,
    since: datetime,
    until: datetime,
    rows_done: Callable[[int], None],
    cancelled: Callable[[], bool] | None,
) -> dict[int, Sums]:
    """One process per list of ``tasks``; the sums per lot. ``rows_done(n)`` after each batch
    of any worker; raises WorkerCancelled when ``cancelled()`` (the workers stop first)."""

    def check_cancel() -> None:
        if cancelled is not None and cancelled():
            raise WorkerCancelled

    sums: dict[int, Sums] = {}
    finished = 0
    shares = [(url, is_sqlite, scan, share, document, zone, since, until) for share in tasks]
    with spawned(work, shares, name="repricing") as pool:
        for kind, value in pool.messages(poll_s=POLL_S, idle=check_cancel,
                                         lost="A repricing process ended without its result."):
            if kind == "rows":
                rows_done(value)
            elif kind == "done":
                finished += 1
                for lot_id, plain in value.items():
                    sums.setdefault(lot_id, Sums()).add(plain)
                if finished == len(shares):
                    break
            else:
                raise DomainError(f"Repricing failed in a worker process: {value}")
    return sums


def work(
    url: str,
    is_sqlite: bool,
    scan: bool,
    tasks: list[Task],
    document: dict[str, Any],
    zone: str,
    since: datetime,
    until: datetime,
    out: Any,
    stop: Any,
) -> None:
    """A worker's life: its own engine, its tasks, one 'done' with plain sums (or 'error')."""
    try:
        draft = pricer(tariff_from_json(document), ZoneInfo(zone))
        price = price_sqlite_batch if is_sqlite else price_batch
        sql = stays_query(is_sqlite, scan=scan, ranged=True)
        engine = make_engine(url)
        results: dict[int, tuple[Any, ...]] = {}
        try:
            with engine.connect() as connection, connection.begin():
                for lot_id, lo, hi in tasks:
                    acc = Sums()
                    params = {"since": since, "until": until, "lot_id": lot_id, "lo": lo, "hi": hi}
                    batches = read_ahead(stream_rows(connection, sql, params, BATCH))
                    try:
                        for batch in batches:
                            if stop.is_set():
                                return
                            price(batch, draft, acc)
                            out.put(("rows", len(batch)))
                    finally:
                        batches.close()
                    results[lot_id] = acc.as_tuple()
        finally:
            engine.dispose()
        out.put(("done", results))
    except Exception as exc:
        out.put(("error", f"{type(exc).__name__}: {exc}"))
