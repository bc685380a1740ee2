"""The CSV export writer: one SELECT that formats every cell in the database, streamed to a
private file with constant memory.

Why the formatting happens in SQL: on PostgreSQL the rows then leave the server already as CSV
(``COPY (SELECT …) TO STDOUT``) and Python only copies bytes; on SQLite the rows arrive as
finished CSV lines (``build_lines_select``, with each spot's and each driver's cells formatted
once), joined and written a batch at a time. Both paths produce
the same bytes for the same data (the tests compare them byte for byte):

* UTF-8 with a byte-order mark, ``\\n`` line ends, RFC 4180 quoting, empty cell for "no value";
* times in the site's time zone as ``YYYY-MM-DD HH:MM:SS`` (SQLite has no named time zones, so the
  UTC offsets of the zone over the data's time span are written into the SELECT as a CASE);
* money with two decimals, a plain number, and the next cell its ISO 4217 currency (empty with
  an empty cost); duration = parked time in hours, rounded half-up to two decimals;
* a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  apostrophe, so no spreadsheet runs it as a formula (OWASP "CSV injection");
* optional anonymising: drivers become stable pseudonyms (``Driver-`` + 10 hex digits of
  SHA-256 over a site key and the user id), vehicle numbers keep only their last two characters.

The file is written under a temporary name (0600) and renamed when complete, so a half-written
file never carries the final name. Cancellation is checked between batches, and a watcher thread
interrupts a query that is still running on the server (sqlite3 ``interrupt()``, PostgreSQL
cancel request), so a cancel takes effect within a fraction of a second."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import operator
import os
import re
import select
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from parking_desktop.domain.states import OPEN_BOOKINGS, BookingStatus
from parking_desktop.files import WriteBehind

HEADER = (
    "Reservation ID", "Spot Number", "Parking Lot", "Address", "Vehicle Number",
    "Parking Start", "Parking End", "Duration (Hours)", "Cost", "Currency", "Status",
    "Created At",
)
DRIVER_HEADER = "Driver"
BOM = "\ufeff"
ACTIVE = "Active"
WALK_IN = "Walk-in"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BATCH_ROWS = 5000
WATCH_INTERVAL = 0.05  # seconds between cancel checks by the watcher thread
TICK_INTERVAL = 0.5  # seconds between progress reports
INTERRUPT_INTERVAL = 0.1  # seconds between interrupts once cancelled, until the writer stops
# SQLite stores UTCDateTime as naive UTC text in this format (SQLAlchemy's storage format).
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

ProgressCallback = Callable[[int, int], None]


class CopySink(Protocol):
    """A second place the file's bytes go as they are written (``main.py export``'s --out
    file), so the finished export need not be read back and copied. Its ``write`` must not
    raise: a failed copy is the caller's to report, not a failed export."""

    def write(self, data: bytes, /) -> object: ...


class ExportCancelled(Exception):
    """The export was cancelled while it was being written; no file is left behind."""


