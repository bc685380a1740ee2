"""The `demo` command's entry: fills an empty database with a deterministic demo data set,
fast enough for a million reservations.

Determinism: everything (names, plates, lots, who books when, for how long, where) comes from
``random.Random(seed)``. Times are laid out *relative to the clock's now*, in the site's time
zone: so the same seed gives the same data set shifted to today, and "parked since 10 minutes",
"inactive for three weeks" stay true whenever the demo is created. With a FixedClock (tests) the
result is identical row for row.

Shape: one manager, two attendants, drivers (``people``), lots of varied sizes and prices
(``lots``), and a history where every booking holds a real spot (the first free one, as the
service would choose) for its whole stay, one booking per driver at a time (``bookings``:
who books when; ``stays``: arrival times and stay lengths; ``history``: placing them, with
fees and activity), and the money of the last two weeks (``money``: shifts, payments, receipts,
exceptions, an open shift). ``builder`` runs the steps in order, ``tables`` writes the rows.

Speed: rows are produced in storage form and written with bulk inserts (adapters/db/bulk), the
password is hashed once for every demo account, and it all happens in one transaction: either
the whole data set is there or nothing is."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import Column, Connection, Table, func, select, text

from parking_desktop.adapters.db.copy import load_all_models
from parking_desktop.adapters.db.models import ParkingLot, Reservation, User
from parking_desktop.adapters.db.models_money import create_guards, drop_guards
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ConflictError
from parking_desktop.services.accounts.users import PasswordHasher
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.demo.builder import build
from parking_desktop.services.demo.options import DemoOptions, DemoResult, DemoSignIn

__all__ = ["DemoLoader", "DemoOptions", "DemoResult", "DemoSignIn"]

SQLITE_CACHE_KIB = 512 * 1024
TOPICS = ("users", "lots", "spots", "reservations", "activity", "shifts", "payments",
          "exceptions")


class DemoLoader:
    """Fills an empty database with the demo data set (the `demo` command)."""

    def __init__(self, ctx: ServiceContext, hasher: PasswordHasher, currency: str = "EUR") -> None:
        self.ctx = ctx
        self.hasher = hasher
        self.currency = currency  # the site's CURRENCY: the demo's payments and shifts are in it

    def existing_data(self) -> dict[str, int]:
        """Row counts of the tables the demo would fill, when any is not empty."""
        with self.ctx.db.engine.connect() as conn:
            return _existing_data(conn)

    def erase_everything(self) -> None:
        """Delete every row of every table (``demo --reset``)."""
        tables = list(reversed(load_all_models().sorted_tables))
        with self.ctx.write(*TOPICS) as session:
            if session.get_bind().dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                connection = session.connection()
                drop_guards(connection)  # payments are append-only, except for this
                for table in tables:
                    # SQLite checks ON DELETE RESTRICT row by row, so a refund must go before
                    # the payment it refers to (a correction is never itself corrected).
                    for column in _self_references(table):
                        session.execute(table.delete().where(column.is_not(None)))
                    session.execute(table.delete())
                create_guards(connection)

    def load(self, options: DemoOptions, password: str) -> DemoResult:
        options = options.validated()
        validation.password(password)
        started = time.perf_counter()
        password_hash = self.hasher.hash(password)  # once, for every demo account
        now = self.ctx.clock.now()
        engine = self.ctx.db.engine.execution_options(sqlite_immediate=True)
        with engine.begin() as conn, _big_page_cache(conn):
            # Checked inside the write transaction: nobody can add rows between check and load.
            existing = _existing_data(conn)
            if existing:
                listed = ", ".join(f"{n} {t}" for t, n in existing.items())
                raise ConflictError(
                    f"The database already has data ({listed}); demo data goes into an empty "
                    "database only (use --reset to erase it first)."
                )
            result = build(conn, options, now, self.ctx.tz, password, password_hash,
                           self.currency)
        self.ctx.changed(*TOPICS)
        return replace(result, seconds=round(time.perf_counter() - started, 2))


def _self_references(table: Table) -> list[Column[Any]]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table is table]


def _existing_data(conn: Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in (User, ParkingLot, Reservation):
        n = int(conn.scalar(select(func.count()).select_from(model)) or 0)
        if n:
            counts[model.__tablename__] = n
    return counts


@contextmanager
def _big_page_cache(conn: Connection) -> Iterator[None]:
    """SQLite's default 2 MB page cache makes index updates thrash on a million rows."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
