"""The kiosk's local journal: one SQLite file (0600) in its data folder, kept by the standard
library's sqlite3 so it works with no server at all.

It holds the last picture the kiosk took of the server (lots, spots, open stays; replaced
whole on each refresh) and the operations done offline, in order, until the server has
confirmed them *and* a picture taken afterwards includes their effect. Plain rows here; what
they mean is ``services/kiosks/journal.py``. Several processes may open it (the kiosk and a
`sync` command): every write is one IMMEDIATE transaction, readers wait (busy timeout)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from parking_desktop.files import create_private_file, ensure_private_dir

JOURNAL_FILE = "kiosk-journal.db"
BUSY_TIMEOUT_S = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS picture_lots (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, address TEXT NOT NULL,
    price_per_hour TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS picture_spots (
    id INTEGER PRIMARY KEY, lot_id INTEGER NOT NULL, number TEXT NOT NULL,
    position INTEGER NOT NULL, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS picture_stays (
    reservation_id INTEGER PRIMARY KEY, vehicle TEXT NOT NULL, spot_id INTEGER NOT NULL,
    lot_id INTEGER NOT NULL, status TEXT NOT NULL, reserved_at TEXT NOT NULL,
    parked_at TEXT, price_per_hour TEXT NOT NULL, username TEXT
);
CREATE TABLE IF NOT EXISTS operations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    kiosk_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('check_in', 'check_out')),
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed')),
    outcome TEXT, message TEXT, reservation_id INTEGER, confirmed_at TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS picture_tariffs (
    version_id INTEGER PRIMARY KEY, document TEXT NOT NULL
);
"""
# Columns added after the first kiosks ran: a journal made before gets them when opened
# (NULL in an old picture: priced flat at the price per hour, as it was then).
ADDED_COLUMNS = (
    ("picture_lots", "tariff_version_id", "INTEGER"),
    ("picture_stays", "tariff_version_id", "INTEGER"),
)
LOT_COLUMNS = "id, name, address, price_per_hour, tariff_version_id"
STAY_COLUMNS = (
    "reservation_id, vehicle, spot_id, lot_id, status, reserved_at, parked_at, "
    "price_per_hour, username, tariff_version_id"
)


class JournalError(Exception):
    """The journal file cannot be opened or written; the message names it."""


class JournalFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            ensure_private_dir(path.parent)
            create_private_file(path)  # 0600 before SQLite writes a byte (its -wal follows)
            self._con = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")  # an operation survives power loss
            self._con.executescript(SCHEMA)
            self._add_columns()
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"The kiosk journal {path} cannot be opened: {exc}") from None

    def close(self) -> None:
        self._con.close()

    def _add_columns(self) -> None:
        for table, column, kind in ADDED_COLUMNS:
            have = {row[1] for row in self._con.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise JournalError(f"The kiosk journal {self.path} cannot be written: {exc}") from None
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            return list(self._con.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise JournalError(f"The kiosk journal {self.path} cannot be read: {exc}") from None

    # --- the picture ----------------------------------------------------------------------------
    def replace_picture(
        self,
        lots: Iterable[tuple[Any, ...]],
        spots: Iterable[tuple[Any, ...]],
        stays: Iterable[tuple[Any, ...]],
        taken_at: str,
        tariffs: Iterable[tuple[int, str]] = (),
        notes: dict[str, str] | None = None,
    ) -> int:
        """The new picture, in one transaction with dropping the confirmed operations it
        already shows (confirmed before it was taken). Returns how many were dropped.
        ``tariffs``: (version id, JSON document) of the versions lots and stays refer to;
        ``notes``: meta values that belong to the picture (the site's time zone)."""
        with self._write() as con:
            for table in ("picture_lots", "picture_spots", "picture_stays", "picture_tariffs"):
                con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            con.executemany(
                f"INSERT INTO picture_lots ({LOT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",  # noqa: S608 - fixed names
                lots,
            )
            con.executemany("INSERT INTO picture_spots VALUES (?, ?, ?, ?, ?)", spots)
            con.executemany(
                f"INSERT INTO picture_stays ({STAY_COLUMNS}) "  # noqa: S608 - fixed names
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                stays,
            )
            con.executemany("INSERT INTO picture_tariffs VALUES (?, ?)", tariffs)
            con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", (notes or {}).items())
            dropped = con.execute(
                "DELETE FROM operations WHERE state = 'confirmed' AND confirmed_at <= ?",
                (taken_at,),
            ).rowcount
            con.execute("INSERT OR REPLACE INTO meta VALUES ('picture_at', ?)", (taken_at,))
            return int(dropped)

    def picture(
        self,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        return (
            self._rows(f"SELECT {LOT_COLUMNS} FROM picture_lots ORDER BY name"),  # noqa: S608 - fixed names
            self._rows("SELECT * FROM picture_spots ORDER BY lot_id, position"),
            self._rows(f"SELECT {STAY_COLUMNS} FROM picture_stays"),  # noqa: S608 - fixed names
        )

    def tariffs(self) -> dict[int, str]:
        """The picture's tariff versions: id -> JSON document."""
        return {int(i): str(doc) for i, doc in self._rows("SELECT * FROM picture_tariffs")}

    # --- operations -----------------------------------------------------------------------------
    def append(self, kiosk_id: str, kind: str, payload: str, created_at: str) -> tuple[int, str]:
        """A new pending operation; its (sequence number, id)."""
        op_id = str(uuid.uuid4())
        with self._write() as con:
            cursor = con.execute(
                "INSERT INTO operations (op_id, kiosk_id, kind, payload, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (op_id, kiosk_id, kind, payload, created_at),
            )
            return int(cursor.lastrowid or 0), op_id

    def operations(self, *states: str) -> list[tuple[Any, ...]]:
        """(seq, op_id, kiosk_id, kind, payload, created_at, state, reservation_id) in order."""
        marks = ", ".join("?" for _ in states)
        return self._rows(
            "SELECT seq, op_id, kiosk_id, kind, payload, created_at, state, reservation_id "  # noqa: S608 - only placeholders
            f"FROM operations WHERE state IN ({marks}) ORDER BY seq",
            *states,
        )

    def confirm(
        self, op_id: str, outcome: str, message: str, reservation_id: int | None, at: str
    ) -> None:
        with self._write() as con:
            con.execute(
                "UPDATE operations SET state = 'confirmed', outcome = ?, message = ?, "
                "reservation_id = ?, confirmed_at = ? WHERE op_id = ?",
                (outcome, message, reservation_id, at, op_id),
            )

    def count(self, state: str = "pending") -> int:
        return int(self._rows("SELECT count(*) FROM operations WHERE state = ?", state)[0][0])

    # --- notes ----------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", key)
        return str(rows[0][0]) if rows else None

    def set_meta(self, **values: str) -> None:
        with self._write() as con:
            con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))


def read_only_counts(path: Path) -> tuple[int, str | None, str | None] | None:
    """(operations waiting, last sync, last sync's result) without creating anything: for
    `kiosk status`, which may run while no kiosk ever did. None: no journal yet."""
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            waiting = con.execute(
                "SELECT count(*) FROM operations WHERE state = 'pending'"
            ).fetchone()[0]
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise JournalError(f"The kiosk journal {path} cannot be read: {exc}") from None
    return int(waiting), meta.get("last_sync"), meta.get("last_sync_result")
