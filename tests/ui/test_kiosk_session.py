"""Kiosk sessions: the right door for each role, idle sign-out, the manager-password lock on
quitting and leaving full screen, the home page following other kiosks, keyboard and
accessibility."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QLineEdit
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App, build_app
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.ui.kiosk.exit import MAX_TRIES, TOO_MANY, WRONG
from parking_desktop.ui.kiosk.signin import WRONG_DOOR
from tests.conftest import PASSWORD, MakeUser
from tests.ui.test_kiosk_support import (
    LONG,
    OpenKiosk,
    focused,
    kiosk_windows,
    make_lot,
    sign_in,
)

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def test_staff_door_refuses_a_driver_and_driver_door_refuses_staff(
    qtbot: QtBot, open_kiosk: OpenKiosk, attendant: Actor, driver: Actor, manager: Actor,
) -> None:
    window = open_kiosk()
    page = window.screens["signin"]

    sign_in(qtbot, window, "staff", "driver1")
    assert window.current is page and not window.signed_in
    assert page.banner.text == WRONG_DOOR["staff"]
    assert "driver account" in page.banner.text
    assert page.password.text() == ""  # cleared for the next try

    sign_in(qtbot, window, "driver", "attendant1")
    assert window.current is page and not window.signed_in
    assert page.banner.text == WRONG_DOOR["driver"]

    sign_in(qtbot, window, "driver", "manager1")
    assert not window.signed_in

    sign_in(qtbot, window, "staff", "driver1", password="wrong-password")
    assert page.banner.text == "Wrong username or password."

    sign_in(qtbot, window, "driver", "driver1@example.com")  # e-mail works as the login
    assert window.signed_in and window.current.name == "driver"
    window.sign_out()
    sign_in(qtbot, window, "staff", "manager1")
    assert window.signed_in and window.current.name == "staff"


def test_staff_pages_are_unreachable_without_a_staff_sign_in(
    qtbot: QtBot, open_kiosk: OpenKiosk, driver: Actor,
) -> None:
    window = open_kiosk()
    window.go("checkout")
    assert window.current is window.home
    sign_in(qtbot, window, "driver", "driver1")
    window.go("checkin")
    assert window.current is window.home


def test_idle_timeout_signs_out_and_returns_home(
    qtbot: QtBot, open_kiosk: OpenKiosk, attendant: Actor,
) -> None:
    window = open_kiosk(idle_ms=400)
    countdown = window.idle._timer
    countdown.setInterval(LONG)  # however slowly the sign-in runs, it is not cut short
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("checkout")
    window.screens["checkout"].vehicle.setText("AB123")
    assert window.signed_in
    countdown.setInterval(400)
    countdown.start()  # from here on nobody touches the kiosk
    qtbot.waitUntil(lambda: not window.signed_in, timeout=10_000)
    assert window.current is window.home
    assert window.home.banner.text == "Signed out after 1 second without activity."
    assert window.user is None
    assert window.screens["checkout"].vehicle.text() == ""  # nothing left for the next person


def test_any_key_or_click_restarts_the_idle_countdown(
    qtbot: QtBot, open_kiosk: OpenKiosk,
) -> None:
    window = open_kiosk(idle_ms=60_000)
    timer = window.idle._timer
    timer.stop()
    qtbot.keyClick(window.home.driver_button, Qt.Key.Key_Tab)
    assert timer.isActive()
    timer.stop()
    qtbot.mousePress(window.home.updated_label, Qt.MouseButton.LeftButton)
    assert timer.isActive()


def test_quitting_needs_a_manager_password(
    qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor,
) -> None:
    window = open_kiosk()
    assert not window.close()  # refused: the exit page opens instead
    assert window.isVisible()
    page = window.screens["exit"]
    assert window.current is page

    qtbot.keyClicks(page.password, "not-the-password")
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(page.banner.text))
    assert page.banner.text == WRONG
    assert not page.unlocked
    assert not window.close()
    assert window.isVisible()

    qtbot.keyClicks(page.password, PASSWORD)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.unlocked)
    with qtbot.waitSignal(window.quit_requested):
        qtbot.mouseClick(page.quit_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible()


def test_a_driver_password_does_not_unlock(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, make_user: MakeUser,
) -> None:
    other = make_user("driver_pw", Role.DRIVER)
    app.users.reset_password(other, other.user_id, "drivers-own-secret")
    window = open_kiosk()
    window.request_exit()
    page = window.screens["exit"]
    qtbot.keyClicks(page.password, "drivers-own-secret")
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(page.banner.text))
    assert page.banner.text == WRONG
    assert not page.unlocked
    qtbot.keyClick(page.password, Qt.Key.Key_Escape)
    assert window.current is window.home


def test_leaving_full_screen_needs_a_manager_password(
    qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor,
) -> None:
    window = open_kiosk()
    window.showFullScreen()
    qtbot.waitUntil(window.isFullScreen)
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(focused(), Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.AltModifier)
    page = window.screens["exit"]
    assert window.current is page
    assert not page.fullscreen_button.isVisible()  # nothing to press before the password
    qtbot.keyClicks(page.password, PASSWORD)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.unlocked)
    assert page.fullscreen_button.text() == "Leave full screen"
    qtbot.mouseClick(page.fullscreen_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert window.current is window.home
    assert window.isVisible()
    # The unlock does not outlive the page: closing is refused again.
    assert not page.unlocked
    assert not window.close()


def test_home_shows_changes_made_on_another_kiosk(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    lot = make_lot(app, manager, spots=5)
    window = open_kiosk(refresh_ms=100)
    qtbot.waitUntil(lambda: lot.id in window.home.tiles)
    tile = window.home.tiles[lot.id]
    assert tile.free.text() == "5"
    # Another kiosk is another process: its own App on the same database, no shared signals.
    other = build_app(app.settings, upgrade=False)
    try:
        other.parking.check_in(attendant, lot.id, "FROMELSEWHERE")
    finally:
        other.close()
    qtbot.waitUntil(lambda: window.home.tiles[lot.id].free.text() == "4", timeout=10_000)
    assert "1 parked" in window.home.tiles[lot.id].detail.text()


def test_keyboard_alone_reaches_check_in(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    make_lot(app, manager)
    window = open_kiosk()
    qtbot.waitUntil(window.isActiveWindow)
    assert focused() is window.home.driver_button
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is window.home.staff_button
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current.name == "signin")
    page = window.screens["signin"]
    assert focused() is page.login
    qtbot.keyClicks(focused(), "attendant1")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # Enter moves on to the password
    assert focused() is page.password
    qtbot.keyClicks(focused(), PASSWORD)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current.name == "staff")
    menu = window.screens["staff"]
    qtbot.waitUntil(lambda: focused() is menu.check_in_button)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: window.current is checkin and checkin.lots.selected() is not None)
    assert focused() is checkin.vehicle
    qtbot.keyClicks(focused(), "KB 001")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: checkin.result is not None)
    qtbot.waitUntil(lambda: focused() is checkin.next_button)
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)  # back to a fresh form
    assert checkin.pages.currentWidget() is checkin.form_page
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)  # back to the menu
    assert window.current is menu
    qtbot.waitUntil(lambda: focused() is menu.check_in_button)
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)  # Esc on the menu signs out
    assert not window.signed_in and window.current is window.home


def test_every_control_has_an_accessible_name(
    qtbot: QtBot, open_kiosk: OpenKiosk,
) -> None:
    window = open_kiosk()
    controls = [
        *window.findChildren(QAbstractButton),
        *window.findChildren(QLineEdit),
        *window.findChildren(QAbstractItemView),
    ]
    assert len(controls) > 30
    unnamed = [f"{type(c).__name__} {c.objectName()!r} {getattr(c, 'text', lambda: '')()!r}"
               for c in controls if not c.accessibleName().strip()]
    assert unnamed == []


# Runs in a child process: once QApplication.exec() has returned, Qt refuses new worker
# threads for the rest of the process, which would break every later test here.
RUN_KIOSK = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from parking_desktop.bootstrap import build_app
from parking_desktop.config import load_settings
from parking_desktop.ui.common.qtapp import ensure_qapplication
from parking_desktop.ui.kiosk.exit import ExitScreen
from parking_desktop.ui.kiosk.window import KioskWindow, run_kiosk_window

data_dir, url, password = sys.argv[1:4]
app = build_app(load_settings(data_dir=Path(data_dir), database_url=url, environ={},
                              dotenv_path=Path(data_dir) / "no.env"), upgrade=False)
qapp = ensure_qapplication()
seen = []

def drive():
    window = next(w for w in qapp.topLevelWidgets() if isinstance(w, KioskWindow))
    seen.append("full screen" if window.isFullScreen() else "windowed")
    window.close()  # refused: the exit page opens
    seen.append("still open" if window.isVisible() else "closed")
    page = window.page(ExitScreen)
    page.password.setText(password)
    page.unlock()
    poll = QTimer(window)
    poll.timeout.connect(lambda: page.unlocked and page.quit_button.click())
    poll.start(20)

QTimer.singleShot(0, drive)
QTimer.singleShot(60_000, lambda: (seen.append("gave up"), qapp.quit()))
code = run_kiosk_window(app, fullscreen=True)
print(code, *seen)
"""


