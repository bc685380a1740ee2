"""Helpers for the job tests: drivers with chosen dates, completed stays at chosen times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from parking_desktop.adapters.db.models import (
    JobRun,
    ParkingSpot,
    Reservation,
    User,
    UserActivity,
)
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Role

PASSWORD = "correct-horse-1"


def add_driver(
    app: App,
    name: str,
    *,
    email: bool = True,
    last_login: datetime | None = None,
    last_booking: datetime | None = None,
    active: bool = True,
    role: Role = Role.DRIVER,
    full_name: str = "",
) -> int:
    view = app.users.create(SYSTEM, username=name, password=PASSWORD, role=role,
                            email=f"{name}@example.com" if email else None)
    with app.db.write() as session:
        session.execute(update(User).where(User.id == view.id).values(
            last_login=last_login, last_booking=last_booking, is_active=active,
            full_name=full_name))
    return view.id


def add_stay(
    app: App,
    user_id: int | None,
    spot_id: int,
    parked_at: datetime,
    left_at: datetime | None,
    cost: str | None,
    *,
    price: str = "2.00",
    plate: str = "AB123",
    status: str = "completed",
) -> int:
    """A reservation written directly (history in the past, at exact instants)."""
    with app.db.write() as session:
        row = Reservation(spot_id=spot_id, user_id=user_id, vehicle_number=plate, status=status,
                          reserved_at=parked_at, parked_at=parked_at, left_at=left_at,
                          price_per_hour=Decimal(price),
                          cost=None if cost is None else Decimal(cost), created_by=user_id)
        session.add(row)
        session.flush()
        return row.id


def spot_ids(app: App, lot_id: int) -> list[int]:
    with app.db.read() as session:
        return list(session.scalars(
            select(ParkingSpot.id).where(ParkingSpot.lot_id == lot_id).order_by(ParkingSpot.position)))


def outbox_rows(app: App, kind: str | None = None) -> list[EmailOutbox]:
    with app.db.read() as session:
        query = select(EmailOutbox).order_by(EmailOutbox.id)
        if kind:
            query = query.where(EmailOutbox.kind == kind)
        return list(session.scalars(query))


def activity(app: App, kind: str) -> list[UserActivity]:
    with app.db.read() as session:
        return list(session.scalars(
            select(UserActivity).where(UserActivity.activity_type == kind)
            .order_by(UserActivity.id)))


def job_runs(app: App, job: str | None = None) -> list[JobRun]:
    with app.db.read() as session:
        query = select(JobRun).order_by(JobRun.id)
        if job:
            query = query.where(JobRun.job == job)
        return list(session.scalars(query))


def count(app: App, model: Any) -> int:
    with app.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
