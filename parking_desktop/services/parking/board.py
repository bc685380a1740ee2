"""The entrance board's reads: which lots it shows, and how many spots each has free.

Both are public reads with no actor: the board shows what the sign at the entrance shows, on a
screen nobody signs in to. ``free_spots`` runs every second on SQLite, so it is one statement
that counts through ``ix_parking_spots_lot_status_position`` (lot, status) for the few lots on
the board."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot
from parking_desktop.domain.errors import NotFoundError, ValidationError
from parking_desktop.domain.states import SpotStatus
from parking_desktop.services.context import ServiceContext

MAX_LOTS = 6  # more rows than this would not be readable from a car


@dataclass(frozen=True)
class BoardLot:
    """A lot as the board shows it. ``open`` is false once the lot is archived."""

    id: int
    name: str
    free: int
    total: int
    open: bool = True

    @property
    def full(self) -> bool:
        return self.open and self.free == 0


class BoardService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def lots_named(self, names: Sequence[str]) -> list[BoardLot]:
        """The active lots with these names (case-insensitive) or pin codes, in the order
        given, each once. An unknown name is refused, naming it."""
        wanted: list[str] = []
        for raw in names:
            cleaned = " ".join((raw or "").split())
            if not cleaned:
                raise ValidationError("A lot name is empty; give the name of an active lot.")
            if cleaned.lower() not in (w.lower() for w in wanted):
                wanted.append(cleaned)
        if not wanted:
            raise ValidationError("Name at least one lot to show.")
        query = select(ParkingLot.id, ParkingLot.name, ParkingLot.pin_code).where(
            ParkingLot.archived_at.is_(None),
            or_(func.lower(ParkingLot.name).in_([w.lower() for w in wanted]),
                ParkingLot.pin_code.in_([w.upper() for w in wanted])),
        ).order_by(ParkingLot.id)
        with self.ctx.read() as session:
            rows = session.execute(query).all()
        ids: list[int] = []
        for name in wanted:
            match = next((r.id for r in rows if r.name.lower() == name.lower()), None)
            if match is None:
                match = next((r.id for r in rows if r.pin_code == name.upper()), None)
            if match is None:
                raise NotFoundError(f"There is no active parking lot named '{name}'.")
            if match not in ids:
                ids.append(match)
        if len(ids) > MAX_LOTS:
            raise ValidationError(f"A board shows at most {MAX_LOTS} lots; "
                                  f"{len(ids)} were named.")
        return self.free_spots(ids)

    def free_spots(self, lot_ids: Sequence[int]) -> list[BoardLot]:
        """Free (available, not retired) spots of each lot, in the order of ``lot_ids``; a lot
        that no longer exists is left out."""
        free = (
            select(func.count())
            .where(ParkingSpot.lot_id == ParkingLot.id, ParkingSpot.status == SpotStatus.AVAILABLE,
                   ParkingSpot.removed_at.is_(None))
            .correlate(ParkingLot)
            .scalar_subquery()
        )
        query = select(ParkingLot.id, ParkingLot.name, ParkingLot.number_of_spots,
                       ParkingLot.archived_at, free).where(ParkingLot.id.in_(list(lot_ids)))
        with self.ctx.read() as session:
            rows = {r[0]: r for r in session.execute(query).all()}
        return [
            BoardLot(id=row[0], name=row[1], free=int(row[4] or 0), total=int(row[2]),
                     open=row[3] is None)
            for lot_id in lot_ids if (row := rows.get(lot_id)) is not None
        ]
