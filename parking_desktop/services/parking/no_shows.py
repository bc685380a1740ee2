"""No-shows and overstays.

A booking whose car has not parked within the hold time (RESERVATION_HOLD_MINUTES) is cancelled
by the ``no_shows`` job through the driver's own cancel path (the spot is freed, the same change
notices reach the cache and the screens), the driver is told by e-mail in the same transaction,
and the activity log says ``booking_no_show``. A car parked longer than OVERSTAY_HOURS is only
listed (``overstays``): it may be a long-stay customer, so a person decides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_staff
from parking_desktop.services.parking.parking import IS_OPEN, ParkingService
from parking_desktop.services.views import ReservationView

# Sends the driver's mail inside the cancelling transaction: (session, booking, hold minutes).
NoShowMail = Callable[[Session, User, ReservationView, int], object]
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class NoShowSummary:
    found: int = 0  # bookings past the hold when the run looked
    cancelled: int = 0
    mailed: int = 0  # drivers told (an active account with an address)
    not_mailed: int = 0  # walk-ins, or drivers without an address
    gone: int = 0  # parked or ended between the look and the cancel

    def as_counts(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "cancelled": self.cancelled,
            "mailed": self.mailed,
            "not_mailed": self.not_mailed,
            "gone": self.gone,
        }

    def text(self, hold_minutes: int) -> str:
        if not self.cancelled:
            return f"No-shows: no booking waited more than {hold_minutes} minutes."
        noun = "booking" if self.cancelled == 1 else "bookings"
        return (
            f"No-shows: {self.cancelled} {noun} cancelled after {hold_minutes} minutes "
            f"without parking; {self.mailed} driver(s) told by e-mail."
        )


def stale_query(reserved_before: datetime) -> Select[tuple[int]]:
    """Bookings still waiting for their car that were made before ``reserved_before``."""
    # IS_OPEN first: the predicate of the partial indexes on open bookings, so neither
    # database walks the whole history every few minutes.
    return (
        select(Reservation.id)
        .where(
            IS_OPEN,
            Reservation.status == BookingStatus.RESERVED.value,
            Reservation.reserved_at <= reserved_before,
        )
        .order_by(Reservation.reserved_at, Reservation.id)
    )


def stale_bookings(ctx: ServiceContext, reserved_before: datetime) -> list[int]:
    with ctx.read() as session:
        return list(session.scalars(stale_query(reserved_before)))


def cancel_no_shows(
    parking: ParkingService,
    hold_minutes: int,
    mail: NoShowMail | None,
    *,
    heartbeat: Callable[[], None] = lambda: None,
) -> NoShowSummary:
    """Cancel every booking not parked within ``hold_minutes`` of being made, one transaction
    each (a car parking meanwhile keeps its booking), and tell the drivers."""
    ctx = parking.ctx
    cutoff = ctx.clock.now() - timedelta(minutes=hold_minutes)
    ids = stale_bookings(ctx, cutoff)
    told: list[bool] = []

    def tell(session: Session, view: ReservationView) -> None:
        user = session.get(User, view.user_id) if view.user_id is not None else None
        if mail is not None and user is not None and user.is_active and user.email:
            mail(session, user, view, hold_minutes)
            told.append(True)
        else:
            told.append(False)

    cancelled = gone = 0
    for reservation_id in ids:
        heartbeat()
        if parking.cancel_no_show(reservation_id, cutoff, hold_minutes, also=tell) is None:
            gone += 1
        else:
            cancelled += 1
    return NoShowSummary(
        found=len(ids),
        cancelled=cancelled,
        mailed=sum(told),
        not_mailed=len(told) - sum(told),
        gone=gone,
    )


@dataclass(frozen=True)
class Overstay:
    reservation_id: int
    vehicle_number: str
    lot_id: int
    lot_name: str
    spot_number: str
    parked_at: datetime
    hours: Decimal  # parked so far, one decimal
    username: str | None


def overstays(ctx: ServiceContext, actor: Actor, limit_hours: int) -> list[Overstay]:
    """Cars parked longer than ``limit_hours`` now, longest first (staff: the dashboard's
    warning and the attendants' list)."""
    require_staff(actor, "see the overstaying cars")
    now = ctx.clock.now()
    with ctx.read() as session:
        rows = session.execute(overstay_query(now - timedelta(hours=limit_hours))).all()
    out = []
    for r, spot_number, lot_id, lot_name, username in rows:
        assert r.parked_at is not None
        seconds = Decimal((now - r.parked_at).total_seconds())
        out.append(
            Overstay(
                r.id,
                r.vehicle_number,
                lot_id,
                lot_name,
                spot_number,
                r.parked_at,
                (seconds / SECONDS_PER_HOUR).quantize(Decimal("0.1")),
                username,
            )
        )
    return out


def overstay_query(
    parked_before: datetime,
) -> Select[tuple[Reservation, str, int, str, str]]:
    """Parked cars that arrived before ``parked_before``, with their spot, lot and driver."""
    return (
        select(Reservation, ParkingSpot.number, ParkingLot.id, ParkingLot.name, User.username)
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .outerjoin(User, User.id == Reservation.user_id)
        .where(
            IS_OPEN,
            Reservation.status == BookingStatus.ACTIVE.value,
            Reservation.parked_at <= parked_before,
        )
        .order_by(Reservation.parked_at, Reservation.id)
    )
