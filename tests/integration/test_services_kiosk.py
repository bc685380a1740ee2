"""The kiosk's look-ups as single service calls: what was typed goes in, everything the page
shows comes out (the booking, the fee so far, the choices, the lots to book) — on SQLite and
PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.mail.outbox import OutgoingMail
from parking_desktop.services.views import LotView
from tests.mail_support import SmtpServer


@pytest.fixture
def lot(app: App, manager: Actor) -> LotView:
    return app.lots.create(manager, name="City Center", address="1 Main St", pin_code="75001",
                           price_per_hour="2.50", number_of_spots=4)


# --- find a vehicle --------------------------------------------------------------------------
def test_part_of_a_plate_finds_the_one_parked_car_with_its_fee_so_far(
    app: App, lot: LotView, attendant: Actor, clock: FixedClock,
) -> None:
    app.parking.check_in(attendant, lot.id, "AB-123-CD")
    clock.advance(hours=2, minutes=10)
    matches = app.kiosk.find(attendant, "123")
    assert matches.choices == []
    assert matches.found is not None
    assert matches.found.booking.vehicle_number == "AB123CD"
    assert matches.found.booking.status == BookingStatus.ACTIVE
    quote = matches.found.quote
    assert quote is not None
    assert quote.cost == Decimal("5.42")  # 2 h 10 min at 2.50 an hour


def test_a_booked_car_is_found_without_a_fee(
    app: App, lot: LotView, attendant: Actor, driver: Actor,
) -> None:
    app.parking.reserve(driver, lot.id, "ZZ-9")
    matches = app.kiosk.find(attendant, "zz9")
    assert matches.found is not None
    assert matches.found.booking.status == BookingStatus.RESERVED
    assert matches.found.quote is None


def test_several_matches_are_offered_but_an_exact_plate_wins(
    app: App, lot: LotView, attendant: Actor,
) -> None:
    for plate in ("XY12", "XY123", "QXY19"):
        app.parking.check_in(attendant, lot.id, plate)
    several = app.kiosk.find(attendant, "XY1")
    assert several.found is None
    assert [b.vehicle_number for b in several.choices] == ["QXY19", "XY12", "XY123"]
    exact = app.kiosk.find(attendant, "xy-12")
    assert exact.found is not None and exact.found.booking.vehicle_number == "XY12"
    assert exact.choices == []
    chosen = app.kiosk.find_vehicle(attendant, "QXY19")
    assert chosen.booking.vehicle_number == "QXY19" and chosen.quote is not None


def test_nothing_found_names_the_plate_and_bad_input_is_refused(
    app: App, lot: LotView, attendant: Actor, driver: Actor,
) -> None:
    app.parking.check_in(attendant, lot.id, "AB123")
    with pytest.raises(NotFoundError, match="No vehicle checked in has CD9 in its number"):
        app.kiosk.find(attendant, "cd 9")
    with pytest.raises(ValidationError):
        app.kiosk.find(attendant, "!!")
    with pytest.raises(PermissionDeniedError):
        app.kiosk.find(driver, "AB")  # looking cars up is for staff


# --- the driver's page -----------------------------------------------------------------------
def test_a_driver_without_a_booking_gets_the_lots_and_their_last_vehicle(
    app: App, lot: LotView, driver: Actor, clock: FixedClock,
) -> None:
    first = app.kiosk.driver_state(driver)
    assert first.booking is None and first.quote is None
    assert [x.name for x in first.lots] == ["City Center"]
    assert first.last_vehicle == ""
    booking = app.parking.reserve(driver, lot.id, "dr-42")
    app.parking.cancel(driver, booking.id)
    later = app.kiosk.driver_state(driver)
    assert later.booking is None
    assert later.last_vehicle == "DR42"
    assert later.lots[0].free == 4


def test_a_driver_sees_their_booking_and_once_parked_the_fee_so_far(
    app: App, lot: LotView, driver: Actor, clock: FixedClock,
) -> None:
    booking = app.parking.reserve(driver, lot.id, "DR42")
    reserved = app.kiosk.driver_state(driver)
    assert reserved.booking is not None and reserved.booking.id == booking.id
    assert reserved.quote is None and reserved.lots == []
    app.parking.park(driver, booking.id)
    clock.advance(minutes=90)
    parked = app.kiosk.driver_state(driver)
    assert parked.booking is not None and parked.booking.status == BookingStatus.ACTIVE
    assert parked.quote is not None and parked.quote.cost == Decimal("3.75")  # 1.5 h


# --- "E-mail me my history" ------------------------------------------------------------------
def test_a_history_request_says_whether_mail_is_delayed(
    mail_app: App, smtp_server: SmtpServer, driver: Actor,
) -> None:
    app = mail_app
    flowing = app.exports.email_my_history(driver)
    assert not flowing.mail_delayed
    assert app.exports.wait(flowing.job_id, timeout=30)
    app.email.outbox.enqueue(OutgoingMail(
        recipient="someone@example.com", subject="Earlier", text="Hi", html=None, kind="test",
        idempotency_key="earlier:1"))
    smtp_server.stop()
    assert app.email.outbox.flush().retrying >= 1  # the server refused: mail waits
    delayed = app.exports.email_my_history(driver)
    assert delayed.mail_delayed
    assert delayed.job_id != flowing.job_id
    assert app.exports.wait(delayed.job_id, timeout=30)
