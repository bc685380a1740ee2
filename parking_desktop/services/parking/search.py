"""Search: reservations by vehicle, driver, lot, date range and status (paged)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.sqlhelpers import contains
from parking_desktop.services.views import Page, ReservationView

STATUSES = tuple(BookingStatus)
SORTABLE = {
    "reserved_at": Reservation.reserved_at,
    "parked_at": Reservation.parked_at,
    "left_at": Reservation.left_at,
    "vehicle_number": Reservation.vehicle_number,
    "cost": Reservation.cost,
    "status": Reservation.status,
    "id": Reservation.id,
    "lot": ParkingLot.name,
    "spot": ParkingSpot.position,
    "driver": User.username,
}

NULLABLE_SORTS = frozenset({"parked_at", "left_at", "cost", "driver"})


@dataclass(frozen=True)
class ReservationFilter:
    vehicle: str = ""  # substring, normalised
    driver: str = ""  # username or e-mail substring
    user_id: int | None = None
    lot_id: int | None = None
    status: str | None = None
    since: datetime | None = None  # reserved_at >= since
    until: datetime | None = None  # reserved_at < until


def base_reservation_query() -> Any:
    return (
        select(Reservation, ParkingSpot.number, ParkingSpot.lot_id, ParkingLot.name,
               ParkingLot.address, User.username)
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .outerjoin(User, User.id == Reservation.user_id)
    )


def to_view(row: Any) -> ReservationView:
    r, number, lot_id, lot_name, address, username = row
    return ReservationView(
        id=r.id, spot_id=r.spot_id, spot_number=number, lot_id=lot_id, lot_name=lot_name,
        lot_address=address, user_id=r.user_id, username=username,
        vehicle_number=r.vehicle_number, status=BookingStatus(r.status), reserved_at=r.reserved_at,
        parked_at=r.parked_at, left_at=r.left_at, price_per_hour=r.price_per_hour, cost=r.cost,
        note=r.note,
    )


def recent_reservations(
    session: Session, limit: int = 5, user_id: int | None = None
) -> list[ReservationView]:
    query = base_reservation_query()
    if user_id is not None:
        query = query.where(Reservation.user_id == user_id)
    rows = session.execute(
        query.order_by(Reservation.reserved_at.desc(), Reservation.id.desc()).limit(limit)
    ).all()
    return [to_view(row) for row in rows]


class SearchService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def reservations(
        self,
        actor: Actor,
        flt: ReservationFilter,
        *,
        sort: str = "reserved_at",
        descending: bool = True,
        offset: int = 0,
        limit: int = 100,
        with_total: bool = True,
    ) -> Page[ReservationView]:
        """A page of reservations. Drivers only ever see their own."""
        if flt.status and flt.status not in STATUSES:
            raise ValidationError(f"Status '{flt.status}' is not one of {', '.join(STATUSES)}.")
        since, until = self.ctx.aware(flt.since), self.ctx.aware(flt.until)
        if since and until and since >= until:
            raise ValidationError("The start date must be before the end date.")
        if sort not in SORTABLE:
            raise ValidationError(f"Cannot sort by '{sort}'.")
        conditions: list[Any] = []
        user_id = flt.user_id
        if actor.role is Role.DRIVER:
            user_id = actor.user_id
        if user_id is not None:
            conditions.append(Reservation.user_id == user_id)
        plate = re.sub(r"[\s\-]", "", validation.search_text(flt.vehicle, "The vehicle number"))
        if plate:
            conditions.append(contains(Reservation.vehicle_number, plate))
        needle = validation.search_text(flt.driver, "The driver")
        if needle and actor.role is not Role.DRIVER:
            conditions.append(contains(User.username, needle) | contains(User.email, needle))
        if flt.lot_id is not None:
            conditions.append(ParkingSpot.lot_id == flt.lot_id)
        if flt.status:
            conditions.append(Reservation.status == flt.status)
        if since is not None:
            conditions.append(Reservation.reserved_at >= since)
        if until is not None:
            conditions.append(Reservation.reserved_at < until)
        column = SORTABLE[sort]
        ordered = column.desc() if descending else column.asc()
        if sort in NULLABLE_SORTS:
            # Empty values (not parked yet, no cost yet) last either way, on both databases
            # (SQLite puts NULL first when ascending, PostgreSQL last). Only where NULLs can
            # occur: NULLS LAST on a NOT NULL column stops PostgreSQL using its index (a full
            # sort of every reservation for each page).
            ordered = ordered.nulls_last()
        order = [ordered, Reservation.id.desc() if descending else Reservation.id.asc()]
        limit = max(1, min(limit, 5000))
        with self.ctx.read() as session:
            total = -1
            if with_total:
                total = session.scalar(
                    select(func.count(Reservation.id))
                    .select_from(Reservation)
                    .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
                    .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
                    .outerjoin(User, User.id == Reservation.user_id)
                    .where(*conditions)
                ) or 0
            rows = session.execute(
                base_reservation_query().where(*conditions).order_by(*order)
                .offset(max(0, offset)).limit(limit)
            ).all()
            return Page([to_view(r) for r in rows], total, offset, limit)
