"""Keeping, rebuilding and checking the dashboard's summary rows (``models_stats``).

Two events change them, each counted in the transaction that makes it: a booking is made
(``count_booking``: its ``reserved_at`` quarter) and a stay is completed (``count_completion``:
its ``left_at`` quarter and cost). Completed and cancelled bookings never change again, so
nothing else moves a figure. The counts are single-statement upserts (``INSERT ... ON CONFLICT
DO UPDATE SET n = n + excluded.n``) on both databases: two kiosks writing the same row wait for
each other's row lock (PostgreSQL) or the database write lock (SQLite), and neither loses the
other's increment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Table,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from parking_desktop.adapters.db.models import ParkingSpot, Reservation
from parking_desktop.adapters.db.models_stats import StatsLotTotal, StatsQuarter
from parking_desktop.domain.fee import money
from parking_desktop.domain.states import BookingStatus

QUARTER = timedelta(minutes=15)


def quarter_bucket(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC quarter hour a timestamp falls in, as text 'YYYY-MM-DD HH:MM' (MM is 00, 15, 30
    or 45). Every time-zone offset in use is a multiple of 15 minutes (India +5:30, Nepal
    +5:45), so a quarter-hour bucket lies inside one local hour; a UTC hour bucket does not.

    Constants are literal SQL, not bind parameters, so that PostgreSQL sees the SELECT and the
    GROUP BY expression as the same."""
    fifteen = literal_column("15", Integer)
    if dialect == "sqlite":
        minute = cast(func.strftime(literal_column("'%M'"), column), Integer) // fifteen * fifteen
        return func.strftime(literal_column("'%Y-%m-%d %H:'"), column).op("||")(
            func.printf(literal_column("'%02d'"), minute)
        )
    utc = func.timezone(literal_column("'UTC'"), column)
    minute = cast(func.extract("minute", utc), Integer) // fifteen * fifteen
    return func.to_char(utc, literal_column("'YYYY-MM-DD HH24:'")).op("||")(
        func.lpad(cast(minute, String), literal_column("2"), literal_column("'0'"))
    )


