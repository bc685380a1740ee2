"""Reading a very large result in batches of plain tuples, straight from the driver.

For what-if repricing (a million rows of a few integers): SQLAlchemy's result rows cost about
as much again as the database's own work, so this talks to the DBAPI cursor, like ``bulk``
does for writes. SQLite: an ordinary cursor (the rows are produced as they are fetched).
PostgreSQL: a server-side (named) cursor in binary form, so the rows never sit in memory all
at once."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Generator, Mapping
from datetime import UTC, datetime
from itertools import count
from typing import Any, TypeVar

from sqlalchemy import Connection

Batches = Generator[list[tuple[Any, ...]], None, None]
T = TypeVar("T")
_END = object()
_NAMED = re.compile(r"(?<![:\w]):(\w+)")
_cursors = count(1)


def stream_rows(connection: Connection, sql: str, params: Mapping[str, Any], batch: int) -> Batches:
    """The rows of ``sql`` (parameters written ``:name``) in lists of up to ``batch``. Aware
    datetimes are bound in each database's storage form (on SQLite: naive-UTC text, as
    ``types.UTCDateTime`` writes it). Use inside the connection's transaction."""
    raw = connection.connection.driver_connection
    assert raw is not None
    if connection.dialect.name == "sqlite":
        values = {k: _sqlite_value(v) for k, v in params.items()}
        cursor = raw.cursor()
        try:
            cursor.execute(sql, values)
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()
        return
    pg_sql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
    with raw.cursor(name=f"pd_stream_{next(_cursors)}", binary=True) as cursor:
        cursor.itersize = batch
        cursor.execute(pg_sql, dict(params))
        while rows := cursor.fetchmany(batch):
            yield rows


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given as a UTC parameter")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def read_ahead(batches: Generator[T, None, None], ahead: int = 2,
               name: str = "stream-rows") -> Generator[T, None, None]:
    """``batches`` read on a helper thread, up to ``ahead`` batches before they are used: both
    drivers let go of the GIL while the database works, so the next batch is read (or, for
    ``bulk``, produced) while this one is used, on the second core. An error while reading is
    raised here; a consumer that stops early (closes this generator) stops the reader, which
    closes ``batches`` (and its cursor) on its own thread."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            offer(exc)
        finally:
            batches.close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
