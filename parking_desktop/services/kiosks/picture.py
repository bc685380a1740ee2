"""The picture a kiosk keeps of the server while online: active lots with their price, their
active spots, and every open stay. Read in one session; the journal stores it whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.parking.lots import ACTIVE_SPOT
from parking_desktop.services.parking.parking import IS_OPEN


@dataclass(frozen=True)
class Picture:
    taken_at: datetime  # before the first read: operations confirmed earlier are in it
    lots: list[tuple[Any, ...]]  # id, name, address, price_per_hour (text)
    spots: list[tuple[Any, ...]]  # id, lot_id, number, position, status
    stays: list[tuple[Any, ...]]  # reservation id, vehicle, spot, lot, status, times, price


def take_picture(ctx: ServiceContext) -> Picture:
    taken_at = ctx.clock.now()
    with ctx.read() as session:
        lots = [
            (lot.id, lot.name, lot.address, str(lot.price_per_hour))
            for lot in session.scalars(select(ParkingLot).where(ParkingLot.archived_at.is_(None)))
        ]
        active = {row[0] for row in lots}
        spots = [
            (s.id, s.lot_id, s.number, s.position, s.status)
            for s in session.scalars(select(ParkingSpot).where(ACTIVE_SPOT))
            if s.lot_id in active
        ]
        stays = [
            (
                r.id,
                r.vehicle_number,
                r.spot_id,
                lot_id,
                r.status,
                r.reserved_at.isoformat(),
                r.parked_at.isoformat() if r.parked_at else None,
                str(r.price_per_hour),
                username,
            )
            for r, lot_id, username in session.execute(
                select(Reservation, ParkingSpot.lot_id, User.username)
                .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
                .outerjoin(User, User.id == Reservation.user_id)
                .where(IS_OPEN)
            )
        ]
    return Picture(taken_at, lots, spots, stays)
