"""A manager turns a driver's reminders or reports off on the driver's page (stored at once,
saying how and when it last changed); the Mail screen takes pasted unsubscribe requests and
warns while MAIL_UNSUBSCRIBE_ADDRESS is not set."""

from __future__ import annotations

import zipfile
from pathlib import Path

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


def test_a_drivers_data_bundle_from_the_exports_screen(
    app: App, qtbot: QtBot, desk: Desk, manager: Actor, driver: Actor, tmp_path: Path
) -> None:
    from parking_desktop.ui.desktop.export_table import ExportsModel
    from parking_desktop.ui.desktop.exports_screen import ExportsScreen
    from tests.ui.conftest import wait_for

    screen = desk.open(ExportsScreen, manager)
    asked: list[str] = []

    def choose(_parent: object, suggested: str) -> str:
        asked.append(suggested)
        return str(tmp_path / "driver1-data")  # no suffix typed: the bundle's is added

    screen.choose_save_path = choose  # type: ignore[method-assign]
    screen.scope.setCurrentIndex(screen.scope.findData("data"))
    assert screen.driver.isVisibleTo(screen)
    screen.driver.setText("driver1")
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(
        qtbot,
        lambda: (
            screen.model.rowCount() == 1
            and screen.model.index(0, ExportsModel.STATUS).data() == "Ready"
        ),
    )
    screen.table.selectRow(0)
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: screen.last_saved is not None)
    assert asked[0].endswith("personal-data-of-driver1.zip")
    with zipfile.ZipFile(tmp_path / "driver1-data.zip") as bundle:
        assert "data.json" in bundle.namelist()