def test_run_kiosk_window_goes_full_screen_and_returns_when_a_manager_quits(
    app: App, manager: Actor, tmp_path: Path,
) -> None:
    """What ``python main.py kiosk`` runs once ui.launch has the QApplication and the App."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", RUN_KIOSK, str(tmp_path / "child"), app.settings.database_url,
         PASSWORD],
        capture_output=True, text=True, timeout=120, env=env, cwd=Path(__file__).parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "full", "screen", "still", "open"]
    assert "Traceback" not in done.stderr


def test_text_grows_on_a_1080_line_screen(qtbot: QtBot, open_kiosk: OpenKiosk) -> None:
    window = open_kiosk()
    small = window.home.driver_button.font().pixelSize()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.scale > 1)
    qtbot.waitUntil(lambda: window.home.driver_button.font().pixelSize() > small)
    assert window.home.driver_button.font().pixelSize() == round(small * window.scale)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.home.driver_button.font().pixelSize() == small)


def test_guessing_the_manager_password_pauses_the_exit_page(
    qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor,
) -> None:
    window = open_kiosk()
    window.request_exit()
    page = window.screens["exit"]
    page.pause.setInterval(60_000)
    for attempt in range(1, MAX_TRIES + 1):
        qtbot.keyClicks(page.password, f"guess-{attempt}")
        qtbot.keyClick(page.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda n=attempt: page.failures == n and not page.busy)  # type: ignore[misc]
    assert page.banner.text == TOO_MANY
    # Even the right password is not checked during the pause.
    qtbot.keyClicks(page.password, PASSWORD)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    assert not page.busy and not page.unlocked
    assert page.banner.text == TOO_MANY
    page.pause.stop()
    page.pause.timeout.emit()  # the pause ends
    qtbot.keyClicks(page.password, PASSWORD)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.unlocked)
    assert page.failures == 0


def test_lots_are_chosen_with_the_arrow_keys_and_tab_moves_on(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    for name in ("A Lot", "B Lot", "C Lot"):
        make_lot(app, manager, name=name)
    window = open_kiosk()
    qtbot.waitUntil(window.isActiveWindow)
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("checkin")
    page = window.screens["checkin"]
    qtbot.waitUntil(lambda: page.lots.selected() is not None)
    assert page.lots.selected().name == "A Lot"
    qtbot.keyClick(page.vehicle, Qt.Key.Key_Backtab)
    assert focused() is page.lots.buttons()[-1]
    page.lots.focus_target().setFocus()
    qtbot.keyClick(focused(), Qt.Key.Key_Right)
    assert page.lots.selected().name == "B Lot"
    assert focused() is page.lots.buttons()[1]
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)  # out of the group, like radio buttons
    assert focused() is page.vehicle
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is page.driver
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is page.submit_button
