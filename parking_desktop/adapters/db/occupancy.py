"""Occupancy recounted from the reservations: each spot's stored status against the open
booking on it (`db check`; after an offline replay this is the proof nothing was doubled)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import (
    OPEN_RESERVATION,
    ParkingLot,
    ParkingSpot,
    Reservation,
)

EXPECTED = {"reserved": "R", "active": "O"}


def occupancy_drift(session: Session) -> list[str]:
    """One line per spot whose status is not what its open booking (or none) says."""
    open_status: dict[int, str] = {
        spot_id: status
        for spot_id, status in session.execute(
            select(Reservation.spot_id, Reservation.status).where(text(OPEN_RESERVATION))
        ).all()
    }
    lines = []
    rows = session.execute(
        select(ParkingSpot.id, ParkingSpot.number, ParkingSpot.status, ParkingLot.name)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .order_by(ParkingLot.name, ParkingSpot.position)
    ).all()
    for spot_id, number, status, lot in rows:
        booking = open_status.get(spot_id)
        expected = EXPECTED.get(booking, "A") if booking else "A"
        if status != expected:
            lines.append(
                f"{lot}, spot {number}: stored as {status!r}, its bookings say {expected!r}"
            )
    return lines
