"""The server's side of an offline kiosk's replay: each journal operation applied at most once,
in one transaction with its ``applied_operations`` row, and conflicts settled the closest
correct way with a ``sync_conflicts`` row that keeps both versions for a manager.

* check-in: the spot the kiosk gave if it is still free; else the lot's first free spot
  (conflict); the vehicle already checked in elsewhere: that booking is kept (conflict); the
  lot full or gone: nothing booked (conflict, refused).
* check-out: the stay is completed at the kiosk's time with the fee the kiosk charged; already
  checked out elsewhere: the earlier of the two check-outs is kept (conflict)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db import summary
from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.adapters.db.models_offline import AppliedOperation, SyncConflict
from parking_desktop.adapters.db.models_tariffs import TariffVersion as VersionRow
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ConflictError, NotFoundError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.domain.states import BookingStatus, SpotStatus, move_booking, start_booking
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.kiosks.monitor import is_connection_error
from parking_desktop.services.kiosks.operations import (
    Confirmation,
    ConflictView,
    Operation,
    OpKind,
    Outcome,
)
from parking_desktop.services.parking.activity import record
from parking_desktop.services.parking.parking import (
    TOPICS,
    Settles,
    first_free_spot,
    open_by_vehicle,
)
from parking_desktop.services.tariffs import store as tariffs

ATTEMPTS = 3  # a unique index lost to another kiosk's replay: the next attempt sees its row


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class _Result:
    """What one operation did, collected while it is applied."""

    def __init__(self) -> None:
        self.outcome = Outcome.APPLIED
        self.reservation_id: int | None = None
        self.notes: list[str] = []
        self.server: dict[str, Any] = {}

    def conflict(self, note: str, outcome: Outcome = Outcome.ADJUSTED) -> None:
        self.notes.append(note)
        if self.outcome is not Outcome.REFUSED:
            self.outcome = outcome


class ReplayService:
    """``payments``: the money services' ledger (``ParkingService.payments``): a replayed
    check-out records its payment in the same transaction, as an online one does."""

    def __init__(self, ctx: ServiceContext, payments: Settles | None = None) -> None:
        self.ctx = ctx
        self.payments = payments

    # --- the kiosk's replay ------------------------------------------------------------------
    def apply(self, op: Operation) -> Confirmation:
        """Apply ``op`` unless it was applied before; either way the server's answer. A lost
        database raises (the operation stays in the journal); nothing else does."""
        for attempt in range(ATTEMPTS):
            try:
                return self._apply_once(op)
            except ConflictError as exc:
                # Another writer's row won a unique index (the same operation sent by a second
                # replay, or the same car checked in by another kiosk's replay): try again.
                if is_connection_error(exc) or attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _apply_once(self, op: Operation) -> Confirmation:
        with self.ctx.write(*TOPICS) as session:
            done = session.get(AppliedOperation, op.op_id)
            if done is not None:
                return self._answer(done, again=True)
            result = _Result()
            apply: Callable[[Session, Operation, _Result], None] = (
                self._check_in if op.kind is OpKind.CHECK_IN else self._check_out
            )
            apply(session, op, result)
            now = self.ctx.clock.now()
            row = AppliedOperation(
                op_id=op.op_id,
                kiosk_id=op.kiosk_id,
                seq=op.seq,
                kind=op.kind.value,
                done_at=_moment(op.payload["at"]),
                applied_at=now,
                outcome=result.outcome.value,
                reservation_id=result.reservation_id,
                message="; ".join(result.notes),
            )
            session.add(row)
            if result.notes:
                self._conflict(session, op, result, now)
            session.flush()
            return self._answer(row, again=False)

    @staticmethod
    def _answer(row: AppliedOperation, *, again: bool) -> Confirmation:
        return Confirmation(
            op_id=row.op_id,
            outcome=Outcome(row.outcome),
            reservation_id=row.reservation_id,
            message=row.message,
            again=again,
        )

    def _conflict(self, session: Session, op: Operation, result: _Result, now: datetime) -> None:
        session.add(
            SyncConflict(
                op_id=op.op_id,
                kiosk_id=op.kiosk_id,
                kind=op.kind.value,
                vehicle_number=str(op.payload.get("vehicle", ""))[:15],
                kiosk_version={"seq": op.seq, **op.payload},
                server_version=result.server,
                outcome="; ".join(result.notes),
                reservation_id=result.reservation_id,
                created_at=now,
            )
        )
        record(
            session,
            op.payload.get("actor_id"),
            "sync_conflict",
            {
                "op_id": op.op_id,
                "kiosk_id": op.kiosk_id,
                "kind": op.kind.value,
                "vehicle": op.payload.get("vehicle"),
                "outcome": result.outcome.value,
                "reservation_id": result.reservation_id,
            },
            now,
        )

    # --- check-in -------------------------------------------------------------------------------
    def _check_in(self, session: Session, op: Operation, result: _Result) -> None:
        p = op.payload
        plate = validation.normalise_vehicle(p["vehicle"])
        at = _moment(p["at"])
        actor_id: int | None = p.get("actor_id")
        lot = session.get(ParkingLot, int(p["lot_id"]))
        if lot is None or lot.archived_at is not None:
            result.server = {"lot": "archived or removed"}
            result.conflict(
                f"Lot {p.get('lot_name')!r} is no longer active: {plate} was not booked.",
                Outcome.REFUSED,
            )
            return
        row = session.execute(open_by_vehicle(plate)).first()
        if row is not None:
            there, spot_there, lot_there = row
            result.server = {
                "reservation_id": there.id,
                "lot": lot_there.name,
                "spot": spot_there.number,
                "since": _iso(there.parked_at or there.reserved_at),
                "status": there.status,
            }
            result.reservation_id = there.id
            result.conflict(
                f"{plate} was already checked in ({lot_there.name}, spot {spot_there.number}); "
                "that booking is kept and this check-in is not added."
            )
            return
        user_id = self._driver(session, str(p.get("driver") or ""), result)
        spot = self._spot(session, lot, int(p["spot_id"]), str(p.get("spot_number")), result)
        if spot is None:
            result.conflict(
                f"Lot {lot.name} had no free spot left: {plate} was not booked; "
                "a manager must record where it parked.",
                Outcome.REFUSED,
            )
            return
        status = start_booking(spot, BookingStatus.ACTIVE)
        reservation = Reservation(
            spot_id=spot.id,
            user_id=user_id,
            vehicle_number=plate,
            status=status,
            reserved_at=at,
            parked_at=at,
            price_per_hour=Decimal(p["price_per_hour"]),
            created_by=actor_id,
            note=f"Checked in offline at kiosk {op.kiosk_id[:8]}.",
            tariff_version_id=self._version(session, lot, p.get("tariff_version_id"), at),
        )
        session.add(reservation)
        summary.count_booking(session, lot.id, at)
        if user_id is not None:
            driver = session.get(User, user_id)
            if driver is not None:
                driver.last_booking = at
        session.flush()
        result.reservation_id = reservation.id
        data: dict[str, Any] = {
            "reservation_id": reservation.id,
            "lot": lot.name,
            "spot": spot.number,
            "vehicle": plate,
            "for_user_id": user_id,
            "price_per_hour": str(reservation.price_per_hour),
            "tariff_version_id": reservation.tariff_version_id,
            "offline_op": op.op_id,
        }
        record(session, actor_id, "booking_created", data, at)
        record(session, actor_id, "parked", data, at)

    @staticmethod
    def _version(session: Session, lot: ParkingLot, kiosk_said: object, at: datetime) -> int:
        """The tariff version of a stay checked in offline: the one the kiosk priced by (the
        lot's version at its last sync) if it is the lot's; else the one in force then."""
        if kiosk_said is not None:
            row = session.get(VersionRow, int(str(kiosk_said)))
            if row is not None and row.lot_id == lot.id:
                return row.id
        return tariffs.ensure_in_force(session, lot, at)[0]

    def _driver(self, session: Session, name: str, result: _Result) -> int | None:
        """The driver's account as typed at the kiosk; any problem: a walk-in (conflict)."""
        if not name.strip():
            return None
        driver = session.scalar(select(User).where(User.username == name.strip()))
        problem = ""
        if driver is None:
            problem = f"there is no user {name!r}"
        elif not driver.is_active or driver.role != Role.DRIVER.value:
            problem = f"{driver.username} is not an active driver account"
        elif session.scalar(
            select(Reservation.id).where(
                Reservation.user_id == driver.id,
                Reservation.status.in_([BookingStatus.RESERVED, BookingStatus.ACTIVE]),
            )
        ):
            problem = f"{driver.username} already has an open booking"
        if problem:
            result.server["driver"] = problem
            result.conflict(f"Booked as a walk-in: {problem}.")
            return None
        assert driver is not None
        return driver.id

    def _spot(
        self, session: Session, lot: ParkingLot, spot_id: int, number: str, result: _Result
    ) -> ParkingSpot | None:
        """The spot the kiosk gave, locked, if it is still a free spot of the lot; otherwise
        the lot's first free one (a conflict), or None when there is none."""
        query = select(ParkingSpot).where(ParkingSpot.id == spot_id)
        wanted = session.scalar(query if self.ctx.db.is_sqlite else query.with_for_update())
        if (
            wanted is not None
            and wanted.lot_id == lot.id
            and wanted.removed_at is None
            and wanted.status == SpotStatus.AVAILABLE
        ):
            return wanted
        free = first_free_spot(lot.id)
        spot = session.scalar(
            free if self.ctx.db.is_sqlite else free.with_for_update(skip_locked=True)
        )
        result.server["spot_wanted"] = number
        result.server["spot_wanted_was"] = (
            "removed"
            if wanted is None or wanted.removed_at is not None
            else SpotStatus(wanted.status).word
        )
        if spot is not None:
            result.server["spot_given"] = spot.number
            result.conflict(
                f"Spot {number} was taken meanwhile: the vehicle is recorded in spot "
                f"{spot.number} instead; tell the driver or move the car."
            )
        return spot

    # --- check-out ------------------------------------------------------------------------------
    def _check_out(self, session: Session, op: Operation, result: _Result) -> None:
        p = op.payload
        plate = validation.normalise_vehicle(p["vehicle"])
        at = _moment(p["at"])
        cost = Decimal(p["cost"])
        reservation_id = p.get("reservation_id")
        if reservation_id is None and p.get("check_in_op"):
            checked_in = session.get(AppliedOperation, p["check_in_op"])
            reservation_id = checked_in.reservation_id if checked_in is not None else None
        found = (
            session.execute(
                select(Reservation, ParkingSpot, ParkingLot)
                .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
                .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
                .where(Reservation.id == int(reservation_id))
                .with_for_update(of=[Reservation, ParkingSpot])
            ).first()
            if reservation_id is not None
            else None
        )
        if found is None:
            result.server = {"reservation": None}
            result.conflict(
                f"No booking of {plate} was found to check out (its check-in was not "
                f"applied); the fee of {cost} taken at the kiosk needs a manager.",
                Outcome.REFUSED,
            )
            return
        r, spot, lot = found
        result.reservation_id = r.id
        result.server = {
            "reservation_id": r.id,
            "status": r.status,
            "left_at": _iso(r.left_at),
            "cost": None if r.cost is None else str(r.cost),
        }
        if r.status == BookingStatus.ACTIVE:
            move_booking(r, spot, BookingStatus.COMPLETED)
            r.left_at = at
            priced_by = p.get("tariff_version_id")
            if priced_by is not None and int(priced_by) != r.tariff_version_id:
                # The kiosk's picture was older than this booking's version: record the
                # version the fee was really computed with, as the receipt said.
                row = session.get(VersionRow, int(priced_by))
                if row is not None and row.lot_id == lot.id:
                    r.tariff_version_id = row.id
            extra: dict[str, Any] = {
                "offline_op": op.op_id,
                "tariff_version_id": r.tariff_version_id,
                "lines": p.get("lines", []),
            }
            if self.payments is not None:
                # The fee the kiosk took, recorded as the money services record any release
                # (no payment method was asked offline: their default, flagged if no shift).
                actor = Actor(
                    user_id=p.get("actor_id"),
                    username=str(p.get("actor") or "kiosk"),
                    role=Role(p.get("role") or Role.ATTENDANT.value),
                )
                cost = self.payments.settle_release(
                    session, actor, r, lot, cost, at, None, "booking_completed", extra
                ).charged
            r.cost = cost
            summary.count_completion(session, lot.id, at, cost)
            record(
                session,
                p.get("actor_id"),
                "booking_completed",
                {
                    "reservation_id": r.id,
                    "lot": lot.name,
                    "spot": spot.number,
                    "vehicle": r.vehicle_number,
                    "for_user_id": r.user_id,
                    "hours": p.get("hours"),
                    "cost": str(cost),
                    **extra,
                },
                at,
            )
            return
        if r.status == BookingStatus.COMPLETED and r.left_at is not None and r.cost is not None:
            if at < r.left_at:
                # Ours is the earlier check-out: it is the one kept (both are in the row).
                summary.count_completion(session, lot.id, at, cost)
                summary.count_completion(session, lot.id, r.left_at, -r.cost)
                r.left_at, r.cost = at, cost
                result.conflict(
                    f"{plate} had been checked out elsewhere later "
                    f"({result.server['left_at']}, fee {result.server['cost']}); this earlier "
                    f"check-out (fee {cost}) is kept. The payment recorded for the later one "
                    "stands: one of the two fees needs a refund."
                )
            else:
                result.conflict(
                    f"{plate} had already been checked out elsewhere "
                    f"({result.server['left_at']}, fee {result.server['cost']}); that earlier "
                    f"check-out is kept. The fee of {cost} taken here may need a refund.",
                    Outcome.REFUSED,
                )
            return
        result.conflict(
            f"The booking of {plate} is {r.status}, not parked: nothing was checked out; "
            f"the fee of {cost} taken at the kiosk needs a manager.",
            Outcome.REFUSED,
        )

    # --- for managers ---------------------------------------------------------------------------
    def conflicts(
        self, actor: Actor, *, open_only: bool = False, limit: int = 500
    ) -> list[ConflictView]:
        """Replayed operations that needed a decision: open ones first, newest first."""
        require_manager(actor, "see the offline conflicts")
        # Those still to deal with first, then the newest.
        query = (
            select(SyncConflict)
            .order_by(SyncConflict.resolved_at.is_not(None), SyncConflict.id.desc())
            .limit(limit)
        )
        if open_only:
            query = query.where(SyncConflict.resolved_at.is_(None))
        with self.ctx.read() as session:
            return [_conflict_view(c) for c in session.scalars(query)]

    def resolve(self, actor: Actor, conflict_id: int) -> ConflictView:
        """A manager has dealt with it (a refund, a car moved, a booking recorded by hand): the
        row is marked, and the activity log says who and when. Nothing else changes."""
        require_manager(actor, "mark offline conflicts as dealt with")
        now = self.ctx.clock.now()
        with self.ctx.write("activity") as session:
            row = session.get(SyncConflict, conflict_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"There is no offline conflict {conflict_id}.")
            if row.resolved_at is not None:
                raise ConflictError(f"Offline conflict {conflict_id} was already dealt with.")
            row.resolved_at, row.resolved_by = now, actor.user_id
            record(
                session,
                actor.user_id,
                "sync_conflict_resolved",
                {"conflict_id": row.id, "op_id": row.op_id, "vehicle": row.vehicle_number},
                now,
            )
            return _conflict_view(row)


def _conflict_view(c: SyncConflict) -> ConflictView:
    return ConflictView(
        id=c.id,
        op_id=c.op_id,
        kiosk_id=c.kiosk_id,
        kind=c.kind,
        vehicle_number=c.vehicle_number,
        kiosk_version=dict(c.kiosk_version),
        server_version=dict(c.server_version),
        outcome=c.outcome,
        reservation_id=c.reservation_id,
        created_at=c.created_at,
        resolved_at=c.resolved_at,
    )
