"""Kiosk, attendant side: check-in shows the spot, check-out shows the fee the fee rule gives and a
receipt, find a vehicle, and refusals in plain words — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.ui.common.formatting import money
from tests.ui.test_kiosk_support import (
    OpenKiosk,
    ThreadRecorder,
    kiosk_windows,
    make_lot,
    sign_in,
    wait_idle,
)

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def test_check_in_then_check_out_shows_the_rule_fee_and_a_receipt(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
    clock: FixedClock,
) -> None:
    lot = make_lot(app, manager, price="1.17")
    app.money.open_shift(attendant, Decimal("0"))  # payments belong to a shift
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    assert window.current.name == "staff"

    qtbot.mouseClick(window.screens["staff"].check_in_button, Qt.MouseButton.LeftButton)
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: checkin.lots.selected() is not None)
    assert checkin.lots.selected().id == lot.id
    qtbot.keyClicks(checkin.vehicle, "ab-12 cd")
    assert checkin.vehicle.text() == "AB12CD"  # normalised as typed
    qtbot.keyClick(checkin.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: checkin.result is not None)
    wait_idle(qtbot, window)
    assert checkin.pages.currentWidget() is checkin.result_page
    assert checkin.spot.number.text() == "P001"
    assert checkin.spot.lot.text() == "City Centre"

    clock.advance(seconds=7000)  # 1 h 56 min 40 s: a half-cent case of the rule
    expected = compute_fee(timedelta(seconds=7000), Decimal("1.17"))
    assert expected.cost == Decimal("2.28")

    window.go("checkout")
    checkout = window.screens["checkout"]
    qtbot.keyClicks(checkout.vehicle, "AB 12 CD")
    qtbot.keyClick(checkout.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: checkout.pages.currentWidget() is checkout.confirm_page)
    wait_idle(qtbot, window)
    grid = checkout.quote_card.grid
    assert checkout.fee_text() == money(expected.cost) == "€2.28"
    assert grid.text("Duration") == "1 h 56 min"
    # Why the fee is what it is, line by line, visible before confirming.
    lines = checkout.quote_card.lines
    assert lines.isVisible()
    assert lines.rows == [("Mon 10:00–11:56, standard rate, 1.9444 h at 1.17/h", "€2.28")]
    assert grid.text("Parked at") == "Mon 2 Mar 2026, 10:00"  # 09:00 UTC shown in Paris time

    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    receipt = window.screens["receipt"]
    qtbot.waitUntil(lambda: window.current is receipt)
    wait_idle(qtbot, window)
    assert receipt.total_text() == "€2.28"
    assert receipt.total.text() == "€2.28"
    assert receipt.lines.isVisible() and receipt.lines.rows == lines.rows  # the same lines
    assert receipt.grid.text("Vehicle") == "AB12CD"
    assert receipt.grid.text("Left") == "Mon 2 Mar 2026, 11:56"
    stored = app.search.reservations(attendant, ReservationFilter(vehicle="AB12CD")).items[0]
    assert stored.status == "completed"
    assert stored.cost == expected.cost

    qtbot.keyClick(receipt.done_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current.name == "staff")


def test_check_in_for_a_driver_account_and_find_the_vehicle(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
    driver: Actor, clock: FixedClock,
) -> None:
    make_lot(app, manager, price="3.00")
    app.money.open_shift(attendant, Decimal("0"))  # payments belong to a shift
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("checkin")
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: checkin.lots.selected() is not None)
    qtbot.keyClicks(checkin.vehicle, "GH789")
    qtbot.keyClicks(checkin.driver, "driver1")
    qtbot.keyClick(checkin.driver, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: checkin.result is not None)
    assert checkin.result.username == "driver1"
    assert "driver driver1" in checkin.spot.detail.text()
    assert app.parking.open_reservation(driver) is not None

    clock.advance(minutes=30)
    window.go("find")
    find = window.screens["find"]
    qtbot.keyClicks(find.vehicle, "gh-789")
    qtbot.keyClick(find.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: find.found is not None)
    wait_idle(qtbot, window)
    assert find.spot.number.text() == "P001"
    assert find.details.text("Driver") == "driver1"
    assert find.details.text("Status") == "Parked"
    # Half an hour is billed as the one-hour minimum.
    assert find.details.text("Fee so far") == money(compute_fee(timedelta(minutes=30),
                                                                Decimal("3.00")).cost) == "€3.00"
    qtbot.mouseClick(find.check_out_button, Qt.MouseButton.LeftButton)
    checkout = window.screens["checkout"]
    qtbot.waitUntil(lambda: checkout.pages.currentWidget() is checkout.confirm_page)
    assert checkout.fee_text() == "€3.00"


def test_refusals_are_shown_in_the_window(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    make_lot(app, manager, spots=1)
    app.money.open_shift(attendant, Decimal("0"))  # payments belong to a shift
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")

    window.go("checkout")
    checkout = window.screens["checkout"]
    qtbot.keyClicks(checkout.vehicle, "ZZ999")
    qtbot.keyClick(checkout.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(checkout.banner.text))
    assert checkout.banner.text == "Vehicle ZZ999 is not checked in anywhere."
    assert checkout.pages.currentWidget() is checkout.form_page
    assert checkout.vehicle.isEnabled()

    checkout.vehicle.clear()
    qtbot.keyClicks(checkout.vehicle, "A")
    qtbot.keyClick(checkout.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "not valid" in checkout.banner.text)
    assert "2 to 15 letters or digits" in checkout.banner.text

    window.go("checkin")
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: checkin.lots.selected() is not None)
    qtbot.keyClicks(checkin.vehicle, "CAR1")
    qtbot.keyClicks(checkin.driver, "nobody_here")
    qtbot.keyClick(checkin.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(checkin.banner.text))
    assert checkin.banner.text == "There is no user 'nobody_here'."
    assert checkin.result is None

    # Meanwhile another kiosk takes the only spot: the service's refusal names the lot.
    app.parking.check_in(attendant, checkin.lots.selected().id, "OTHER1")
    checkin.driver.clear()
    qtbot.keyClick(checkin.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "full" in checkin.banner.text)
    assert checkin.banner.text == "Lot 'City Centre' is full: no spot is available."
    assert checkin.result is None
    # Coming back to the form, the full lot can no longer be chosen.
    window.go("staff")
    window.go("checkin")
    qtbot.waitUntil(lambda: "Every lot is full" in checkin.banner.text)
    assert checkin.lots.selected() is None
    assert not checkin.lots.buttons()[0].isEnabled()


def test_service_calls_never_run_on_the_gui_thread(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("0"))  # payments belong to a shift
    calls: list[tuple[str, str]] = []
    for name in ("users", "lots", "parking", "search", "stats", "money"):
        setattr(app, name, ThreadRecorder(getattr(app, name), calls))
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("checkin")
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: checkin.lots.selected() is not None)
    qtbot.keyClicks(checkin.vehicle, "TH123")
    qtbot.keyClick(checkin.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: checkin.result is not None)
    window.go("checkout", vehicle="TH123")
    checkout = window.screens["checkout"]
    qtbot.waitUntil(lambda: checkout.pages.currentWidget() is checkout.confirm_page)
    wait_idle(qtbot, window)
    names = {name for name, _thread in calls}
    assert {"authenticate", "search", "check_in", "quote_vehicle"} <= names
    assert all(thread != "MainThread" for _name, thread in calls), calls
