"""People screen: create, edit, deactivate, reset password; a driver's page."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.desktop.people import PeopleScreen
from parking_desktop.ui.desktop.people_dialogs import PersonDialog, ResetPasswordDialog
from tests.ui.conftest import Desk, make_lot


def _type(qtbot: QtBot, editor, text: str) -> None:  # type: ignore[no-untyped-def]
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)


def _usernames(screen: PeopleScreen) -> list[str]:
    return [u.username for u in screen.model.rows()]


def test_create_edit_deactivate_and_reset_password(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    screen = desk.screen(manager, "people")
    qtbot.waitUntil(lambda: _usernames(screen) == ["manager1"])
    screen.create_person()
    dialog = screen.dialog
    assert isinstance(dialog, PersonDialog)
    _type(qtbot, dialog.username.editor, "new driver")  # a space: refused as typed
    assert not dialog.ok_button.isEnabled()
    _type(qtbot, dialog.username.editor, "new_driver")
    _type(qtbot, dialog.email.editor, "New.Driver@Example.com")
    _type(qtbot, dialog.password.editor, "secret-pass-1")
    _type(qtbot, dialog.confirm.editor, "secret-pass-1")
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        qtbot.keyClick(dialog.confirm.editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "new_driver" in _usernames(screen))
    assert screen.banner.text == "Account 'new_driver' created."
    created = app.users.find_by_username(manager, "new_driver")
    assert (created.role, created.email) == (Role.DRIVER, "new.driver@example.com")

    assert screen.select_username("new_driver")
    screen.edit_person()
    edit = screen.dialog
    assert isinstance(edit, PersonDialog)
    _type(qtbot, edit.full_name.editor, "Nora Driver")
    with qtbot.waitSignal(edit.accepted, timeout=15_000):
        qtbot.mouseClick(edit.ok_button, Qt.MouseButton.LeftButton)
    assert app.users.get(manager, created.id).full_name == "Nora Driver"

    qtbot.waitUntil(lambda: screen.select_username("new_driver"))
    screen.toggle_active()
    qtbot.waitUntil(lambda: "deactivated now" in screen.banner.text)
    assert not app.users.get(manager, created.id).is_active

    qtbot.waitUntil(lambda: screen.select_username("new_driver"))
    screen.reset_password()
    reset = screen.dialog
    assert isinstance(reset, ResetPasswordDialog)
    _type(qtbot, reset.password.editor, "brand-new-pass")
    _type(qtbot, reset.confirm.editor, "brand-new-pas")
    assert not reset.ok_button.isEnabled()
    _type(qtbot, reset.confirm.editor, "brand-new-pass")
    with qtbot.waitSignal(reset.accepted, timeout=15_000):
        qtbot.keyClick(reset.confirm.editor, Qt.Key.Key_Return)
    assert app.users.hasher.verify(_hash(app, created.id), "brand-new-pass")


def _hash(app: App, user_id: int) -> str:
    from parking_desktop.adapters.db.models import User

    with app.db.read() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.password_hash


def test_deactivating_yourself_is_refused_in_the_window(
        qtbot: QtBot, desk: Desk, manager: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    screen = desk.screen(manager, "people")
    qtbot.waitUntil(lambda: screen.select_username("manager1"))
    screen.toggle_active()
    qtbot.waitUntil(lambda: bool(screen.banner.text))
    assert screen.banner.text == "You cannot deactivate your own account."


def test_a_drivers_page_shows_summary_spending_history_and_filtered_activity(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, driver: Actor,
        clock: FixedClock) -> None:
    lot = make_lot(app, manager, "Central Station", price="3.00")
    for _ in range(2):
        booking = app.parking.reserve(driver, lot.id, "DR1V3R")
        app.parking.park(driver, booking.id)
        clock.advance(hours=2)
        app.parking.release(driver, booking.id)
    screen = desk.screen(manager, "people")
    qtbot.waitUntil(lambda: screen.select_username("driver1"))
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)  # Enter opens the person
    page = screen.person_page
    qtbot.waitUntil(lambda: page.loads > 0 and page.history_model.rowCount() == 2
                    and page.timeline_model.rowCount() > 0)
    assert screen.title_label.text() == "driver1"
    assert page.tiles["bookings"].text == "2"
    assert page.tiles["spent"].text == "€12.00"
    assert page.tiles["hours"].text == "4.00 h"
    assert page.tiles["lot"].text == "Central Station"
    assert page.summary is not None and page.summary.spend_per_month[-1][1] == 12
    kinds = {a.activity_type for a in page.timeline_model.rows()}
    assert {"booking_created", "parked", "booking_completed"} <= kinds
    page.type_box.setCurrentIndex(page.type_box.findData("parked"))
    page.load_activity()
    qtbot.waitUntil(lambda: {a.activity_type for a in page.timeline_model.rows()} == {"parked"})
    assert page.timeline_model.rowCount() == 2
    qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    assert screen.pages.currentWidget() is screen.list_page
