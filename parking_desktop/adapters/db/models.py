"""Typed SQLAlchemy models. Table and column names are the data contract: the CSV export's SQL
and ``db copy`` name them, so a rename needs a migration and a look at both."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# models_mail registers its tables on Base.metadata: whoever imports Base from here gets them all.
from parking_desktop.adapters.db import (
    models_kiosks,  # noqa: F401
    models_mail,  # noqa: F401
    models_money,  # noqa: F401
    models_offline,  # noqa: F401
    models_privacy,  # noqa: F401
    models_stats,  # noqa: F401
    models_tariffs,  # noqa: F401
)
from parking_desktop.adapters.db.base import Base as Base  # re-exported: everyone imports it here
from parking_desktop.adapters.db.base import BigId
from parking_desktop.adapters.db.types import Money, UTCDateTime
from parking_desktop.domain.states import BookingStatus, SpotStatus

# Spelled out, not built from OPEN_BOOKINGS: a partial index is used only for queries whose
# predicate matches its text, so this stays exactly as the migrations created it.
OPEN_RESERVATION = "status IN ('reserved', 'active')"


def _status_in(states: Iterable[str]) -> str:
    """The CHECK that a status is one of ``states``: the domain's enum lists every value."""
    return "status IN (" + ", ".join(f"'{state}'" for state in states) + ")"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('manager', 'attendant', 'driver')", name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_booking: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# 'MANAGER' next to 'manager' would be two accounts a person cannot tell apart: usernames are
# unique whatever their case. (An expression index: SQLite cannot reflect it, so a future batch
# migration of this table must re-create it.)
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class ParkingLot(Base):
    __tablename__ = "parking_lots"
    __table_args__ = (
        CheckConstraint("price_per_hour > 0", name="price_positive"),
        CheckConstraint("number_of_spots BETWEEN 1 AND 5000", name="spots_range"),
        # Unique among active lots only: an archived lot's name can be reused.
        Index(
            "uq_parking_lots_active_name",
            "name",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(500))
    pin_code: Mapped[str] = mapped_column(String(10), index=True)
    price_per_hour: Mapped[Decimal] = mapped_column(Money)
    number_of_spots: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    spots: Mapped[list[ParkingSpot]] = relationship(
        back_populates="lot", order_by="ParkingSpot.position"
    )


# Active lot names are unique whatever their case, like usernames (see above).
Index(
    "uq_parking_lots_active_name_lower",
    func.lower(ParkingLot.name),
    unique=True,
    sqlite_where=text("archived_at IS NULL"),
    postgresql_where=text("archived_at IS NULL"),
)


class ParkingSpot(Base):
    __tablename__ = "parking_spots"
    __table_args__ = (
        CheckConstraint(_status_in(SpotStatus), name="status"),
        UniqueConstraint("lot_id", "position", name="uq_parking_spots_lot_position"),
        UniqueConstraint("lot_id", "number", name="uq_parking_spots_lot_number"),
        Index("ix_parking_spots_lot_status_position", "lot_id", "status", "position"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("parking_lots.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(12))
    # Numeric order of the spot in its lot (number is a label; P1000 sorts after P999 here).
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(1), default=SpotStatus.AVAILABLE)
    # Shrinking a lot retires its highest spots instead of deleting them: past reservations
    # still name them. Growing the lot again brings them back with the same numbers.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lot: Mapped[ParkingLot] = relationship(back_populates="spots")


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(_status_in(BookingStatus), name="status"),
        CheckConstraint("cost IS NULL OR cost >= 0", name="cost_non_negative"),
        CheckConstraint("price_per_hour >= 0", name="price_non_negative"),
        # The rules "one open reservation per spot / driver / vehicle" live in the database too.
        Index(
            "uq_reservations_open_spot", "spot_id", unique=True,
            sqlite_where=text(OPEN_RESERVATION), postgresql_where=text(OPEN_RESERVATION),
        ),
        Index(
            "uq_reservations_open_user", "user_id", unique=True,
            sqlite_where=text(OPEN_RESERVATION + " AND user_id IS NOT NULL"),
            postgresql_where=text(OPEN_RESERVATION + " AND user_id IS NOT NULL"),
        ),
        Index(
            "uq_reservations_open_vehicle", "vehicle_number", unique=True,
            sqlite_where=text(OPEN_RESERVATION), postgresql_where=text(OPEN_RESERVATION),
        ),
        Index("ix_reservations_user_reserved_at", "user_id", "reserved_at"),
        Index("ix_reservations_spot_reserved_at", "spot_id", "reserved_at"),
        Index("ix_reservations_vehicle_number", "vehicle_number"),
        # Leading status serves "open reservations"; left_at and cost make the revenue figures
        # (total, this month, per day) index-only scans instead of walks over every row.
        Index("ix_reservations_status_left_cost", "status", "left_at", "cost"),
        Index("ix_reservations_reserved_at", "reserved_at"),
        Index("ix_reservations_left_at", "left_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    spot_id: Mapped[int] = mapped_column(ForeignKey("parking_spots.id", ondelete="RESTRICT"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    vehicle_number: Mapped[str] = mapped_column(String(15))
    status: Mapped[str] = mapped_column(String(12))
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    price_per_hour: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal | None] = mapped_column(Money)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    # The tariff version this stay is priced by (tariff_versions.id), set when booked and again
    # when parked. Null for stays recorded before tariffs: priced flat at price_per_hour. No
    # foreign key: SQLite cannot add one to an existing table without copying it whole.
    tariff_version_id: Mapped[int | None] = mapped_column(BigId, index=True)

    spot: Mapped[ParkingSpot] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class UserActivity(Base):
    __tablename__ = "user_activity"
    __table_args__ = (
        Index("ix_user_activity_user_timestamp", "user_id", "timestamp"),
        Index("ix_user_activity_type_timestamp", "activity_type", "timestamp"),
        Index("ix_user_activity_timestamp", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Null for actions by the system itself (scheduler, CLI administration).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    activity_type: Mapped[str] = mapped_column(String(40))
    activity_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled', 'expired')",
            name="status",
        ),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        # One pending/processing job per requester, enforced in the database too.
        Index(
            "uq_export_jobs_open_requester", "requested_by", unique=True,
            sqlite_where=text("status IN ('pending', 'processing')"),
            postgresql_where=text("status IN ('pending', 'processing')"),
        ),
        Index("ix_export_jobs_requested_by_created", "requested_by", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), unique=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    file_path: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        # Claiming a period = inserting this row; the unique key makes it exactly once.
        UniqueConstraint("job", "period_key", name="uq_job_runs_job_period"),
        CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'skipped')", name="status"
        ),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period_key: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host: Mapped[str | None] = mapped_column(String(255))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
