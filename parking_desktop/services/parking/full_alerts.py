"""Full-lot alerts: when a booking takes a lot's occupancy from below FULL_ALERT_PERCENT to at
or above it, the managers are told once (an activity row for the desktop's warning, and a notice
queued for Google Chat); the next crossing needs the lot to drop below the threshold first.

Nothing is stored about "already alerted": the booking's own transaction compares the occupancy
before and after its spot (after - 1 and after), so exactly one booking makes each crossing. On
PostgreSQL two bookings of one lot may run at once and neither would see the other's spot, so
the count is taken under a per-lot transaction lock: the second booking counts after the first
committed. SQLite already runs one writer at a time. The notice goes into the caller's
transaction (the outbox): a Chat outage delays it, it never loses it, and a rolled-back booking
alerts nobody."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, UserActivity
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import SpotStatus
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_staff
from parking_desktop.services.parking.activity import record
from parking_desktop.services.parking.lots import ACTIVE_SPOT

ACTIVITY = "lot_full_alert"
LOCK_CLASS = 0x50_44_46  # pg_advisory_xact_lock(class, lot id): "PDF", this program's own

# Queues a notice in the given transaction: (session, text, idempotency key).
QueueNotice = Callable[[Session, str, str], None]


@dataclass(frozen=True)
class FullLot:
    """A lot at or above the threshold now, and since when (its latest crossing)."""

    lot_id: int
    lot_name: str
    taken: int
    spots: int
    since: datetime | None

    @property
    def percent(self) -> int:
        return (100 * self.taken) // self.spots if self.spots else 0


def crossed(before: int, after: int, spots: int, percent: int) -> bool:
    """True when ``before`` taken spots were below ``percent`` of ``spots`` and ``after`` are
    at or above it (integer arithmetic: no rounding at the edge)."""
    if percent <= 0 or spots <= 0:
        return False
    return before * 100 < percent * spots <= after * 100


def alert_text(lot: str, taken: int, spots: int, percent: int) -> str:
    free = spots - taken
    return (f"{lot} is {100 * taken // spots} % full: {taken} of {spots} spots taken, "
            f"{free} free (alert level {percent} %).")


class FullAlerts:
    def __init__(self, ctx: ServiceContext, percent: int,
                 notice: QueueNotice | None = None) -> None:
        self.ctx = ctx
        self.percent = percent
        self.notice = notice

    def after_booking(self, session: Session, lot: ParkingLot, reservation_id: int,
                      now: datetime) -> None:
        """Called inside a booking's transaction once its spot is taken."""
        if self.percent <= 0:
            return
        if not self.ctx.db.is_sqlite:
            session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, lot.id)))
        taken, spots = session.execute(
            select(func.count(ParkingSpot.id).filter(ParkingSpot.status != SpotStatus.AVAILABLE),
                   func.count(ParkingSpot.id))
            .where(ParkingSpot.lot_id == lot.id, ACTIVE_SPOT)).one()
        taken, spots = int(taken), int(spots)
        if not crossed(taken - 1, taken, spots, self.percent):
            return
        text = alert_text(lot.name, taken, spots, self.percent)
        record(session, None, ACTIVITY,
               {"lot_id": lot.id, "lot": lot.name, "taken": taken, "spots": spots,
                "percent": self.percent, "reservation_id": reservation_id}, now)
        if self.notice is not None:
            self.notice(session, f"*Lot filling up*\n{text}", f"full:{lot.id}:{reservation_id}")

    def full_lots(self, actor: Actor) -> list[FullLot]:
        """Lots at or above the threshold now (the desktop's warning), fullest first."""
        require_staff(actor, "see the lot alerts")
        if self.percent <= 0:
            return []
        taken = func.count(ParkingSpot.id).filter(ParkingSpot.status != SpotStatus.AVAILABLE)
        with self.ctx.read() as session:
            rows = session.execute(
                select(ParkingLot.id, ParkingLot.name, taken, func.count(ParkingSpot.id))
                .join(ParkingSpot, ParkingSpot.lot_id == ParkingLot.id)
                .where(ParkingLot.archived_at.is_(None), ACTIVE_SPOT)
                .group_by(ParkingLot.id, ParkingLot.name)
                .having(taken * 100 >= self.percent * func.count(ParkingSpot.id))
            ).all()
            found = []
            for lot_id, name, used, spots in rows:
                since = session.scalar(
                    select(func.max(UserActivity.timestamp)).where(
                        UserActivity.activity_type == ACTIVITY,
                        UserActivity.activity_data["lot_id"].as_integer() == lot_id))
                if isinstance(since, str):  # SQLite's MAX() comes back as text
                    since = datetime.fromisoformat(since)
                if since is not None and since.tzinfo is None:  # stored in UTC
                    since = since.replace(tzinfo=UTC)
                found.append(FullLot(int(lot_id), name, int(used), int(spots), since))
        return sorted(found, key=lambda f: (-f.percent, f.lot_name))
