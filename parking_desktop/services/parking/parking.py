"""Reservations: reserve → park → release, cancel, attendant check-in/out, force-release."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session

from parking_desktop.adapters.db import summary
from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.domain import validation
from parking_desktop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.domain.states import (
    OPEN_BOOKINGS,
    BookingStatus,
    SpotStatus,
    move_booking,
    start_booking,
)
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_self_or_staff, require_staff
from parking_desktop.services.parking.activity import record
from parking_desktop.services.parking.full_alerts import FullAlerts
from parking_desktop.services.parking.lots import ACTIVE_SPOT
from parking_desktop.services.sqlhelpers import contains, inline_in
from parking_desktop.services.tariffs import store as tariffs
from parking_desktop.services.views import CheckoutQuote, Receipt, ReservationView, SpotView

OPEN = OPEN_BOOKINGS
# Written as literal SQL, the very predicate of the partial indexes uq_reservations_open_*
# (see sqlhelpers.inline_in): a bound "status IN (?, ?)" makes both databases walk every
# reservation of the spot, driver or vehicle instead.
IS_OPEN = inline_in(Reservation.status, OPEN)
TOPICS = ("spots", "reservations", "lots", "users", "activity")
SPOT_TAKEN = "That spot was just taken by someone else; try again."
# PostgreSQL advisory-lock namespace for bookings ('PDBK'); job leases use their own.
BOOKING_LOCKS = 0x5044_424B
# How long a booking waits for spots other bookings hold before giving up (then "busy", never
# "full": those spots may be given back).
SPOT_WAIT = "5s"


def booking_conflicts(plate: str, driver: str | None = None) -> dict[str, str]:
    """What to say when a concurrent booking wins a race the checks in _book could not see
    (the partial unique indexes keep the rule on PostgreSQL's READ COMMITTED)."""
    return {
        "uq_reservations_open_spot": SPOT_TAKEN,
        "uq_reservations_open_user":
            f"{driver or 'That driver'} already has an open booking; release or cancel it first.",
        "uq_reservations_open_vehicle": f"Vehicle {plate} already has an open booking.",
    }


def open_reservations() -> Any:
    """Open reservations with their spot and lot; add the spot, driver or vehicle."""
    return (
        select(Reservation, ParkingSpot, ParkingLot)
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .where(IS_OPEN)
    )


def open_by_vehicle(plate: str) -> Any:
    return open_reservations().where(Reservation.vehicle_number == plate)


def open_by_user(user_id: int) -> Any:
    return open_reservations().where(Reservation.user_id == user_id)


def open_by_spot(spot_id: int) -> Any:
    return open_reservations().where(Reservation.spot_id == spot_id)


def open_id_of_user(user_id: int) -> Any:
    return select(Reservation.id).where(Reservation.user_id == user_id, IS_OPEN)


def open_id_of_vehicle(plate: str) -> Any:
    return select(Reservation.id).where(Reservation.vehicle_number == plate, IS_OPEN)


def spot_map_open(lot_id: int) -> Any:
    """The open reservations on a lot's spots, with the driver's username (the spot map).
    Plain columns, not entities: building a few hundred ORM objects cost more than the
    query itself on a lot of 500 spots."""
    return (
        select(Reservation.spot_id, Reservation.id, Reservation.vehicle_number,
               Reservation.parked_at, Reservation.reserved_at, Reservation.price_per_hour,
               Reservation.tariff_version_id, User.username)
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .outerjoin(User, User.id == Reservation.user_id)
        .where(ParkingSpot.lot_id == lot_id, IS_OPEN)
    )


def spot_map_spots(lot_id: int) -> Any:
    return (
        select(ParkingSpot.id, ParkingSpot.number, ParkingSpot.status)
        .where(ParkingSpot.lot_id == lot_id, ACTIVE_SPOT)
        .order_by(ParkingSpot.position)
    )


def first_free_spot(lot_id: int) -> Select[tuple[ParkingSpot]]:
    return (
        select(ParkingSpot)
        .where(ParkingSpot.lot_id == lot_id, ParkingSpot.status == SpotStatus.AVAILABLE,
               ACTIVE_SPOT)
        .order_by(ParkingSpot.position)
        .limit(1)
    )


def reservation_view(r: Reservation, spot: ParkingSpot, lot: ParkingLot,
                     username: str | None) -> ReservationView:
    return ReservationView(
        id=r.id, spot_id=spot.id, spot_number=spot.number, lot_id=lot.id, lot_name=lot.name,
        lot_address=lot.address, user_id=r.user_id, username=username,
        vehicle_number=r.vehicle_number, status=BookingStatus(r.status), reserved_at=r.reserved_at,
        parked_at=r.parked_at, left_at=r.left_at, price_per_hour=r.price_per_hour, cost=r.cost,
        note=r.note,
    )


class Settled(Protocol):
    @property
    def charged(self) -> Decimal: ...
    @property
    def payment(self) -> Any: ...


class Settles(Protocol):
    """Records the payment of a completed stay in the check-out's own transaction (the
    money services' PaymentLedger); may refuse (no open shift, waiver above the limit), which
    rolls the check-out back."""

    def settle_release(self, session: Session, actor: Actor, r: Reservation, lot: ParkingLot,
                       fee: Decimal, now: datetime, request: Any, activity: str,
                       extra: dict[str, Any]) -> Settled: ...


class ParkingService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.full_alerts: FullAlerts | None = None  # set by bootstrap (FULL_ALERT_PERCENT)
        self.payments: Settles | None = None  # set by bootstrap (services/money)

    # --- driver flow ------------------------------------------------------------------------
    def reserve(
        self, actor: Actor, lot_id: int, vehicle: str, *, user_id: int | None = None
    ) -> ReservationView:
        """Book the first available spot of a lot. A driver books for themselves; staff may
        book for a driver (``user_id``) or a walk-in (None)."""
        if actor.role is Role.DRIVER:
            if user_id not in (None, actor.user_id):
                raise PermissionDeniedError("You can only book for your own account.")
            user_id = actor.user_id
        else:
            require_staff(actor, "book for someone else")
        plate = validation.normalise_vehicle(vehicle)
        now = self.ctx.clock.now()
        driver = actor.username if actor.role is Role.DRIVER else None
        with self.ctx.write(*TOPICS, conflict=SPOT_TAKEN,
                            conflicts=booking_conflicts(plate, driver)) as session:
            reservation, spot, lot, username = self._book(
                session, actor, lot_id, plate, user_id, now, park=False
            )
            return reservation_view(reservation, spot, lot, username)

    def park(self, actor: Actor, reservation_id: int) -> ReservationView:
        """'I have parked': a reserved spot becomes occupied and the clock starts."""
        now = self.ctx.clock.now()
        with self.ctx.write(*TOPICS) as session:
            r, spot, lot = self._load(session, reservation_id, lock=True)
            require_self_or_staff(actor, r.user_id, "park")
            if not BookingStatus(r.status).can_become(BookingStatus.ACTIVE):
                raise ConflictError(f"Reservation {r.id} is {r.status}; only a reserved booking "
                                    "can be marked as parked.")
            move_booking(r, spot, BookingStatus.ACTIVE)
            r.parked_at = now
            # A stay is priced by the version in force when the car parked.
            r.tariff_version_id, _ = tariffs.ensure_in_force(session, lot, now)
            record(session, actor.user_id, "parked",
                   {"reservation_id": r.id, "lot": lot.name, "spot": spot.number,
                    "vehicle": r.vehicle_number, "for_user_id": r.user_id}, now)
            return reservation_view(r, spot, lot, self._username(session, r.user_id))

    def quote(self, actor: Actor, reservation_id: int) -> CheckoutQuote:
        """The fee if the car left now (shown before the release is confirmed)."""
        now = self.ctx.clock.now()
        with self.ctx.read() as session:
            r, spot, lot = self._load(session, reservation_id)
            require_self_or_staff(actor, r.user_id, "see this booking")
            if r.status != BookingStatus.ACTIVE or r.parked_at is None:
                raise ConflictError(f"Vehicle {r.vehicle_number} is not parked.")
            version_id, version = tariffs.version_of(session, r)
            priced = tariffs.price(version, r.parked_at, now, self.ctx.tz)
            return CheckoutQuote(
                reservation_id=r.id, vehicle_number=r.vehicle_number, lot_name=lot.name,
                spot_number=spot.number, parked_at=r.parked_at, until=now,
                hours=tariffs.billed_hours(priced), price_per_hour=r.price_per_hour,
                cost=priced.total, lines=tariffs.fee_lines(priced), currency=priced.currency,
                tariff_version_id=version_id,
            )

    def release(self, actor: Actor, reservation_id: int, *, payment: Any = None) -> Receipt:
        """The car leaves: spot available again, fee charged at the reservation's price.
        ``payment``: how it is paid (services/money's PaymentRequest; None: the default)."""
        now = self.ctx.clock.now()
        with self.ctx.write(*TOPICS) as session:
            r, spot, lot = self._load(session, reservation_id, lock=True)
            require_self_or_staff(actor, r.user_id, "release this spot")
            if not BookingStatus(r.status).can_become(BookingStatus.COMPLETED):
                raise ConflictError(
                    f"Reservation {r.id} is {r.status}; only a parked car can be released"
                    + (" (cancel the booking instead)."
                       if r.status == BookingStatus.RESERVED else ".")
                )
            return self._complete(session, actor, r, spot, lot, now, "booking_completed", {},
                                  payment)

    def cancel(self, actor: Actor, reservation_id: int) -> ReservationView:
        """Cancel before parking: no charge."""
        now = self.ctx.clock.now()
        with self.ctx.write(*TOPICS) as session:
            r, spot, lot = self._load(session, reservation_id, lock=True)
            require_self_or_staff(actor, r.user_id, "cancel this booking")
            if not BookingStatus(r.status).can_become(BookingStatus.CANCELLED):
                raise ConflictError(
                    f"Reservation {r.id} is {r.status}; only a booking not yet parked can be "
                    "cancelled."
                )
            return self._cancel(session, actor, r, spot, lot, now, "booking_cancelled", {})

    def cancel_no_show(
        self, reservation_id: int, reserved_before: datetime, hold_minutes: int,
        also: Callable[[Session, ReservationView], None] | None = None,
    ) -> ReservationView | None:
        """The no-show job (the system): cancel a booking still not parked that was made
        before ``reserved_before``, by the driver's own cancel path (spot freed, the same
        topics told). ``also`` runs in the same transaction (the driver's mail). None when the
        car parked, or the booking ended, since it was selected."""
        now = self.ctx.clock.now()
        with self.ctx.write(*TOPICS) as session:
            r, spot, lot = self._load(session, reservation_id, lock=True)
            if r.status != BookingStatus.RESERVED or r.reserved_at > reserved_before:
                return None
            view = self._cancel(session, SYSTEM, r, spot, lot, now, "booking_no_show",
                                {"hold_minutes": hold_minutes,
                                 "reserved_at": r.reserved_at.isoformat()})
            if also is not None:
                also(session, view)
            return view

    def _cancel(self, session: Session, actor: Actor, r: Reservation, spot: ParkingSpot,
                lot: ParkingLot, now: datetime, activity: str,
                extra: dict[str, Any]) -> ReservationView:
        move_booking(r, spot, BookingStatus.CANCELLED)
        r.left_at = now
        r.cost = None
        record(session, actor.user_id, activity,
               {"reservation_id": r.id, "lot": lot.name, "spot": spot.number,
                "vehicle": r.vehicle_number, "for_user_id": r.user_id, **extra}, now)
        return reservation_view(r, spot, lot, self._username(session, r.user_id))

    # --- attendant flow ---------------------------------------------------------------------
    def check_in(
        self, actor: Actor, lot_id: int, vehicle: str, *, driver_id: int | None = None,
        driver: str = "",
    ) -> ReservationView:
        """Reserve and park in one step (an attendant at the gate). The driver's account, if
        any, is given by id or as typed at the kiosk (``driver``: a username; blank: none)."""
        require_staff(actor, "check vehicles in")
        plate = validation.normalise_vehicle(vehicle)
        now = self.ctx.clock.now()
        with self.ctx.write(*TOPICS, conflict=SPOT_TAKEN,
                            conflicts=booking_conflicts(plate)) as session:
            if driver_id is None and driver.strip():
                driver_id = self._user_id_by_name(session, driver.strip())
            reservation, spot, lot, username = self._book(
                session, actor, lot_id, plate, driver_id, now, park=True
            )
            return reservation_view(reservation, spot, lot, username)

    def find_open_by_vehicle(self, actor: Actor, vehicle: str) -> ReservationView:
        plate = validation.normalise_vehicle(vehicle)
        with self.ctx.read() as session:
            row = session.execute(open_by_vehicle(plate)).first()
            if row is None:
                raise NotFoundError(f"Vehicle {plate} is not checked in anywhere.")
            r, spot, lot = row
            require_self_or_staff(actor, r.user_id, "look up this vehicle")
            return reservation_view(r, spot, lot, self._username(session, r.user_id))

    def quote_vehicle(self, actor: Actor, vehicle: str) -> CheckoutQuote:
        return self.quote(actor, self.find_open_by_vehicle(actor, vehicle).id)

    def check_out(self, actor: Actor, vehicle: str, *, payment: Any = None) -> Receipt:
        """Release by vehicle number (the attendant's check-out)."""
        require_staff(actor, "check vehicles out")
        return self.release(actor, self.find_open_by_vehicle(actor, vehicle).id,
                            payment=payment)

    def force_release(self, actor: Actor, spot_id: int, reason: str, *,
                      payment: Any = None) -> Receipt | None:
        """Free a reserved or occupied spot with a required reason. An occupied spot is charged
        as a normal release; a reserved one is cancelled. Returns the receipt when charged."""
        require_staff(actor, "force-release a spot")
        why = validation.reason(reason)
        now = self.ctx.clock.now()
        with self.ctx.write(*TOPICS) as session:
            row = session.execute(
                open_by_spot(spot_id).with_for_update(of=[Reservation, ParkingSpot])
            ).first()
            if row is None:
                spot = session.get(ParkingSpot, spot_id)
                if spot is None:
                    raise NotFoundError(f"There is no spot with id {spot_id}.")
                raise ConflictError(f"Spot {spot.number} is already free.")
            r, spot, lot = row
            extra = {"reason": why}
            r.note = f"Force-released by {actor.username}: {why}"
            if r.status == BookingStatus.RESERVED:
                move_booking(r, spot, BookingStatus.CANCELLED)
                r.left_at = now
                record(session, actor.user_id, "force_released",
                       {"reservation_id": r.id, "lot": lot.name, "spot": spot.number,
                        "vehicle": r.vehicle_number, "for_user_id": r.user_id, "cost": None,
                        **extra}, now)
                return None
            return self._complete(session, actor, r, spot, lot, now, "force_released", extra,
                                  payment)

    # --- spots ------------------------------------------------------------------------------
    def spots(self, actor: Actor, lot_id: int) -> list[SpotView]:
        """Every active spot of a lot, with who is on it and the fee so far (staff only)."""
        require_staff(actor, "see the spot map")
        now = self.ctx.clock.now()
        with self.ctx.read() as session:
            lot = session.get(ParkingLot, lot_id)
            if lot is None:
                raise NotFoundError(f"There is no parking lot with id {lot_id}.")
            open_by_spot = {row.spot_id: row
                            for row in session.execute(spot_map_open(lot_id)).all()}
            known = tariffs.versions_by_id(
                session, (r.tariff_version_id for r in open_by_spot.values()
                          if r.tariff_version_id is not None))
            views = []
            for spot_id, number, status in session.execute(spot_map_spots(lot_id)).all():
                r = open_by_spot.get(spot_id)
                if r is None:
                    views.append(SpotView(id=spot_id, lot_id=lot_id, number=number,
                                          status=SpotStatus(status)))
                    continue
                since = r.parked_at or r.reserved_at
                # The row carries the two columns stay_version reads (its version, its price).
                stay = cast("Reservation", r)
                fee = (tariffs.price(tariffs.stay_version(stay, known)[1], r.parked_at, now,
                                     self.ctx.tz).total
                       if r.parked_at else None)
                views.append(SpotView(
                    id=spot_id, lot_id=lot_id, number=number, status=SpotStatus(status),
                    reservation_id=r.id, vehicle_number=r.vehicle_number, driver=r.username,
                    since=since, price_per_hour=r.price_per_hour, fee_so_far=fee,
                ))
            return views

    def open_reservation(self, actor: Actor, user_id: int | None = None) -> ReservationView | None:
        """A driver's current reserved/active booking, if any."""
        uid = actor.user_id if user_id is None else user_id
        require_self_or_staff(actor, uid, "see bookings")
        if uid is None:  # the system actor has no bookings (and must not match walk-ins)
            return None
        with self.ctx.read() as session:
            row = session.execute(open_by_user(uid)).first()
            if row is None:
                return None
            r, spot, lot = row
            return reservation_view(r, spot, lot, self._username(session, r.user_id))

    # --- internals ----------------------------------------------------------------------------
    def _book(
        self, session: Session, actor: Actor, lot_id: int, plate: str, user_id: int | None,
        now: datetime, *, park: bool,
    ) -> tuple[Reservation, ParkingSpot, ParkingLot, str | None]:
        # Lock the lot row (shared on PostgreSQL) so a concurrent resize/archive waits for us.
        lot = session.scalar(
            select(ParkingLot).where(ParkingLot.id == lot_id).with_for_update(read=True)
        )
        if lot is None or lot.archived_at is not None:
            raise NotFoundError(f"There is no active parking lot with id {lot_id}.")
        if not self.ctx.db.is_sqlite:
            self._queue_behind_same_vehicle_or_driver(session, plate, user_id)
        username: str | None = None
        if user_id is not None:
            driver = session.get(User, user_id)
            if driver is None:
                raise NotFoundError(f"There is no user with id {user_id}.")
            if not driver.is_active:
                raise ConflictError(f"The account '{driver.username}' is deactivated.")
            if driver.role != Role.DRIVER.value:
                raise ValidationError(f"'{driver.username}' is not a driver account.")
            username = driver.username
            if session.scalar(open_id_of_user(user_id)):
                raise ConflictError(
                    f"{driver.username} already has an open booking; release or cancel it first."
                )
        if (open_row := session.execute(
            open_by_vehicle(plate)
        ).first()) is not None:
            there, spot_there, lot_there = open_row
            raise ConflictError(self._where_it_is(plate, there, spot_there, lot_there, now))
        spot = self._claim_first_free_spot(session, lot.id)
        if spot is None:
            raise ConflictError(f"Lot '{lot.name}' is full: no spot is available.")
        status = start_booking(spot, BookingStatus.ACTIVE if park else BookingStatus.RESERVED)
        # The snapshot: the version in force now (taken again when a reserved car parks).
        version_id, _ = tariffs.ensure_in_force(session, lot, now)
        reservation = Reservation(
            spot_id=spot.id, user_id=user_id, vehicle_number=plate,
            status=status, reserved_at=now,
            parked_at=now if park else None, price_per_hour=lot.price_per_hour,
            created_by=actor.user_id, tariff_version_id=version_id,
        )
        session.add(reservation)
        summary.count_booking(session, lot.id, now)  # the dashboard's figures, same transaction
        if user_id is not None:
            session.get(User, user_id).last_booking = now  # type: ignore[union-attr]
        session.flush()
        if self.full_alerts is not None:
            self.full_alerts.after_booking(session, lot, reservation.id, now)
        data: dict[str, Any] = {
            "reservation_id": reservation.id, "lot": lot.name, "spot": spot.number,
            "vehicle": plate, "for_user_id": user_id,
            "price_per_hour": str(lot.price_per_hour),
        }
        record(session, actor.user_id, "booking_created", data, now)
        if park:
            record(session, actor.user_id, "parked", data, now)
        return reservation, spot, lot, username

    @staticmethod
    def _queue_behind_same_vehicle_or_driver(
        session: Session, plate: str, user_id: int | None
    ) -> None:
        """PostgreSQL: wait for any other booking of this vehicle or driver still in flight.
        Without it both pass the "already booked" checks (neither sees the other's uncommitted
        row), both take a spot, and the loser is refused only at the unique index, after
        keeping a spot from everyone else. The locks end with the transaction; always taken in
        the same order (vehicle, then driver), so two bookings cannot wait on each other."""
        keys = [f"vehicle:{plate}"] + ([f"driver:{user_id}"] if user_id is not None else [])
        for key in keys:
            session.execute(select(func.pg_advisory_xact_lock(BOOKING_LOCKS,
                                                              func.hashtext(key))))

    def _claim_first_free_spot(self, session: Session, lot_id: int) -> ParkingSpot | None:
        query = first_free_spot(lot_id)
        if self.ctx.db.is_sqlite:
            # The write transaction already holds the database's write lock.
            return session.scalar(query)
        # Concurrent bookings each lock a different row instead of queueing on the first.
        spot = session.scalar(query.with_for_update(skip_locked=True))
        if spot is not None:
            return spot
        # Nothing free that nobody holds. Spots other bookings hold are not taken yet: such a
        # booking may fail (and give its spot back), so wait for them, a bounded time, before
        # saying "full". Row by row, PostgreSQL re-checks each held spot once it is released
        # and skips those that were taken; None means every spot really is taken.
        session.execute(text(f"SET LOCAL lock_timeout = '{SPOT_WAIT}'"))
        return session.scalar(query.with_for_update())

    def _complete(
        self, session: Session, actor: Actor, r: Reservation, spot: ParkingSpot, lot: ParkingLot,
        now: datetime, activity: str, extra: dict[str, Any], payment: Any = None,
    ) -> Receipt:
        assert r.parked_at is not None
        # The fee is the quote of the version the reservation recorded (its snapshot).
        version_id, version = tariffs.version_of(session, r)
        priced = tariffs.price(version, r.parked_at, now, self.ctx.tz)
        hours = tariffs.billed_hours(priced)
        move_booking(r, spot, BookingStatus.COMPLETED)
        r.left_at = now
        # The payment row, same transaction; a discount or waiver makes the cost what was paid.
        settled = (self.payments.settle_release(session, actor, r, lot, priced.total, now,
                                                payment, activity, extra)
                   if self.payments is not None else None)
        cost = settled.charged if settled is not None else priced.total
        r.cost = cost
        summary.count_completion(session, lot.id, now, cost)
        record(session, actor.user_id, activity,
               {"reservation_id": r.id, "lot": lot.name, "spot": spot.number,
                "vehicle": r.vehicle_number, "for_user_id": r.user_id,
                "hours": str(hours), "cost": str(cost), **extra}, now)
        return Receipt(
            reservation_id=r.id, vehicle_number=r.vehicle_number, lot_name=lot.name,
            spot_number=spot.number, parked_at=r.parked_at, left_at=now, hours=hours,
            price_per_hour=r.price_per_hour, cost=cost,
            payment=settled.payment if settled is not None else None,
            lines=tariffs.fee_lines(priced), currency=priced.currency,
            tariff_version_id=version_id,
        )

    def _where_it_is(self, plate: str, r: Reservation, spot: ParkingSpot, lot: ParkingLot,
                     now: datetime) -> str:
        """The refusal of a second booking says where the vehicle already is, and since when
        (site time; the date too unless it is today)."""
        since = (r.parked_at or r.reserved_at).astimezone(self.ctx.tz)
        today = now.astimezone(self.ctx.tz).date()
        when = f"{since:%H:%M}" if since.date() == today else f"{since:%d %b %H:%M}"
        how = "parked" if r.status == BookingStatus.ACTIVE else "booked"
        return (f"Vehicle {plate} already has an open booking: {how} in {lot.name}, "
                f"spot {spot.number}, since {when}.")

    def find_open_by_partial(self, actor: Actor, text: str,
                             limit: int = 20) -> list[ReservationView]:
        """Open bookings whose plate contains ``text`` (the attendant typed part of it), exact
        match first, then by plate; at most ``limit``."""
        require_staff(actor, "look up vehicles")
        needle = validation.normalise_vehicle(text)
        with self.ctx.read() as session:
            rows = session.execute(
                open_reservations().where(contains(Reservation.vehicle_number, needle))
                .order_by((Reservation.vehicle_number != needle), Reservation.vehicle_number)
                .limit(limit)
            ).all()
            return [reservation_view(r, spot, lot, self._username(session, r.user_id))
                    for r, spot, lot in rows]

    @staticmethod
    def _load(session: Session, reservation_id: int,
              lock: bool = False) -> tuple[Reservation, ParkingSpot, ParkingLot]:
        query = (
            select(Reservation, ParkingSpot, ParkingLot)
            .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
            .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
            .where(Reservation.id == reservation_id)
        )
        if lock:
            query = query.with_for_update(of=[Reservation, ParkingSpot])
        row = session.execute(query).first()
        if row is None:
            raise NotFoundError(f"There is no reservation with id {reservation_id}.")
        return row[0], row[1], row[2]

    @staticmethod
    def _user_id_by_name(session: Session, username: str) -> int:
        user_id = session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFoundError(f"There is no user '{username}'.")
        return int(user_id)

    @staticmethod
    def _username(session: Session, user_id: int | None) -> str | None:
        return None if user_id is None else session.scalar(
            select(User.username).where(User.id == user_id)
        )


