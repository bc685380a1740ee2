"""Summary rows the dashboard reads instead of walking every reservation.

Kept up to date in the same transaction as each booking and each completion (see
``adapters/db/summary.py``); ``main.py db check`` recomputes them from ``reservations``. Only the
figures that change with history are here: the live counts (spots taken, open bookings) come
from their own indexed rows.

A bucket is a UTC quarter hour as text 'YYYY-MM-DD HH:MM': every time-zone offset in use is a
multiple of 15 minutes, so a bucket lies inside one site-local hour and day whatever the site's
time zone, and a change of that setting needs no rebuild."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from parking_desktop.adapters.db.base import Base, BigId
from parking_desktop.adapters.db.types import Money


class StatsQuarter(Base):
    """Per UTC quarter hour and lot: bookings made (any later state) and revenue of the stays
    completed in it. Primary key bucket first: the dashboard reads ranges of buckets."""

    __tablename__ = "stats_quarters"

    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("parking_lots.id", ondelete="RESTRICT"),
                                        primary_key=True)
    bookings: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class StatsLotTotal(Base):
    """Per lot, all time: bookings made and revenue of completed stays."""

    __tablename__ = "stats_lot_totals"

    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("parking_lots.id", ondelete="RESTRICT"),
                                        primary_key=True)
    bookings: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