def bucket_of(moment: datetime) -> str:
    """``quarter_bucket`` in Python: the same text for the same instant."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%d %H:}{utc.minute // 15 * 15:02d}"


def next_boundary(moment: datetime) -> datetime:
    """The first quarter-hour boundary at or after ``moment`` (UTC). Summary rows answer
    "from this boundary on"; the part of a quarter before it is read from reservations."""
    utc = moment.astimezone(UTC)
    floor = utc.replace(minute=utc.minute // 15 * 15, second=0, microsecond=0)
    return floor if floor == utc else floor + QUARTER


# --- keeping them up to date --------------------------------------------------------------------
def count_booking(session: Session, lot_id: int, reserved_at: datetime) -> None:
    _add(session, lot_id, bucket_of(reserved_at), bookings=1, revenue=Decimal(0))


def count_completion(session: Session, lot_id: int, left_at: datetime, cost: Decimal) -> None:
    _add(session, lot_id, bucket_of(left_at), bookings=0, revenue=cost)


def _add(session: Session, lot_id: int, bucket: str, *, bookings: int, revenue: Decimal) -> None:
    # Always the quarter row first, then the lot's total: every writer locks in one order.
    dialect = session.get_bind().dialect.name
    for table, key, values in (
        (StatsQuarter.__table__, ["bucket", "lot_id"], {"bucket": bucket, "lot_id": lot_id}),
        (StatsLotTotal.__table__, ["lot_id"], {"lot_id": lot_id}),
    ):
        assert isinstance(table, Table)
        insert = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
        stmt = insert.values(**values, bookings=bookings, revenue=revenue)
        session.execute(stmt.on_conflict_do_update(
            index_elements=key,
            set_={"bookings": table.c.bookings + stmt.excluded.bookings,
                  "revenue": table.c.revenue + stmt.excluded.revenue},
        ))


# --- recomputing them from reservations ---------------------------------------------------------
def recomputed_quarters(dialect: str) -> Any:
    """SELECT bucket, lot_id, bookings, revenue: what ``stats_quarters`` should hold."""
    booked = quarter_bucket(Reservation.reserved_at, dialect)
    left = quarter_bucket(Reservation.left_at, dialect)
    made = (select(booked.label("bucket"), ParkingSpot.lot_id.label("lot_id"),
                   func.count().label("bookings"), literal(0).label("revenue"))
            .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
            .group_by(booked, ParkingSpot.lot_id))
    earned = (select(left.label("bucket"), ParkingSpot.lot_id.label("lot_id"),
                     literal(0).label("bookings"), func.sum(Reservation.cost).label("revenue"))
              .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
              .where(Reservation.status == literal_column(f"'{BookingStatus.COMPLETED}'"))
              .group_by(left, ParkingSpot.lot_id))
    both = union_all(made, earned).subquery()
    return (select(both.c.bucket, both.c.lot_id, func.sum(both.c.bookings),
                   func.sum(both.c.revenue))
            .group_by(both.c.bucket, both.c.lot_id))


def rebuild(connection: Connection | Session) -> int:
    """Replace the summary rows by their recomputation, set-based (one INSERT ... SELECT per
    table). Returns the number of quarter rows."""
    dialect = connection.get_bind().dialect.name if isinstance(connection, Session) \
        else connection.dialect.name
    quarters, totals = StatsQuarter.__table__, StatsLotTotal.__table__
    assert isinstance(quarters, Table) and isinstance(totals, Table)
    connection.execute(delete(totals))
    connection.execute(delete(quarters))
    result = connection.execute(quarters.insert().from_select(
        ["bucket", "lot_id", "bookings", "revenue"], recomputed_quarters(dialect)))
    connection.execute(totals.insert().from_select(
        ["lot_id", "bookings", "revenue"],
        select(quarters.c.lot_id, func.sum(quarters.c.bookings), func.sum(quarters.c.revenue))
        .group_by(quarters.c.lot_id)))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Drift:
    table: str
    key: str
    stored: tuple[int, Decimal]
    recomputed: tuple[int, Decimal]

    def line(self) -> str:
        return (f"{self.table} {self.key}: stored {self.stored[0]} bookings, "
                f"{self.stored[1]} revenue; from reservations {self.recomputed[0]} bookings, "
                f"{self.recomputed[1]} revenue")


def drift(connection: Connection | Session) -> list[Drift]:
    """Every summary row that differs from its recomputation (missing rows count as zero)."""
    dialect = connection.get_bind().dialect.name if isinstance(connection, Session) \
        else connection.dialect.name
    want_q = _figures(connection.execute(recomputed_quarters(dialect)).all(), 2)
    have_q = _figures(connection.execute(
        select(StatsQuarter.bucket, StatsQuarter.lot_id, StatsQuarter.bookings,
               StatsQuarter.revenue)).all(), 2)
    want_t: dict[tuple[Any, ...], tuple[int, Decimal]] = {}
    for (_, lot), (n, amount) in want_q.items():
        old = want_t.get((lot,), (0, Decimal(0)))
        want_t[(lot,)] = (old[0] + n, old[1] + amount)
    have_t = _figures(connection.execute(
        select(StatsLotTotal.lot_id, StatsLotTotal.bookings, StatsLotTotal.revenue)).all(), 1)
    out = []
    for table, have, want, name in (("stats_quarters", have_q, want_q, _quarter_name),
                                    ("stats_lot_totals", have_t, want_t, _lot_name)):
        for key in sorted(set(have) | set(want), key=lambda k: tuple(str(p) for p in k)):
            zero = (0, Decimal("0.00"))
            got, should = have.get(key, zero), want.get(key, zero)
            if got != should:
                out.append(Drift(table, name(key), got, should))
    return out


def _figures(rows: Any, width: int) -> dict[tuple[Any, ...], tuple[int, Decimal]]:
    figures = {}
    for row in rows:
        key = tuple(int(v) if i == width - 1 else v for i, v in enumerate(row[:width]))
        amount = money(Decimal(str(row[width + 1] or 0)))
        figures[key] = (int(row[width] or 0), amount)
    return figures


def _quarter_name(key: tuple[Any, ...]) -> str:
    return f"lot {key[1]} quarter {key[0]} UTC"


def _lot_name(key: tuple[Any, ...]) -> str:
    return f"lot {key[0]}"
