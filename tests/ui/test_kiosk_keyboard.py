"""The kiosk's on-screen keyboard: a plate layout under the vehicle field, a full layout (with
Shift) under username and password fields; its keys type into the focused field as real key
events (Enter submits), the password is shown nowhere else, and KIOSK_ON_SCREEN_KEYBOARD=false
turns it off — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.kiosk.keyboard import BACKSPACE, ENTER, FULL, HIDE, PLATE, SHIFT
from tests.conftest import PASSWORD
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, make_lot, sign_in, wait_idle

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def test_plate_keys_type_into_the_vehicle_field_and_enter_checks_in(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    make_lot(app, manager)
    window = open_kiosk()
    keyboard = window.keyboard
    assert not keyboard.isVisible()  # home: no field, no keyboard
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("checkin")
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: checkin.lots.selected() is not None)
    checkin.vehicle.setFocus()
    qtbot.waitUntil(lambda: keyboard.isVisible())
    assert keyboard.layout_name == PLATE and keyboard.target is checkin.vehicle
    assert "Q" in keyboard.keys and "q" not in keyboard.keys and SHIFT not in keyboard.keys
    for key in ("K", "V", "5", "4", "8", "X", BACKSPACE, "D", "Q"):
        keyboard.press(key)
    assert checkin.vehicle.text() == "KV548DQ"
    assert checkin.vehicle.hasFocus()  # the keys never take the focus
    qtbot.waitUntil(lambda: keyboard.keys["K"].height() >= 52)  # a fingertip

    keyboard.press(ENTER)
    qtbot.waitUntil(lambda: checkin.result is not None)
    assert checkin.result is not None and checkin.result.vehicle_number == "KV548DQ"
    wait_idle(qtbot, window)
    assert not keyboard.isVisible()  # the result page has no field

    window.go("checkin")
    checkin.driver.setFocus()  # a username: the full layout
    qtbot.waitUntil(lambda: keyboard.layout_name == FULL and keyboard.isVisible())
    keyboard.press(HIDE)
    assert not keyboard.isVisible()
    qtbot.mouseClick(checkin.driver, Qt.MouseButton.LeftButton)  # a tap brings it back
    assert keyboard.isVisible()


def test_full_layout_with_shift_signs_in_and_the_password_shows_nowhere(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, driver: Actor,
) -> None:
    window = open_kiosk()
    keyboard = window.keyboard
    window.go("signin", mode="driver")
    page = window.screens["signin"]
    qtbot.waitUntil(lambda: keyboard.isVisible() and keyboard.target is page.login)
    assert keyboard.layout_name == FULL
    keyboard.press(SHIFT)
    assert keyboard.keys["d"].text() == "D"
    keyboard.press("D")
    assert keyboard.keys["r"].text() == "r"  # Shift is for one character
    for char in "river1":
        keyboard.press(char)
    assert page.login.text() == "Driver1"
    page.login.clear()
    for char in "driver1":
        keyboard.press(char)
    keyboard.press(ENTER)  # Enter in the login field moves to the password
    qtbot.waitUntil(lambda: keyboard.target is page.password)

    for char in PASSWORD:
        if char.isupper() or not (char.isalnum() or char in ".-_@"):
            keyboard.press(SHIFT)
            keyboard.press(char.upper() if char.isalpha() else char)
        else:
            keyboard.press(char)
    assert page.password.text() == PASSWORD
    shown = [w.text() for w in window.findChildren(QLabel) + window.findChildren(QPushButton)]
    assert not any(PASSWORD in text for text in shown)
    assert page.password.displayText() != PASSWORD
    keyboard.press(ENTER)
    qtbot.waitUntil(lambda: window.current.name == "driver")


def test_the_setting_turns_the_keyboard_off(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk,
) -> None:
    app.settings = replace(app.settings, kiosk_on_screen_keyboard=False)
    window = open_kiosk()
    window.go("signin", mode="staff")
    page = window.screens["signin"]
    qtbot.waitUntil(lambda: page.login.hasFocus())
    assert not window.keyboard.isVisible() and window.keyboard.target is None


def test_the_field_stays_in_view_above_the_keyboard_at_1024x768(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    for n in range(6):
        make_lot(app, manager, name=f"Lot {n}")
    window = open_kiosk()
    window.resize(1024, 768)
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("checkin")
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: checkin.lots.selected() is not None)
    checkin.vehicle.setFocus()
    qtbot.waitUntil(lambda: window.keyboard.isVisible())
    viewport = checkin.page_scroll.viewport()

    def in_view() -> bool:
        top = checkin.vehicle.mapTo(viewport, checkin.vehicle.rect().topLeft())
        return viewport.rect().contains(QRect(top, checkin.vehicle.size()))

    # The page scrolls (it is not squeezed) so that the field is above the keys.
    qtbot.waitUntil(in_view)
    assert checkin.vehicle.fontMetrics().height() <= checkin.vehicle.contentsRect().height()
