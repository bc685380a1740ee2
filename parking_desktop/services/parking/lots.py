"""Parking lots and their spots: create, edit, resize, archive."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ConflictError, NotFoundError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import SpotStatus
from parking_desktop.domain.tariffs import flat_tariff
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.parking.activity import record
from parking_desktop.services.sqlhelpers import contains
from parking_desktop.services.tariffs import store as tariffs
from parking_desktop.services.tariffs.summary import summary
from parking_desktop.services.views import LotView

ACTIVE_SPOT = ParkingSpot.removed_at.is_(None)


def spot_counts_query() -> Any:
    """Per-lot counts of available / reserved / occupied active spots."""
    return (
        select(
            ParkingSpot.lot_id,
            func.sum(case((ParkingSpot.status == SpotStatus.AVAILABLE, 1), else_=0))
            .label("available"),
            func.sum(case((ParkingSpot.status == SpotStatus.RESERVED, 1), else_=0))
            .label("reserved"),
            func.sum(case((ParkingSpot.status == SpotStatus.OCCUPIED, 1), else_=0))
            .label("occupied"),
        )
        .where(ACTIVE_SPOT)
        .group_by(ParkingSpot.lot_id)
    )


def lots_query(needle: str = "", *, include_archived: bool = False) -> Any:
    """The lot list: lots with their spot counts, by name."""
    conditions: list[Any] = []
    if not include_archived:
        conditions.append(ParkingLot.archived_at.is_(None))
    if needle:
        conditions.append(or_(
            contains(ParkingLot.name, needle),
            contains(ParkingLot.pin_code, needle),
            contains(ParkingLot.address, needle),
        ))
    counts = spot_counts_query().subquery()
    return (
        select(ParkingLot, counts.c.available, counts.c.reserved, counts.c.occupied)
        .outerjoin(counts, counts.c.lot_id == ParkingLot.id)
        .where(*conditions)
        .order_by(ParkingLot.name, ParkingLot.id)
    )


def name_conflicts(message: str) -> dict[str, str]:
    """A concurrent writer took the name between our check and our insert."""
    return {"uq_parking_lots_active_name": message,
            "uq_parking_lots_active_name_lower": message}


def lot_view(lot: ParkingLot, counts: tuple[int, int, int] = (0, 0, 0)) -> LotView:
    return LotView(
        id=lot.id, name=lot.name, address=lot.address, pin_code=lot.pin_code,
        price_per_hour=lot.price_per_hour, number_of_spots=lot.number_of_spots,
        available=int(counts[0] or 0), reserved=int(counts[1] or 0), occupied=int(counts[2] or 0),
        created_at=lot.created_at, archived_at=lot.archived_at,
    )


def _lot_snapshot(lot: ParkingLot) -> dict[str, Any]:
    return {
        "name": lot.name, "address": lot.address, "pin_code": lot.pin_code,
        "price_per_hour": str(lot.price_per_hour), "number_of_spots": lot.number_of_spots,
    }


class LotService:
    # The site's currency (bootstrap sets CURRENCY): it sets the ceiling of a price per hour.
    currency = "EUR"

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # --- queries -------------------------------------------------------------------------
    def search(self, text: str = "", *, include_archived: bool = False) -> list[LotView]:
        """Lots with free/reserved/occupied counts; ``text`` matches name, address or pin."""
        query = lots_query(validation.search_text(text), include_archived=include_archived)
        now = self.ctx.clock.now()
        with self.ctx.read() as session:
            return [
                dataclasses.replace(
                    lot_view(lot, (a, r, o)),
                    tariff=summary(tariffs.in_force(session, lot, now)[1]),
                )
                for lot, a, r, o in session.execute(query).all()
            ]

    def get(self, lot_id: int) -> LotView:
        with self.ctx.read() as session:
            lot = session.get(ParkingLot, lot_id)
            if lot is None:
                raise NotFoundError(f"There is no parking lot with id {lot_id}.")
            return lot_view(lot, self._counts(session, lot.id))

    def find_by_name(self, name: str) -> LotView:
        """An active lot by exact name (case-insensitive), or by pin code."""
        cleaned = " ".join(validation.search_text(name, "The lot's name").split())
        with self.ctx.read() as session:
            lot = session.scalar(
                select(ParkingLot).where(
                    ParkingLot.archived_at.is_(None),
                    or_(func.lower(ParkingLot.name) == cleaned.lower(),
                        ParkingLot.pin_code == cleaned.upper()),
                ).order_by(ParkingLot.id).limit(1)
            )
            if lot is None:
                raise NotFoundError(f"There is no active parking lot named '{cleaned}'.")
            return lot_view(lot, self._counts(session, lot.id))

    # --- changes ----------------------------------------------------------------------------
    def create(
        self,
        actor: Actor,
        *,
        name: str,
        address: str,
        pin_code: str,
        price_per_hour: Decimal | str,
        number_of_spots: int | str,
    ) -> LotView:
        require_manager(actor, "create parking lots")
        clean_name = validation.lot_name(name)
        values = {
            "address": validation.address(address),
            "pin_code": validation.pin_code(pin_code),
            "price_per_hour": validation.lot_price(price_per_hour, self.currency),
            "number_of_spots": validation.number_of_spots(number_of_spots),
        }
        now = self.ctx.clock.now()
        taken = f"A lot named '{clean_name}' already exists; choose another name."
        with self.ctx.write("lots", "spots", "activity", conflict=taken,
                            conflicts=name_conflicts(taken)) as session:
            self._check_name_free(session, clean_name, None)
            lot = ParkingLot(name=clean_name, created_at=now, **values)
            session.add(lot)
            session.flush()
            self._add_spots(session, lot.id, 1, lot.number_of_spots)
            # Its first tariff: today's flat rule at its price (the lot_created entry says it).
            tariffs.insert_version(session, lot.id,
                                   flat_tariff(lot.price_per_hour, effective_from=now,
                                               currency=self.currency),
                                   actor.user_id, now)
            record(session, actor.user_id, "lot_created",
                   {"lot_id": lot.id, "after": _lot_snapshot(lot)}, now)
            return lot_view(lot, (lot.number_of_spots, 0, 0))

    def update(
        self,
        actor: Actor,
        lot_id: int,
        *,
        name: str | None = None,
        address: str | None = None,
        pin_code: str | None = None,
        price_per_hour: Decimal | str | None = None,
        number_of_spots: int | str | None = None,
    ) -> LotView:
        """Edit fields; a new price applies to new reservations only; a new size resizes."""
        require_manager(actor, "edit parking lots")
        now = self.ctx.clock.now()
        taken = "Another lot already has that name; choose another name."
        with self.ctx.write("lots", "spots", "activity", conflict=taken,
                            conflicts=name_conflicts(taken)) as session:
            lot = self._load_for_update(session, lot_id)
            before = _lot_snapshot(lot)
            if name is not None:
                clean = validation.lot_name(name)
                if clean != lot.name:
                    self._check_name_free(session, clean, lot.id)
                lot.name = clean
            if address is not None:
                lot.address = validation.address(address)
            if pin_code is not None:
                lot.pin_code = validation.pin_code(pin_code)
            if price_per_hour is not None:
                lot.price_per_hour = validation.lot_price(price_per_hour, self.currency)
            if number_of_spots is not None:
                self._resize(session, lot, validation.number_of_spots(number_of_spots), now)
            after = _lot_snapshot(lot)
            # One entry per change, each naming the lot: a resize or a new price has its own
            # entry; "lot_updated" only when the name, address or pin code changed.
            details = {k for k in after if before[k] != after[k]} - {"price_per_hour",
                                                                    "number_of_spots"}
            if details:
                record(session, actor.user_id, "lot_updated",
                       {"lot_id": lot.id, "lot": lot.name, "before": before, "after": after},
                       now)
            if before["price_per_hour"] != after["price_per_hour"]:
                record(session, actor.user_id, "price_changed",
                       {"lot_id": lot.id, "lot": lot.name,
                        "before": before["price_per_hour"],
                        "after": after["price_per_hour"]}, now)
                # A new price is a new flat tariff version from now on: stays already booked
                # keep the version they recorded.
                previous = tariffs.in_force(session, lot, now)
                new = flat_tariff(lot.price_per_hour, effective_from=now,
                                  currency=self.currency)
                version_id = tariffs.insert_version(session, lot.id, new, actor.user_id, now)
                tariffs.record_change(session, actor.user_id, lot, previous, (version_id, new),
                                      now)
            if before["number_of_spots"] != after["number_of_spots"]:
                record(session, actor.user_id, "lot_resized",
                       {"lot_id": lot.id, "lot": lot.name,
                        "before": before["number_of_spots"],
                        "after": after["number_of_spots"]}, now)
            session.flush()
            return lot_view(lot, self._counts(session, lot.id))

    def resize(self, actor: Actor, lot_id: int, number_of_spots: int | str) -> LotView:
        return self.update(actor, lot_id, number_of_spots=number_of_spots)

    def set_price(self, actor: Actor, lot_id: int, price_per_hour: Decimal | str) -> LotView:
        return self.update(actor, lot_id, price_per_hour=price_per_hour)

    def archive(self, actor: Actor, lot_id: int) -> LotView:
        """Archive a lot: refused while any spot is reserved or occupied; history is kept."""
        require_manager(actor, "archive parking lots")
        now = self.ctx.clock.now()
        with self.ctx.write("lots", "spots", "activity") as session:
            lot = self._load_for_update(session, lot_id)
            busy = self._busy_spots(session, lot.id, from_position=1)
            if busy:
                raise ConflictError(
                    f"Lot '{lot.name}' has {_describe_busy(busy)}; "
                    "it can be archived once they are free."
                )
            lot.archived_at = now
            record(session, actor.user_id, "lot_archived",
                   {"lot_id": lot.id, "before": {**_lot_snapshot(lot), "archived_at": None},
                    "after": {"archived_at": now.isoformat()}}, now)
            return lot_view(lot, self._counts(session, lot.id))

    # --- helpers ----------------------------------------------------------------------------
    def _resize(self, session: Session, lot: ParkingLot, target: int, now: Any) -> None:
        current = lot.number_of_spots
        if target > current:
            # Bring back retired spots first (same numbers), then add new ones.
            session.execute(
                update(ParkingSpot)
                .where(ParkingSpot.lot_id == lot.id, ParkingSpot.position <= target,
                       ParkingSpot.position > current)
                .values(removed_at=None, status=SpotStatus.AVAILABLE)
            )
            highest = session.scalar(
                select(func.max(ParkingSpot.position)).where(ParkingSpot.lot_id == lot.id)
            ) or 0
            if target > highest:
                self._add_spots(session, lot.id, highest + 1, target)
        elif target < current:
            busy = self._busy_spots(session, lot.id, from_position=target + 1)
            if busy:
                raise ConflictError(
                    f"Lot '{lot.name}' has {_describe_busy(busy)}; free them before shrinking."
                )
            session.execute(
                update(ParkingSpot)
                .where(ParkingSpot.lot_id == lot.id, ParkingSpot.position > target, ACTIVE_SPOT)
                .values(removed_at=now)
            )
        lot.number_of_spots = target

    @staticmethod
    def _add_spots(session: Session, lot_id: int, first: int, last: int) -> None:
        session.execute(
            insert(ParkingSpot),
            [
                {"lot_id": lot_id, "number": validation.spot_number(p), "position": p,
                 "status": SpotStatus.AVAILABLE}
                for p in range(first, last + 1)
            ],
        )

    @staticmethod
    def _busy_spots(session: Session, lot_id: int, from_position: int) -> list[tuple[str, str]]:
        return [
            (number, status)
            for number, status in session.execute(
                select(ParkingSpot.number, ParkingSpot.status)
                .where(ParkingSpot.lot_id == lot_id, ParkingSpot.position >= from_position,
                       ParkingSpot.status != SpotStatus.AVAILABLE, ACTIVE_SPOT)
                .order_by(ParkingSpot.position)
            ).all()
        ]

    @staticmethod
    def _check_name_free(session: Session, name: str, lot_id: int | None) -> None:
        """Lot names are unique among active lots whatever their case. Compared here in Python:
        SQLite's lower() folds only ASCII letters ('É' stays 'É'), Python's folds them all."""
        query = select(ParkingLot.name).where(ParkingLot.archived_at.is_(None))
        if lot_id is not None:
            query = query.where(ParkingLot.id != lot_id)
        wanted = name.lower()
        if any(existing.lower() == wanted for existing in session.scalars(query)):
            raise ConflictError(f"A lot named '{name}' already exists; choose another name.")

    @staticmethod
    def _load_for_update(session: Session, lot_id: int) -> ParkingLot:
        lot = session.scalar(
            select(ParkingLot).where(ParkingLot.id == lot_id).with_for_update()
        )
        if lot is None or lot.archived_at is not None:
            raise NotFoundError(f"There is no active parking lot with id {lot_id}.")
        return lot

    @staticmethod
    def _counts(session: Session, lot_id: int) -> tuple[int, int, int]:
        row = session.execute(spot_counts_query().where(ParkingSpot.lot_id == lot_id)).first()
        return (0, 0, 0) if row is None else (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))


def _describe_busy(busy: list[tuple[str, str]]) -> str:
    occupied = [n for n, s in busy if s == SpotStatus.OCCUPIED]
    reserved = [n for n, s in busy if s == SpotStatus.RESERVED]
    parts = []
    if occupied:
        parts.append(f"occupied spot{'s' if len(occupied) > 1 else ''} {_short(occupied)}")
    if reserved:
        parts.append(f"reserved spot{'s' if len(reserved) > 1 else ''} {_short(reserved)}")
    return " and ".join(parts)


def _short(numbers: list[str], limit: int = 10) -> str:
    shown = ", ".join(numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")
