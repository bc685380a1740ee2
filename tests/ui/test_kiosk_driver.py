"""Kiosk, driver self-service: book the first free spot, "I have parked", release with the fee the
rule gives, cancel before parking, and a history that holds only the driver's own bookings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.ui.common.formatting import money
from parking_desktop.ui.kiosk.history import HistoryModel
from tests.conftest import MakeUser
from tests.ui.test_kiosk_support import (
    OpenKiosk,
    kiosk_windows,
    make_lot,
    sign_in,
    wait_idle,
)

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def test_book_park_release_with_the_fee_on_screen(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, driver: Actor,
    clock: FixedClock,
) -> None:
    make_lot(app, manager, name="Full Lot", spots=1)
    app.parking.check_in(manager, app.lots.find_by_name("Full Lot").id, "TAKEN1")
    lot = make_lot(app, manager, name="Station Square", price="2.40", spots=3)
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    page = window.screens["driver"]
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.book_page)
    wait_idle(qtbot, window)
    assert page.lots.selected().id == lot.id  # the full lot is skipped
    qtbot.keyClicks(page.vehicle, "dr-11 ab")
    qtbot.keyClick(page.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.booking_page)
    wait_idle(qtbot, window)
    assert page.spot.number.text() == "P001"
    assert "Spot P001 in Station Square is yours" in page.banner.text
    assert page.parked_button.isVisible() and not page.release_button.isVisible()
    booking = app.parking.open_reservation(driver)
    assert booking is not None and booking.status == "reserved"
    assert booking.vehicle_number == "DR11AB"

    clock.advance(minutes=5)
    qtbot.mouseClick(page.parked_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.release_button.isVisible())
    wait_idle(qtbot, window)
    assert not page.cancel_button.isVisible()
    assert app.parking.open_reservation(driver).status == "active"  # type: ignore[union-attr]

    clock.advance(minutes=135)  # 2 h 15 min parked
    expected = compute_fee(timedelta(minutes=135), Decimal("2.40"))
    assert expected.cost == Decimal("5.40")
    qtbot.mouseClick(page.release_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.release_page)
    wait_idle(qtbot, window)
    assert page.fee_text() == money(expected.cost)
    assert page.quote_card.grid.text("Duration") == "2 h 15 min"
    assert "pay €5.40" in page.release_question.text()
    qtbot.keyClick(page.release_yes, Qt.Key.Key_Return)
    receipt = window.screens["receipt"]
    qtbot.waitUntil(lambda: window.current is receipt)
    wait_idle(qtbot, window)
    assert receipt.total_text() == "€5.40"
    assert app.parking.open_reservation(driver) is None
    done = app.search.reservations(driver, ReservationFilter()).items[0]
    assert (done.status, done.cost) == ("completed", expected.cost)

    qtbot.mouseClick(receipt.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current is page
                    and page.pages.currentWidget() is page.book_page)
    assert page.vehicle.text() == "DR11AB"  # the last vehicle is suggested next time


def test_cancel_a_booking_not_yet_parked(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, driver: Actor,
) -> None:
    make_lot(app, manager)
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    page = window.screens["driver"]
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.book_page)
    wait_idle(qtbot, window)
    qtbot.keyClicks(page.vehicle, "CN42")
    qtbot.mouseClick(page.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.booking_page)
    wait_idle(qtbot, window)

    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert page.confirm_cancel.isVisible()
    qtbot.keyClick(page.cancel_no, Qt.Key.Key_Escape)  # Esc: keep the booking
    assert not page.confirm_cancel.isVisible()
    assert app.parking.open_reservation(driver) is not None

    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.cancel_yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.book_page)
    assert page.banner.text == "Your booking is cancelled. No charge."
    assert app.parking.open_reservation(driver) is None
    cancelled = app.search.reservations(driver, ReservationFilter()).items[0]
    assert cancelled.status == "cancelled" and cancelled.cost is None


def test_a_second_booking_is_refused_in_plain_words(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, driver: Actor,
) -> None:
    lot = make_lot(app, manager)
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    page = window.screens["driver"]
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.book_page)
    wait_idle(qtbot, window)
    # The same driver books at another kiosk in the meantime.
    app.parking.reserve(driver, lot.id, "ELSEWHERE1")
    qtbot.keyClicks(page.vehicle, "SECOND1")
    qtbot.keyClick(page.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(page.banner.text))
    assert page.banner.text == "driver1 already has an open booking; release or cancel it first."


def test_history_holds_only_the_drivers_own_bookings(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, driver: Actor,
    make_user: MakeUser, clock: FixedClock,
) -> None:
    lot = make_lot(app, manager, price="2.00")
    other = make_user("someone_else", Role.DRIVER, "else@example.com")
    for who, plate in ((driver, "MINE1"), (other, "THEIRS1"), (driver, "MINE2"),
                       (other, "THEIRS2"), (other, "THEIRS3")):
        booking = app.parking.reserve(who, lot.id, plate)
        app.parking.park(who, booking.id)
        clock.advance(minutes=90)
        app.parking.release(who, booking.id)

    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    window.go("history")
    page = window.screens["history"]
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and page.summary is not None)
    plates = {page.model.row_at(i).vehicle_number for i in range(page.model.rowCount())}
    assert plates == {"MINE1", "MINE2"}
    assert {page.model.row_at(i).username for i in range(2)} == {"driver1"}
    assert page.bookings.value.text() == "2"
    assert page.spent.value.text() == "€6.00"  # 2 bookings of 1.5 h at 2.00
    assert page.hours.value.text() == "3.00 h"
    assert page.favourite.value.text() == "City Centre"
    qtbot.keyClick(page.table, Qt.Key.Key_Escape)
    assert window.current.name == "driver"


def test_history_model_is_a_sound_table_model(
    app: App, qtbot: QtBot, qtmodeltester: ModelTester, manager: Actor, driver: Actor,
) -> None:
    lot = make_lot(app, manager)
    booking = app.parking.reserve(driver, lot.id, "MODEL1")
    app.parking.park(driver, booking.id)
    model = HistoryModel(app.settings.tz)
    model.set_rows(app.search.reservations(driver, ReservationFilter()).items)
    qtmodeltester.check(model)
    assert model.data(model.index(0, HistoryModel.STAY)) == "parked now"
    assert model.data(model.index(0, HistoryModel.COST)) == "—"
    assert model.data(model.index(0, HistoryModel.WHEN)) == "2026-03-02 10:00"
