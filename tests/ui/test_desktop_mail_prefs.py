"""A manager turns a driver's reminders or reports off on the driver's page (stored at once,
saying how and when it last changed); the Mail screen takes pasted unsubscribe requests and
warns while MAIL_UNSUBSCRIBE_ADDRESS is not set."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.ui.conftest import Desk


def test_a_manager_turns_a_drivers_reports_off(
    app: App, qtbot: QtBot, desk: Desk, manager: Actor, driver: Actor
) -> None:
    app.mail_preferences.set(driver, driver.user_id or 0, reminders=False, source="kiosk")
    window = desk.window(manager, size=(1024, 768))
    screen = window.navigate("people")
    qtbot.waitUntil(lambda: screen.loads > 0)
    qtbot.waitUntil(lambda: screen.select_username("driver1"))
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    page = screen.person_page
    qtbot.waitUntil(lambda: page.reports_box.isEnabled())
    assert not page.reminders_box.isChecked() and page.reports_box.isChecked()
    assert "at the kiosk" in page.mail_note.text()
    qtbot.mouseClick(page.reports_box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "here" in page.mail_note.text())
    prefs = app.mail_preferences.get(manager, driver.user_id or 0)
    assert (prefs.reminders, prefs.reports) == (False, False)
    desk.wait_idle(screen)
    window.grab().save("/tmp/privacy-person-1024.png")
    window.resize(1920, 1080)
    qtbot.wait(50)
    window.grab().save("/tmp/privacy-person-1920.png")


def test_pasted_unsubscribe_requests_turn_the_mails_off(
    app: App, qtbot: QtBot, desk: Desk, manager: Actor, driver: Actor
) -> None:
    window = desk.window(manager, size=(1024, 768))
    screen = window.navigate("mail")
    qtbot.waitUntil(lambda: screen.loads > 0)
    assert screen.unsubscribe_note.objectName() == "fieldError"  # no address set: warned
    assert "MAIL_UNSUBSCRIBE_ADDRESS is not set" in screen.unsubscribe_note.text()
    qtbot.mouseClick(screen.apply_button, Qt.MouseButton.LeftButton)
    assert screen.unsubscribe_result.text() == "Paste the requests first."
    screen.requests.setPlainText(
        "From: Driver One <DRIVER1@example.com>\nSubject: unsubscribe\n\n"
        "mailto:nobody@example.net?subject=unsubscribe\n"
    )
    qtbot.mouseClick(screen.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "unsubscribed" in screen.unsubscribe_result.text())
    assert screen.unsubscribe_result.text().startswith("1 driver unsubscribed")
    assert "nobody@example.net" in screen.unsubscribe_result.text()
    prefs = app.mail_preferences.get(manager, driver.user_id or 0)
    assert (prefs.reminders, prefs.reports, prefs.source) == (False, False, "request")
    window.grab().save("/tmp/privacy-mail-1024.png")
