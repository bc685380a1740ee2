"""Kiosk: a driver stops (and restarts) their reminders and monthly reports themselves; the
choice is stored at once, and the page says receipts and requested history still come."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, sign_in, wait_idle

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def test_a_driver_stops_the_reminders_at_the_kiosk(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, driver: Actor
) -> None:
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    window.go("history")
    wait_idle(qtbot, window)
    history = window.screens["history"]
    window.resize(1024, 768)
    window.grab().save("/tmp/privacy-kiosk-history.png")
    qtbot.mouseClick(history.mail_button, Qt.MouseButton.LeftButton)
    page = window.screens["mail_prefs"]
    assert window.current is page
    reminders = page.choices["reminders"].button
    qtbot.waitUntil(lambda: reminders.text() == "Stop them")
    wait_idle(qtbot, window)
    assert "always sent" in " ".join(
        w.text() for w in page.findChildren(type(page.choices["reminders"].state))
    )
    qtbot.mouseClick(reminders, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reminders.text() == "Send them again")
    wait_idle(qtbot, window)
    assert "no more daily reminders" in page.banner.text
    prefs = app.mail_preferences.get(driver, driver.user_id or 0)
    assert (prefs.reminders, prefs.reports) == (False, True)
    window.resize(1024, 768)
    window.grab().save("/tmp/privacy-kiosk-mail.png")
    qtbot.mouseClick(reminders, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reminders.text() == "Stop them")
    assert app.mail_preferences.get(driver, driver.user_id or 0).reminders is True