class ExportFilter(Protocol):
    """Which reservations go into the file, all conditions combined with AND: one driver
    (``user_id``), one lot (``lot_id``), reserved in [``since``, ``until``) (UTC), and an
    attendant's shift: what ``staff_id`` checked in, or closed with one of the
    ``staff_closing`` activities, at or after ``staff_since``. None means "any".

    The service decides these (``services/exports/filters.py`` has the dataclass it builds);
    this module only turns them into SQL."""

    @property
    def user_id(self) -> int | None: ...
    @property
    def lot_id(self) -> int | None: ...
    @property
    def since(self) -> datetime | None: ...
    @property
    def until(self) -> datetime | None: ...
    @property
    def staff_id(self) -> int | None: ...
    @property
    def staff_since(self) -> datetime | None: ...
    @property
    def staff_closing(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class CsvOptions:
    tz: ZoneInfo
    driver_column: bool = False  # append a "Driver" column (scopes spanning several drivers)
    anonymize: bool = False
    pseudonym_key: str = ""  # hex; required when anonymize is on
    # The site's currency (CURRENCY): reservations.cost is in it. Three capitals, so the cell
    # is a literal in the SELECT that needs no quoting and no formula guard.
    currency: str = "EUR"

    @property
    def header(self) -> tuple[str, ...]:
        return (*HEADER, DRIVER_HEADER) if self.driver_column else HEADER


@dataclass(frozen=True)
class WriteResult:
    path: Path
    rows: int
    size: int


# --- plain-Python forms of the cell rules (used for SQLite functions, tests and the GUI) ---------

def neutralise(text: str) -> str:
    """Make a cell harmless to spreadsheets: a leading formula character gets an apostrophe."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def mask_vehicle(plate: str) -> str:
    return "*" * max(len(plate) - 2, 0) + plate[-2:]


def mask_sql(dialect: str, column: str) -> str:
    """The SQL expression anonymised exports mask ``column`` with (retention stores it)."""
    options = CsvOptions(tz=ZoneInfo("UTC"))
    return _dialect(dialect, options, None).mask(column)


def pseudonym(key: str, user_id: int) -> str:
    digest = hashlib.sha256(f"{key}:{user_id}".encode()).hexdigest()
    return "Driver-" + digest[:10].upper()


# --- SQL ------------------------------------------------------------------------------------------
# Every value placed in the SQL text is produced or validated here (integers, our own timestamp
# formatting, a validated zone name, a hex key), then quoted; that is why the text can be
# composed, and why the benchmark can hand exactly the same SELECT to sqlite3 and psql.

_ZONE_RE = re.compile(r"^[A-Za-z0-9_+\-/]+$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_HEX_RE = re.compile(r"^[0-9a-f]*$")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Dialect:
    name = ""
    tab = ""
    cr = ""

    def __init__(self, options: CsvOptions, span: tuple[datetime, datetime] | None) -> None:
        self.options = options
        self.span = span
        self._offsets: tuple[int, list[tuple[datetime, int]]] | None = None

    def offsets(self) -> tuple[int, list[tuple[datetime, int]]]:
        if self._offsets is None:
            self._offsets = utc_offsets(self.options.tz, self.span)
        return self._offsets

    def stamp(self, moment: datetime) -> str:
        raise NotImplementedError

    def local(self, column: str) -> str:
        raise NotImplementedError

    def duration(self) -> str:
        raise NotImplementedError

    def money(self, column: str) -> str:
        raise NotImplementedError

    def mask(self, column: str) -> str:
        raise NotImplementedError

    def pseudonym(self, column: str) -> str:
        raise NotImplementedError

    def json_reservation_id(self, column: str) -> str:
        raise NotImplementedError

    def neutral(self, expr: str) -> str:
        triggers = ", ".join([*(_quote(c) for c in FORMULA_TRIGGERS[:4]), self.tab, self.cr])
        return f"CASE WHEN substr({expr}, 1, 1) IN ({triggers}) THEN '''' || {expr} ELSE {expr} END"


class _SQLite(_Dialect):
    name = "sqlite"
    tab = "char(9)"
    cr = "char(13)"

    def stamp(self, moment: datetime) -> str:
        return _quote(moment.astimezone(UTC).strftime(SQLITE_TIME_FORMAT))

    def local(self, column: str) -> str:
        # datetime() with a '+N seconds' modifier chosen by a CASE over the zone's transitions.
        initial, transitions = self.offsets()
        if not transitions:
            modifier = _quote(f"{initial:+d} seconds")
        else:
            branches = []
            previous = initial
            for moment, offset in transitions:
                branches.append(f"WHEN {column} < {self.stamp(moment)} "
                                f"THEN {_quote(f'{previous:+d} seconds')}")
                previous = offset
            modifier = f"CASE {' '.join(branches)} ELSE {_quote(f'{previous:+d} seconds')} END"
        return f"datetime({column}, {modifier})"

    def duration(self) -> str:
        # Whole milliseconds between the two times (SQLite keeps times to the millisecond;
        # rounding the float difference to whole ms is exact), then hundredths of an hour,
        # half-up, in integer arithmetic.
        millis = ("CAST(round((julianday(r.left_at) - julianday(r.parked_at)) * 86400000)"
                  " AS INTEGER)")
        return f"printf('%.2f', (({millis} + 18000) / 36000) / 100.0)"

    def money(self, column: str) -> str:
        return f"printf('%.2f', {column})"

    def mask(self, column: str) -> str:
        return (f"substr('{'*' * 15}', 1, max(length({column}) - 2, 0)) "
                f"|| substr({column}, -2)")

    def pseudonym(self, column: str) -> str:
        return f"pd_pseudonym({column})"  # a Python function registered on the connection

    def json_reservation_id(self, column: str) -> str:
        return f"json_extract({column}, '$.reservation_id')"


class _PostgreSQL(_Dialect):
    name = "postgresql"
    tab = "chr(9)"
    cr = "chr(13)"

    def stamp(self, moment: datetime) -> str:
        return _quote(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")) + "::timestamptz"

    def local(self, column: str) -> str:
        zone = self.options.tz.key
        if not _ZONE_RE.fullmatch(zone):
            raise ValueError(f"unexpected time zone name {zone!r}")
        return f"to_char({column} AT TIME ZONE {_quote(zone)}, 'YYYY-MM-DD HH24:MI:SS')"

    def duration(self) -> str:
        # As on SQLite: each time to the millisecond, then hundredths of an hour, half-up.
        millis = ("(round(extract(epoch FROM r.left_at) * 1000)"
                  " - round(extract(epoch FROM r.parked_at) * 1000))")
        return f"(floor(({millis} + 18000) / 36000) / 100)::numeric(14,2)::text"

    def money(self, column: str) -> str:
        return f"{column}::numeric(14,2)::text"

    def mask(self, column: str) -> str:
        return f"repeat('*', greatest(length({column}) - 2, 0)) || right({column}, 2)"

    def pseudonym(self, column: str) -> str:
        key = self.options.pseudonym_key
        return ("'Driver-' || upper(substr(encode(sha256(convert_to("
                f"{_quote(key)} || ':' || {column}::text, 'UTF8')), 'hex'), 1, 10))")

    def json_reservation_id(self, column: str) -> str:
        return f"({column} ->> 'reservation_id')::bigint"


def _dialect(name: str, options: CsvOptions,
             span: tuple[datetime, datetime] | None) -> _Dialect:
    if options.anonymize and not (options.pseudonym_key and _HEX_RE.fullmatch(
            options.pseudonym_key)):
        raise ValueError("anonymising needs a hexadecimal pseudonym key")
    if not _CURRENCY_RE.fullmatch(options.currency):
        raise ValueError(f"unexpected currency code {options.currency!r}")
    if name == "sqlite":
        return _SQLite(options, span)
    if name == "postgresql":
        return _PostgreSQL(options, span)
    raise ValueError(f"CSV export does not support the {name} database")


def _where(d: _Dialect, flt: ExportFilter) -> tuple[str, bool]:
    """The WHERE clause, and whether it needs parking_spots joined."""
    conditions: list[str] = []
    if flt.user_id is not None:
        conditions.append(f"r.user_id = {int(flt.user_id)}")
    if flt.lot_id is not None:
        conditions.append(f"s.lot_id = {int(flt.lot_id)}")
    if flt.since is not None:
        conditions.append(f"r.reserved_at >= {d.stamp(flt.since)}")
    if flt.until is not None:
        conditions.append(f"r.reserved_at < {d.stamp(flt.until)}")
    if flt.staff_id is not None:
        staff = int(flt.staff_id)
        since = d.stamp(flt.staff_since or datetime(1970, 1, 1, tzinfo=UTC))
        kinds = ", ".join(_quote(k) for k in flt.staff_closing)
        conditions.append(
            f"((r.created_by = {staff} AND r.reserved_at >= {since}) OR r.id IN ("  # noqa: S608
            f"SELECT {d.json_reservation_id('a.activity_data')} FROM user_activity a "
            f"WHERE a.user_id = {staff} AND a.activity_type IN ({kinds}) "
            f"AND a.timestamp >= {since}))"
        )
    clause = " WHERE " + " AND ".join(conditions) if conditions else ""
    return clause, flt.lot_id is not None


def build_select(dialect: str, flt: ExportFilter, options: CsvOptions,
                 span: tuple[datetime, datetime] | None = None) -> str:
    """The SELECT whose rows are the CSV lines' cells (without header), in reservation id
    order: what the PostgreSQL writer copies out, and what the benchmark hands to the
    databases' own CSV tools as the reference.

    ``span`` bounds the UTC times in the data; SQLite needs it to know which time-zone
    transitions to spell out (see ``data_span``)."""
    return _select(_dialect(dialect, options, span), flt, options, lines=False)


def build_lines_select(flt: ExportFilter, options: CsvOptions,
                       span: tuple[datetime, datetime] | None = None) -> str:
    """SQLite: the same export as rows of one finished CSV line each (csv.writer's minimal
    quoting, ``\n`` line ends): one value per row for Python instead of a dozen, and no
    csv.writer pass. The cells of a spot (spot, lot, address) and of a driver are formatted,
    neutralised and quoted once per spot and per driver, not once per reservation; only the
    reservation's own text (the vehicle) is quoted per row."""
    return _select(_dialect("sqlite", options, span), flt, options, lines=True)


def _csv_quoted(expr: str) -> str:
    """SQLite: ``expr`` as a CSV cell - in double quotes, its double quotes doubled, when it
    holds a comma, a double quote or a line feed; NULL as an empty cell."""
    return (f"CASE WHEN {expr} GLOB '*[,\"'||char(10)||']*' "
            f"THEN '\"'||replace({expr}, '\"', '\"\"')||'\"' ELSE ifnull({expr}, '') END")


def _select(d: _Dialect, flt: ExportFilter, options: CsvOptions, *, lines: bool) -> str:
    vehicle = d.mask("r.vehicle_number") if options.anonymize else "r.vehicle_number"
    completed = f"r.status = {_quote(BookingStatus.COMPLETED)}"
    duration_known = f"{completed} AND r.parked_at IS NOT NULL AND r.left_at IS NOT NULL"
    spot_cells = [d.neutral("s.number"), d.neutral("l.name"), d.neutral("l.address")]
    # Status needs no quoting: a CHECK constraint keeps it to four plain words.
    rest = [
        d.local("r.parked_at"),
        f"CASE WHEN r.status IN ({', '.join(map(_quote, OPEN_BOOKINGS))}) THEN '{ACTIVE}' "
        f"WHEN {completed} THEN {d.local('r.left_at')} END",
        f"CASE WHEN {duration_known} THEN {d.duration()} END",
        f"CASE WHEN r.cost IS NOT NULL THEN {d.money('r.cost')} END",
        f"CASE WHEN r.cost IS NOT NULL THEN {_quote(options.currency)} END",
        "r.status",
        d.local("r.reserved_at"),
    ]
    who = ("COALESCE(NULLIF(u.full_name, '') || ' (' || u.username || ')', u.username)")
    per_spot = d.name == "sqlite"  # PostgreSQL: the SELECT as it was (see the module doc)
    ctes: list[str] = []
    if not per_spot:
        columns = ["r.id", *spot_cells, d.neutral(vehicle), *rest]
        joins = ("FROM reservations r JOIN parking_spots s ON s.id = r.spot_id "
                 "JOIN parking_lots l ON l.id = s.lot_id")
    else:
        # Each spot's three cells once (about a thousand spots, not a million rows); the
        # LEFT JOIN keeps reservations as the outer loop, in id order (every reservation
        # has a spot, so it loses no row).
        spots = "FROM parking_spots s JOIN parking_lots l ON l.id = s.lot_id"
        if lines:
            cells = " || ',' || ".join(_csv_quoted(c) for c in spot_cells)
            ctes.append(f"sf(id, cells) AS MATERIALIZED (SELECT s.id, {cells} {spots})")
            spot_columns = ["sf.cells"]
        else:
            cells = ", ".join(spot_cells)
            ctes.append(f"sf(id, c1, c2, c3) AS MATERIALIZED (SELECT s.id, {cells} {spots})")
            spot_columns = ["sf.c1", "sf.c2", "sf.c3"]
        vehicle_cell = d.neutral(vehicle)
        columns = ["r.id", *spot_columns, _csv_quoted(vehicle_cell) if lines else vehicle_cell,
                   *rest]
        joins = "FROM reservations r LEFT JOIN sf ON sf.id = r.spot_id"
        if flt.lot_id is not None:
            joins += " JOIN parking_spots s ON s.id = r.spot_id"
    if options.driver_column:
        if options.anonymize:
            driver = d.pseudonym("r.user_id")  # "Driver-" and hex digits: nothing to quote
        elif per_spot:
            cell = _csv_quoted(d.neutral(who)) if lines else d.neutral(who)
            ctes.append(f"uf(id, who) AS MATERIALIZED (SELECT u.id, {cell} FROM users u)")  # noqa: S608
            joins += " LEFT JOIN uf ON uf.id = r.user_id"
            driver = "uf.who"
        else:
            # "Full Name (username)", or the username alone when no full name is on file.
            driver = d.neutral(who)
            joins += " LEFT JOIN users u ON u.id = r.user_id"
        columns.append(f"CASE WHEN r.user_id IS NULL THEN '{WALK_IN}' ELSE {driver} END")
    where, _ = _where(d, flt)
    head = f"WITH {', '.join(ctes)} " if ctes else ""
    if lines:
        line = f"printf('{','.join(['%s'] * len(columns))}', {', '.join(columns)})"
        return f"{head}SELECT {line} {joins}{where} ORDER BY r.id"
    return f"{head}SELECT {', '.join(columns)} {joins}{where} ORDER BY r.id"


def build_count(dialect: str, flt: ExportFilter) -> str:
    d = _dialect(dialect, CsvOptions(tz=ZoneInfo("UTC")), None)
    where, needs_spot = _where(d, flt)
    joins = "FROM reservations r"
    if needs_spot:
        joins += " JOIN parking_spots s ON s.id = r.spot_id"
    return f"SELECT count(*) {joins}{where}"


# --- time zones for SQLite ------------------------------------------------------------------

def _offset(tz: ZoneInfo, epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, UTC).astimezone(tz)
    delta = moment.utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def utc_offsets(tz: ZoneInfo, span: tuple[datetime, datetime] | None
                ) -> tuple[int, list[tuple[datetime, int]]]:
    """The zone's UTC offset (seconds) at the start of ``span`` and every change inside it, as
    (first UTC instant with the new offset, new offset). Found by stepping a day at a time and
    bisecting to the second; transitions fall on whole seconds."""
    if span is None:
        now = int(datetime.now(UTC).timestamp())
        return _offset(tz, now), []
    start, end = (int(m.timestamp()) for m in span)
    current = _offset(tz, start)
    initial = current
    changes: list[tuple[datetime, int]] = []
    day = 86400
    t = start
    while t < end:
        nxt = min(t + day, end)
        if _offset(tz, nxt) != current:
            low, high = t, nxt  # offset(low) == current, offset(high) != current
            while high - low > 1:
                mid = (low + high) // 2
                if _offset(tz, mid) == current:
                    low = mid
                else:
                    high = mid
            current = _offset(tz, high)
            changes.append((datetime.fromtimestamp(high, UTC), current))
            t = high
            continue
        t = nxt
    return initial, changes


def data_span(connection: Any, dialect: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The UTC range the reservations' times fall in (indexed min/max), with a day of margin."""
    # Three scalar subqueries: each is one step down an index; one SELECT of the three
    # aggregates scans the whole table.
    row = connection.execute(
        "SELECT (SELECT min(reserved_at) FROM reservations),"
        " (SELECT max(reserved_at) FROM reservations),"
        " (SELECT max(left_at) FROM reservations)"
    ).fetchone()
    values = [_as_utc(v) for v in row if v is not None]
    if not values:
        return None
    return min(values) - timedelta(days=1), max([*values, now]) + timedelta(days=1)


def _as_utc(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- files ----------------------------------------------------------------------------------------

def temporary_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.part")


@contextlib.contextmanager
def _private_file(path: Path) -> Iterator[WriteBehind]:
    """Open ``path``'s temporary twin for writing (0600, must not exist); on success it is
    synced and renamed to ``path``; on any failure it is removed."""
    temp = temporary_path(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
            yield WriteBehind(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def header_bytes(options: CsvOptions) -> bytes:
    return (BOM + ",".join(_csv_field(h) for h in options.header) + "\n").encode("utf-8")


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


# --- cancellation ---------------------------------------------------------------------------------

class _Watcher:
    """Polls the cancel flag off the writing thread: interrupts a running query when it is set,
    and reports progress every TICK_INTERVAL (so progress keeps flowing and a cancel from another
    process, noticed by the progress callback, is seen even while the query has not yet
    produced its first row)."""

    def __init__(self, cancel: threading.Event, interrupt: Callable[[], None],
                 tick: Callable[[], None]) -> None:
        self._cancel = cancel
        self._interrupt = interrupt
        self._tick = tick
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="csv-export-watch", daemon=True)

    def __enter__(self) -> _Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        last_tick = 0.0
        while not self._done.is_set():
            if self._cancel.is_set():
                # Again and again until the writer stops: an interrupt that lands between two
                # statements does nothing (the next statement would run on), so one is not
                # enough. An idle connection ignores it.
                with contextlib.suppress(Exception):
                    self._interrupt()
                self._done.wait(INTERRUPT_INTERVAL)
                continue
            now = time.monotonic()
            if now - last_tick >= TICK_INTERVAL:
                last_tick = now
                with contextlib.suppress(Exception):  # progress must never break the export
                    self._tick()
            self._done.wait(WATCH_INTERVAL)


# --- the writer ---------------------------------------------------------------------------------

@dataclass
class _Counter:
    done: int = 0
    total: int = 0


def write_csv(
    engine: Engine,
    flt: ExportFilter,
    options: CsvOptions,
    path: Path,
    *,
    now: datetime,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    copy: CopySink | None = None,
) -> WriteResult:
    """Write the export to ``path`` (via a temporary name), and every byte to ``copy`` too when
    given. ``progress(done, total)`` is called from a helper thread about twice a second and
    once at the end; setting ``cancel`` stops the export (ExportCancelled) within a fraction of
    a second."""
    cancel = cancel or threading.Event()
    counter = _Counter()
    out = _Discard() if copy is None else copy
    report = progress or (lambda _done, _total: None)

    def tick() -> None:
        report(min(counter.done, counter.total), counter.total)

    dialect = engine.dialect.name
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if dialect == "sqlite":
            rows = _write_sqlite(driver, flt, options, path, now, counter, cancel, tick, out)
        else:
            rows = _write_postgresql(driver, flt, options, path, now, counter, cancel, tick,
                                     out)
    except Exception as exc:
        if cancel.is_set():
            raise ExportCancelled() from exc
        raise
    finally:
        with contextlib.suppress(Exception):
            raw.rollback()
        raw.close()
    counter.done = counter.total = rows
    report(rows, rows)
    return WriteResult(path=path, rows=rows, size=path.stat().st_size)


class _Discard:
    def write(self, data: bytes, /) -> object:
        return None


def _check(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise ExportCancelled()


def _write_sqlite(conn: Any, flt: ExportFilter, options: CsvOptions, path: Path, now: datetime,
                  counter: _Counter, cancel: threading.Event, tick: Callable[[], None],
                  copy: CopySink) -> int:
    if options.anonymize:
        key = options.pseudonym_key
        conn.create_function("pd_pseudonym", 1,
                             lambda uid: None if uid is None else pseudonym(key, uid),
                             deterministic=True)
    conn.execute("BEGIN")  # one snapshot for the count and the rows
    counter.total = conn.execute(build_count("sqlite", flt)).fetchone()[0]
    span = data_span(conn, "sqlite", now)
    sql = build_lines_select(flt, options, span)
    previous_factory = conn.text_factory
    conn.text_factory = bytes  # the lines go to the file as SQLite holds them: UTF-8
    try:
        with _private_file(path) as handle, _Watcher(cancel, conn.interrupt, tick):
            head = header_bytes(options)
            handle.write(head)
            copy.write(head)
            _check(cancel)
            cursor = conn.execute(sql)
            while batch := cursor.fetchmany(BATCH_ROWS):
                _check(cancel)
                chunk = b"\n".join([row[0] for row in batch]) + b"\n"
                handle.write(chunk)
                copy.write(chunk)
                counter.done += len(batch)
            _check(cancel)
            cursor.close()
    finally:
        conn.text_factory = previous_factory
    conn.execute("ROLLBACK")
    return counter.done


def _write_postgresql(conn: Any, flt: ExportFilter, options: CsvOptions, path: Path,
                      now: datetime, counter: _Counter, cancel: threading.Event,
                      tick: Callable[[], None], copy: CopySink) -> int:
    conn.rollback()  # start clean: the pool's ping may have opened a transaction
    with conn.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute("SET LOCAL client_encoding TO 'UTF8'")
        counter.total = cur.execute(build_count("postgresql", flt)).fetchone()[0]
        sql = build_select("postgresql", flt, options)
        with _private_file(path) as handle, _Watcher(cancel, conn.cancel_safe, tick):
            head = header_bytes(options)
            handle.write(head)
            copy.write(head)
            _check(cancel)
            _copy_out(conn, f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", (handle, copy),
                      counter, cancel)
            _check(cancel)
    return counter.done


def _copy_out(conn: Any, statement: str, outputs: tuple[CopySink, ...], counter: _Counter,
              cancel: threading.Event) -> None:
    """Run a ``COPY ... TO STDOUT`` and append its bytes to each of ``outputs``.

    Straight on libpq (psycopg's ``pgconn``): psycopg's ``Copy`` iterator costs a few
    microseconds of Python per message, and COPY sends one message per row, which made the
    Python side as slow as the server. Here each row is one C call; rows are joined and written
    a batch at a time. Non-blocking reads with a short wait keep the GIL free for the watcher,
    whose cancel request ends the COPY with an error."""
    from psycopg.pq import ExecStatus

    pgconn = conn.pgconn
    pgconn.send_query(statement.encode("utf-8"))
    while pgconn.flush():  # a non-blocking connection may not have sent it all yet
        select.select([], [pgconn.socket], [], WATCH_INTERVAL)
    _wait_ready(pgconn)  # until the COPY has started (or failed)
    started = pgconn.get_result()
    if started is None or started.status != ExecStatus.COPY_OUT:
        _finish(pgconn, started)
        return
    get = functools.partial(pgconn.get_copy_data, 1)
    rows: list[Any] = []
    while True:
        wanted = BATCH_ROWS - len(rows)
        taken, ended = _take_rows(get, wanted)
        rows += taken
        if len(rows) >= BATCH_ROWS or ended:
            chunk = b"".join(rows)
            for out in outputs:
                out.write(chunk)
            counter.done += len(rows)  # COPY sends exactly one message per row
            rows.clear()
            _check(cancel)
        if ended:
            break
        if len(taken) < wanted:  # nothing buffered: wait for the socket, then read what came
            select.select([pgconn.socket], [], [], WATCH_INTERVAL)
            pgconn.consume_input()
    _wait_ready(pgconn)
    _finish(pgconn, pgconn.get_result())


_NO_DATA = (0, b"")  # get_copy_data(1): no complete row buffered yet
_END = (-1, b"")  # the COPY is over; calling again would be an error
_has_data = functools.partial(operator.lt, _NO_DATA)  # (0, b"") < (n, row) when n > 0
_row = operator.itemgetter(1)


def _take_rows(get: Callable[[], tuple[int, Any]], limit: int) -> tuple[list[bytes], bool]:
    """Up to ``limit`` rows that libpq has buffered, and whether the COPY has ended.

    Each ``get`` (PQgetCopyData) gives (n, row), (0, b"") when nothing is buffered, or
    (-1, b"") at the end, after which another call is an error. The loop over the rows is
    made of C iterators, with no Python bytecode per row: ``calls`` stops at the end,
    ``pulls`` at an empty buffer (and yields _END once ``calls`` is over), ``takewhile`` at
    either; asking ``pulls`` once more tells which, without calling ``get`` again. Each row is
    copied into ``bytes``, which the cyclic GC does not track: a batch of memoryviews kept
    alive set off collections that walked the whole heap (SQLAlchemy's) every few thousand
    rows, a third of the process's CPU, CPU the server's COPY needs on a small machine."""
    calls = iter(get, _END)
    pulls = iter(functools.partial(next, calls, _END), _NO_DATA)
    rows = list(map(bytes, map(_row, itertools.takewhile(
        _has_data, itertools.islice(pulls, limit)))))
    if len(rows) == limit:
        return rows, False
    return rows, next(pulls, None) is not None


def _wait_ready(pgconn: Any) -> None:
    """Read until a result is complete, so ``get_result`` does not block holding the GIL."""
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [], WATCH_INTERVAL)
        pgconn.consume_input()


def _finish(pgconn: Any, result: Any) -> None:
    """Read the statement's remaining results; raise the first error among them."""
    from psycopg import errors
    from psycopg.pq import ExecStatus

    failure = None
    while result is not None:
        if result.status not in (ExecStatus.COMMAND_OK, ExecStatus.COPY_OUT) and failure is None:
            failure = errors.error_from_result(result, encoding="utf-8")
        _wait_ready(pgconn)
        result = pgconn.get_result()
    if failure is not None:
        raise failure
