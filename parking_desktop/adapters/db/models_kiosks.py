"""One row per kiosk: what it last said about its link to the database (the desktop's Kiosks
screen reads it).

Each running kiosk upserts its own row every few seconds (``services/kiosks/heartbeats.py``).
A kiosk that lost the database cannot write, so a row whose ``last_seen`` is old says more than
its ``state``: the screen shows such a kiosk as "not heard from since …"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from parking_desktop.adapters.db.base import Base
from parking_desktop.adapters.db.types import UTCDateTime

KIOSK_STATES = ("online", "offline")


class KioskHeartbeat(Base):
    __tablename__ = "kiosk_heartbeats"
    __table_args__ = (
        CheckConstraint("state IN ('online', 'offline')", name="state"),
        CheckConstraint("ops_waiting >= 0", name="ops_waiting"),
    )

    # A stable id made once per kiosk and kept in its data folder (services/kiosks/identity.py).
    kiosk_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    lot: Mapped[str] = mapped_column(String(120), default="")  # KIOSK_LOT: a label, may be ""
    state: Mapped[str] = mapped_column(String(16))
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    offline_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ops_waiting: Mapped[int] = mapped_column(Integer, default=0)
    app_version: Mapped[str] = mapped_column(String(40))
