"""An attendant gets a reduced desktop: no People, no lot editing, only their own activity;
reaching a manager screen anyway shows a refusal in the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.desktop.activity import ActivityScreen
from parking_desktop.ui.desktop.mainwindow import KEY_ROLE
from parking_desktop.ui.desktop.screen import RefusedScreen
from parking_desktop.ui.desktop.screens import SCREENS
from tests.conftest import PASSWORD
from tests.ui.conftest import Desk, make_lot


def test_an_attendant_cannot_reach_manager_screens(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor) -> None:
    make_lot(app, manager)
    window = desk.window(attendant)
    keys = [window.nav.item(row).data(KEY_ROLE) for row in range(window.nav.count())]
    manager_only = [e.key for e in SCREENS if attendant.role not in e.roles]
    assert "people" in manager_only
    assert not set(keys) & set(manager_only)
    assert {"dashboard", "lots", "spots", "reservations", "activity"} <= set(keys)
    assert "attendant1 (Attendant)" in window.user_status.text()

    refused = window.navigate("people")
    assert isinstance(refused, RefusedScreen)
    assert window.current_screen is refused
    assert refused.banner.text == "People is not available to you: only a manager can open it."

    lots = window.navigate("lots")
    qtbot.waitUntil(lambda: lots.loads > 0)
    assert not lots.new_button.isVisible()
    assert not lots.edit_button.isVisible() and not lots.archive_button.isVisible()
    lots.select_lot(lots.model.row_at(0).id)
    qtbot.keyClick(lots.table, Qt.Key.Key_Return)  # Enter on a row edits only for a manager
    assert lots.dialog is None


def test_an_attendant_sees_only_their_own_activity(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor) -> None:
    app.users.authenticate("manager1", PASSWORD)
    app.users.authenticate("attendant1", PASSWORD)
    screen = desk.screen(attendant, "activity")
    assert isinstance(screen, ActivityScreen)
    qtbot.waitUntil(lambda: screen.model.rowCount() > 0)
    assert {row.username for row in screen.model.rows()} == {"attendant1"}
    assert not screen.person.isVisible()
    manager_view = desk.screen(manager, "activity")
    qtbot.waitUntil(lambda: manager_view.model.rowCount() > 0)
    assert {"manager1", "attendant1"} <= {row.username for row in manager_view.model.rows()}
