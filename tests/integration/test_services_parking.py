"""Reservations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.models import ParkingSpot, Reservation, User, UserActivity
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.views import LotView
from tests.conftest import MakeUser, Unchanged, uid


@pytest.fixture
def lot(app: App, manager: Actor) -> LotView:
    return app.lots.create(manager, name="City Center", address="1 Main St", pin_code="75001",
                           price_per_hour="2.50", number_of_spots=3)


def statuses(app: App, lot_id: int) -> dict[str, str]:
    with app.db.read() as s:
        return {number: status for number, status in s.execute(
            select(ParkingSpot.number, ParkingSpot.status)
            .where(ParkingSpot.lot_id == lot_id).order_by(ParkingSpot.position)
        ).all()}


def reservation(app: App, reservation_id: int) -> Reservation:
    with app.db.read() as s:
        found = s.get(Reservation, reservation_id)
        assert found is not None
        return found


def activity(app: App, activity_type: str) -> list[tuple[int | None, dict[str, object]]]:
    with app.db.read() as s:
        return [(u, dict(d)) for u, d in s.execute(
            select(UserActivity.user_id, UserActivity.activity_data)
            .where(UserActivity.activity_type == activity_type).order_by(UserActivity.id)
        ).all()]


# --- the driver's flow -----------------------------------------------------------------------
def test_reserve_park_release_charges_the_reservation_price(
    app: App, lot: LotView, driver: Actor, clock: FixedClock
) -> None:
    start = clock.now()
    booked = app.parking.reserve(driver, lot.id, "ab-12 cd")
    assert (booked.spot_number, booked.status, booked.vehicle_number) == ("P001", "reserved",
                                                                         "AB12CD")
    assert (booked.user_id, booked.username, booked.lot_name) == (driver.user_id, "driver1",
                                                                  "City Center")
    assert booked.reserved_at == start and booked.parked_at is None
    assert booked.price_per_hour == Decimal("2.50")
    assert statuses(app, lot.id) == {"P001": "R", "P002": "A", "P003": "A"}

    clock.advance(minutes=10)
    parked = app.parking.park(driver, booked.id)
    assert parked.status == "active"
    assert parked.parked_at == start + timedelta(minutes=10)
    assert statuses(app, lot.id)["P001"] == "O"

    clock.advance(minutes=150)  # 2.5 h parked: the 10 reserved minutes are not charged
    quote = app.parking.quote(driver, booked.id)
    assert (quote.hours, quote.cost) == (Decimal("2.5000"), Decimal("6.25"))
    receipt = app.parking.release(driver, booked.id)
    assert (receipt.hours, receipt.cost, receipt.spot_number) == (Decimal("2.5000"),
                                                                 Decimal("6.25"), "P001")
    assert receipt.left_at == clock.now()
    stored = reservation(app, booked.id)
    assert (stored.status, stored.cost, stored.left_at) == ("completed", Decimal("6.25"),
                                                            clock.now())
    assert stored.created_by == driver.user_id
    assert statuses(app, lot.id) == {"P001": "A", "P002": "A", "P003": "A"}
    assert _booking_activity(app) == ["booking_created", "parked", "booking_completed"]


def test_a_short_stay_is_charged_one_hour(app: App, lot: LotView, manager: Actor,
                                          clock: FixedClock) -> None:
    app.parking.check_in(manager, lot.id, "QUICK1")
    clock.advance(minutes=5)
    assert app.parking.check_out(manager, "QUICK1").cost == Decimal("2.50")


def test_booking_takes_the_first_available_spot_by_number(
    app: App, manager: Actor, lot: LotView
) -> None:
    first = app.parking.check_in(manager, lot.id, "CAR1")
    second = app.parking.check_in(manager, lot.id, "CAR2")
    assert (first.spot_number, second.spot_number) == ("P001", "P002")
    app.parking.check_out(manager, "CAR1")
    assert app.parking.check_in(manager, lot.id, "CAR3").spot_number == "P001"
    assert app.parking.check_in(manager, lot.id, "CAR4").spot_number == "P003"


def test_a_full_lot_refuses_cleanly_and_changes_nothing(
    app: App, manager: Actor, lot: LotView, unchanged: Unchanged
) -> None:
    for plate in ("CAR1", "CAR2", "CAR3"):
        app.parking.check_in(manager, lot.id, plate)
    with unchanged(), pytest.raises(ConflictError,
                                    match="Lot 'City Center' is full: no spot is available"):
        app.parking.check_in(manager, lot.id, "CAR4")


def test_cancel_before_parking_is_free(app: App, lot: LotView, driver: Actor,
                                       clock: FixedClock) -> None:
    booked = app.parking.reserve(driver, lot.id, "AB12")
    clock.advance(minutes=30)
    cancelled = app.parking.cancel(driver, booked.id)
    assert (cancelled.status, cancelled.cost) == ("cancelled", None)
    assert statuses(app, lot.id)["P001"] == "A"
    # The driver may book again at once.
    assert app.parking.reserve(driver, lot.id, "AB12").spot_number == "P001"


def test_a_parked_booking_cannot_be_cancelled_and_a_reserved_one_cannot_be_released(
    app: App, lot: LotView, driver: Actor, unchanged: Unchanged
) -> None:
    booked = app.parking.reserve(driver, lot.id, "AB12")
    with unchanged(), pytest.raises(ConflictError, match="cancel the booking instead"):
        app.parking.release(driver, booked.id)
    with unchanged(), pytest.raises(ConflictError, match="is not parked"):
        app.parking.quote(driver, booked.id)
    app.parking.park(driver, booked.id)
    with unchanged(), pytest.raises(ConflictError, match="only a booking not yet parked"):
        app.parking.cancel(driver, booked.id)
    with unchanged(), pytest.raises(ConflictError, match="only a reserved booking"):
        app.parking.park(driver, booked.id)
    app.parking.release(driver, booked.id)
    with unchanged(), pytest.raises(ConflictError, match="is completed"):
        app.parking.release(driver, booked.id)


def test_unknown_reservation(app: App, driver: Actor) -> None:
    with pytest.raises(NotFoundError, match="no reservation with id 42"):
        app.parking.park(driver, 42)


# --- one open booking per driver and per vehicle ---------------------------------------------
def test_a_driver_has_at_most_one_open_booking(
    app: App, lot: LotView, driver: Actor, manager: Actor, unchanged: Unchanged
) -> None:
    app.parking.reserve(driver, lot.id, "AB12")
    with unchanged(), pytest.raises(
        ConflictError, match="driver1 already has an open booking; release or cancel it first"
    ):
        app.parking.reserve(driver, lot.id, "OTHER1")
    # Staff booking for that driver is refused too.
    with unchanged(), pytest.raises(ConflictError, match="driver1 already has an open booking"):
        app.parking.check_in(manager, lot.id, "OTHER1", driver_id=driver.user_id)


def test_a_vehicle_has_at_most_one_open_booking(
    app: App, lot: LotView, driver: Actor, make_user: MakeUser, manager: Actor,
    unchanged: Unchanged,
) -> None:
    other = make_user("driver2")
    app.parking.reserve(driver, lot.id, "AB-12")
    with unchanged(), pytest.raises(ConflictError,
                                    match="Vehicle AB12 already has an open booking"):
        app.parking.reserve(other, lot.id, "ab 12")
    with unchanged(), pytest.raises(ConflictError, match="Vehicle AB12 already has an open"):
        app.parking.check_in(manager, lot.id, "AB12")


def test_the_database_itself_refuses_a_second_open_booking(
    app: App, lot: LotView, driver: Actor
) -> None:
    """The partial unique indexes hold even if a service check were skipped."""
    booked = app.parking.reserve(driver, lot.id, "AB12")
    from sqlalchemy.exc import IntegrityError

    for duplicate in ({"user_id": driver.user_id, "vehicle_number": "ZZ99"},
                      {"user_id": None, "vehicle_number": "AB12"}):
        with pytest.raises(IntegrityError), app.db.write() as s:
            s.add(Reservation(spot_id=_spot_id(app, lot.id, "P002"), status="reserved",
                              reserved_at=booked.reserved_at, price_per_hour=Decimal("1"),
                              **duplicate))
    with pytest.raises(IntegrityError), app.db.write() as s:  # one open booking per spot
        s.add(Reservation(spot_id=booked.spot_id, vehicle_number="NEW1", status="active",
                          reserved_at=booked.reserved_at, price_per_hour=Decimal("1")))


def test_a_spot_that_does_not_show_its_booking_stops_the_change(
    app: App, lot: LotView, driver: Actor, unchanged: Unchanged
) -> None:
    """A spot marked free under a reserved booking (a hand edit, or a bug) is reported, not
    silently parked on: every state change goes through the transition rules."""
    booked = app.parking.reserve(driver, lot.id, "AB12")
    with app.db.write() as s:
        s.get(ParkingSpot, booked.spot_id).status = "A"  # type: ignore[union-attr]
    with unchanged(), pytest.raises(
        ConflictError, match="spot of a reserved booking should be reserved, not available"
    ):
        app.parking.park(driver, booked.id)
    with unchanged(), pytest.raises(ConflictError, match="should be reserved, not available"):
        app.parking.cancel(driver, booked.id)


# --- attendant -------------------------------------------------------------------------------
def test_check_in_reserves_and_parks_in_one_step(
    app: App, lot: LotView, attendant: Actor, clock: FixedClock
) -> None:
    booked = app.parking.check_in(attendant, lot.id, "walk in 1")
    assert (booked.status, booked.user_id, booked.vehicle_number) == ("active", None, "WALKIN1")
    assert booked.parked_at == booked.reserved_at == clock.now()
    assert statuses(app, lot.id)["P001"] == "O"
    assert _booking_activity(app) == ["booking_created", "parked"]
    found = app.parking.find_open_by_vehicle(attendant, "walk-in-1")
    assert found.id == booked.id
    clock.advance(hours=3, minutes=20)
    quote = app.parking.quote_vehicle(attendant, "WALKIN1")
    assert quote.cost == Decimal("8.33")  # 3.3333 h * 2.50 = 8.3333…
    receipt = app.parking.check_out(attendant, "walkin1")
    assert receipt.cost == Decimal("8.33")
    with pytest.raises(NotFoundError, match="Vehicle WALKIN1 is not checked in anywhere"):
        app.parking.check_out(attendant, "WALKIN1")


def test_check_in_for_a_driver_updates_last_booking(
    app: App, lot: LotView, attendant: Actor, driver: Actor, clock: FixedClock
) -> None:
    assert app.users.get(driver, uid(driver)).last_booking is None
    clock.advance(hours=1)
    booked = app.parking.check_in(attendant, lot.id, "DRV1", driver_id=driver.user_id)
    assert (booked.user_id, booked.username) == (driver.user_id, "driver1")
    assert app.users.get(driver, uid(driver)).last_booking == clock.now()
    with app.db.read() as s:
        assert s.scalar(select(Reservation.created_by)) == attendant.user_id


def test_driver_booking_updates_last_booking(app: App, lot: LotView, driver: Actor,
                                             clock: FixedClock) -> None:
    clock.advance(days=2)
    app.parking.reserve(driver, lot.id, "DRV1")
    with app.db.read() as s:
        assert s.scalar(select(User.last_booking).where(User.id == driver.user_id)) == clock.now()


def test_only_active_driver_accounts_can_be_booked_for(
    app: App, lot: LotView, manager: Actor, driver: Actor, attendant: Actor,
    unchanged: Unchanged,
) -> None:
    with unchanged(), pytest.raises(ValidationError, match="'attendant1' is not a driver"):
        app.parking.check_in(manager, lot.id, "X1", driver_id=attendant.user_id)
    with unchanged(), pytest.raises(NotFoundError, match="no user with id 999"):
        app.parking.check_in(manager, lot.id, "X1", driver_id=999)
    app.users.set_active(manager, uid(driver), False)
    with unchanged(), pytest.raises(ConflictError, match="'driver1' is deactivated"):
        app.parking.check_in(manager, lot.id, "X1", driver_id=driver.user_id)
    with unchanged(), pytest.raises(ConflictError, match="deactivated"):
        app.parking.reserve(driver, lot.id, "X1")


def test_bad_vehicle_numbers_are_refused(app: App, lot: LotView, attendant: Actor,
                                         unchanged: Unchanged) -> None:
    with unchanged(), pytest.raises(ValidationError, match="use 2 to 15 letters or digits"):
        app.parking.check_in(attendant, lot.id, "A")
    with unchanged(), pytest.raises(ValidationError, match="Enter a vehicle number"):
        app.parking.check_in(attendant, lot.id, " - ")


def test_booking_an_unknown_lot(app: App, attendant: Actor) -> None:
    with pytest.raises(NotFoundError, match="no active parking lot with id 77"):
        app.parking.check_in(attendant, 77, "AB12")


# --- force-release ---------------------------------------------------------------------------
def test_force_release_requires_a_reason(app: App, lot: LotView, attendant: Actor,
                                         unchanged: Unchanged) -> None:
    booked = app.parking.check_in(attendant, lot.id, "STUCK1")
    with unchanged(), pytest.raises(ValidationError, match="Give a reason for the force-release"):
        app.parking.force_release(attendant, booked.spot_id, "   ")


def test_force_release_of_an_occupied_spot_charges_and_records_the_reason(
    app: App, lot: LotView, attendant: Actor, clock: FixedClock
) -> None:
    booked = app.parking.check_in(attendant, lot.id, "STUCK1")
    clock.advance(hours=4)
    receipt = app.parking.force_release(attendant, booked.spot_id, " car towed ")
    assert receipt is not None and receipt.cost == Decimal("10.00")
    stored = reservation(app, booked.id)
    assert stored.status == "completed"
    assert stored.note == "Force-released by attendant1: car towed"
    assert statuses(app, lot.id)["P001"] == "A"
    [(who, data)] = activity(app, "force_released")
    assert who == attendant.user_id
    assert (data["reason"], data["spot"], data["cost"], data["vehicle"]) == (
        "car towed", "P001", "10.00", "STUCK1")


def test_force_release_of_a_reserved_spot_cancels_without_charge(
    app: App, lot: LotView, manager: Actor, driver: Actor
) -> None:
    booked = app.parking.reserve(driver, lot.id, "NOSHOW1")
    assert app.parking.force_release(manager, booked.spot_id, "no show") is None
    stored = reservation(app, booked.id)
    assert (stored.status, stored.cost) == ("cancelled", None)
    assert activity(app, "force_released")[0][1]["reason"] == "no show"
    assert statuses(app, lot.id)["P001"] == "A"


def test_force_release_of_a_free_spot_is_refused(app: App, lot: LotView, manager: Actor,
                                                 unchanged: Unchanged) -> None:
    with unchanged(), pytest.raises(ConflictError, match="Spot P002 is already free"):
        app.parking.force_release(manager, _spot_id(app, lot.id, "P002"), "why not")
    with unchanged(), pytest.raises(NotFoundError, match="no spot with id 9999"):
        app.parking.force_release(manager, 9999, "why not")


# --- roles -----------------------------------------------------------------------------------
def test_a_driver_cannot_touch_someone_elses_booking(
    app: App, lot: LotView, driver: Actor, make_user: MakeUser, unchanged: Unchanged
) -> None:
    other = make_user("driver2")
    booked = app.parking.reserve(other, lot.id, "THEIRS1")
    with unchanged():
        with pytest.raises(PermissionDeniedError, match="only book for your own account"):
            app.parking.reserve(driver, lot.id, "MINE1", user_id=other.user_id)
        with pytest.raises(PermissionDeniedError):
            app.parking.park(driver, booked.id)
        with pytest.raises(PermissionDeniedError):
            app.parking.cancel(driver, booked.id)
        with pytest.raises(PermissionDeniedError):
            app.parking.quote(driver, booked.id)
        with pytest.raises(PermissionDeniedError):
            app.parking.find_open_by_vehicle(driver, "THEIRS1")
        with pytest.raises(PermissionDeniedError):
            app.parking.open_reservation(driver, other.user_id)
    app.parking.park(other, booked.id)
    with unchanged(), pytest.raises(PermissionDeniedError):
        app.parking.release(driver, booked.id)


def test_attendant_only_actions_are_refused_to_drivers(
    app: App, lot: LotView, driver: Actor, attendant: Actor, unchanged: Unchanged
) -> None:
    booked = app.parking.check_in(attendant, lot.id, "WALK1")
    with unchanged():
        with pytest.raises(PermissionDeniedError, match="Only staff can check vehicles in"):
            app.parking.check_in(driver, lot.id, "MINE1")
        with pytest.raises(PermissionDeniedError, match="Only staff can"):
            app.parking.check_out(driver, "WALK1")
        with pytest.raises(PermissionDeniedError, match="Only staff can force-release"):
            app.parking.force_release(driver, booked.spot_id, "mine now")
        with pytest.raises(PermissionDeniedError, match="Only staff can see the spot map"):
            app.parking.spots(driver, lot.id)


def test_staff_book_for_walk_ins_and_drivers(app: App, lot: LotView, attendant: Actor,
                                             driver: Actor) -> None:
    walk_in = app.parking.reserve(attendant, lot.id, "WALK1")
    assert walk_in.user_id is None
    for_driver = app.parking.reserve(attendant, lot.id, "DRV1", user_id=driver.user_id)
    assert for_driver.user_id == driver.user_id
    # The driver sees and handles the booking made for them.
    mine = app.parking.open_reservation(driver)
    assert mine is not None and mine.id == for_driver.id
    app.parking.park(driver, for_driver.id)


# --- spot map and open booking ---------------------------------------------------------------
def test_spot_map_shows_who_is_where_and_the_fee_so_far(
    app: App, lot: LotView, attendant: Actor, driver: Actor, clock: FixedClock
) -> None:
    reserved = app.parking.reserve(driver, lot.id, "DRV1")
    parked = app.parking.check_in(attendant, lot.id, "WALK1")
    clock.advance(minutes=90)
    spots = app.parking.spots(attendant, lot.id)
    assert [(s.number, s.status) for s in spots] == [("P001", "R"), ("P002", "O"), ("P003", "A")]
    assert (spots[0].reservation_id, spots[0].driver, spots[0].fee_so_far) == (
        reserved.id, "driver1", None)
    assert (spots[1].reservation_id, spots[1].vehicle_number, spots[1].fee_so_far) == (
        parked.id, "WALK1", Decimal("3.75"))
    assert spots[1].since == clock.now() - timedelta(minutes=90)
    assert spots[2].reservation_id is None


def test_open_reservation(app: App, lot: LotView, driver: Actor, manager: Actor) -> None:
    assert app.parking.open_reservation(driver) is None
    booked = app.parking.reserve(driver, lot.id, "DRV1")
    assert app.parking.open_reservation(driver) == booked
    assert app.parking.open_reservation(manager, driver.user_id) == booked
    # A walk-in (no user) is nobody's open reservation, even asked for by the system.
    app.parking.check_in(manager, lot.id, "WALK1")
    from parking_desktop.domain.roles import SYSTEM

    assert app.parking.open_reservation(SYSTEM) is None


def test_booking_announces_the_changed_topics(app: App, lot: LotView, driver: Actor) -> None:
    heard: list[frozenset[str]] = []
    app.ctx.listeners.append(heard.append)
    app.parking.reserve(driver, lot.id, "DRV1")
    assert heard and {"spots", "reservations", "lots"} <= heard[0]
    heard.clear()
    with pytest.raises(ConflictError):
        app.parking.reserve(driver, lot.id, "DRV2")
    assert heard == []


def test_a_driver_role_actor_cannot_book_as_staff(app: App, lot: LotView,
                                                  make_user: MakeUser) -> None:
    """A driver booking for 'nobody' (user_id None) still books for themselves."""
    driver = make_user("driver3", Role.DRIVER)
    booked = app.parking.reserve(driver, lot.id, "DRV3", user_id=None)
    assert booked.user_id == driver.user_id


# --- helpers ---------------------------------------------------------------------------------
def _spot_id(app: App, lot_id: int, number: str) -> int:
    with app.db.read() as s:
        spot_id = s.scalar(select(ParkingSpot.id).where(ParkingSpot.lot_id == lot_id,
                                                        ParkingSpot.number == number))
    assert spot_id is not None
    return int(spot_id)


def _booking_activity(app: App) -> list[str]:
    """Activity types in order, without the set-up's account and lot creation."""
    with app.db.read() as s:
        return [t for t in s.scalars(select(UserActivity.activity_type)
                                     .order_by(UserActivity.id)).all()
                if t not in ("user_created", "lot_created")]


def test_a_failing_change_listener_does_not_turn_a_saved_booking_into_an_error(
    app: App, lot: LotView, driver: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[frozenset[str]] = []

    def broken(topics: frozenset[str]) -> None:
        raise RuntimeError("cache folder vanished")

    app.ctx.listeners.extend([broken, heard.append])
    booked = app.parking.reserve(driver, lot.id, "DRV1")  # no exception: it is committed
    assert app.parking.open_reservation(driver) == booked
    assert heard, "the other listeners are still told"
    assert "cache folder vanished" in caplog.text
