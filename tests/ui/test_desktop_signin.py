"""Desktop start: first-run manager creation, sign-in right / wrong / locked, role checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.accounts.users import MAX_FAILED_LOGINS
from parking_desktop.ui.common.signin import FirstManagerDialog, SignInDialog
from parking_desktop.ui.desktop.mainwindow import MainWindow
from parking_desktop.ui.desktop.startup import DesktopStartup
from tests.conftest import PASSWORD
from tests.ui.conftest import drain


@pytest.fixture
def startup(app: App, qtbot: QtBot) -> Iterator[DesktopStartup]:
    flow = DesktopStartup(app)
    yield flow
    flow.close()
    drain()


def _dialog(qtbot: QtBot, flow: DesktopStartup, kind: type) -> object:
    flow.start()
    qtbot.waitUntil(lambda: isinstance(flow.dialog, kind) and flow.dialog.isVisible())
    assert flow.dialog is not None
    flow.dialog.activateWindow()
    qtbot.waitActive(flow.dialog)
    return flow.dialog


def _sign_in(qtbot: QtBot, dialog: SignInDialog, login: str, password: str) -> None:
    """As a person would: type both fields, press Enter, wait for the answer."""
    dialog.login.clear()
    dialog.password.clear()
    qtbot.keyClicks(dialog.login, login)
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.working)


def test_first_run_creates_the_first_manager_and_opens_the_desktop(
        app: App, qtbot: QtBot, startup: DesktopStartup) -> None:
    assert not app.users.has_manager()
    dialog = _dialog(qtbot, startup, FirstManagerDialog)
    assert isinstance(dialog, FirstManagerDialog)
    qtbot.keyClicks(dialog.username.editor, "x!")  # not a valid username
    qtbot.keyClicks(dialog.password.editor, "short")
    assert not dialog.ok_button.isEnabled()
    assert "Username must be 3 to 80 characters" in dialog.username.error.text()
    assert dialog.username.error.isVisible()
    dialog.username.editor.clear()
    qtbot.keyClicks(dialog.username.editor, "site_boss")
    qtbot.keyClicks(dialog.email.editor, "boss@example.com")
    dialog.password.editor.clear()
    qtbot.keyClicks(dialog.password.editor, "long-enough-1")
    qtbot.keyClicks(dialog.confirm.editor, "long-enough-2")
    assert dialog.confirm.error.text() == "The two passwords are different."
    assert not dialog.ok_button.isEnabled()
    dialog.confirm.editor.clear()
    qtbot.keyClicks(dialog.confirm.editor, "long-enough-1")
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(startup.window_shown, timeout=15_000) as shown:
        qtbot.keyClick(dialog.confirm.editor, Qt.Key.Key_Return)
    window = shown.args[0]
    assert isinstance(window, MainWindow)
    assert window.session.actor.username == "site_boss"
    assert window.session.actor.role is Role.MANAGER
    assert "site_boss (Manager)" in window.user_status.text()
    assert app.db.description in window.db_status.text()
    assert app.users.has_manager()
    found = app.users.find_by_username(window.session.actor, "site_boss")
    assert found.email == "boss@example.com"


def test_right_password_opens_the_desktop(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    with qtbot.waitSignal(startup.window_shown, timeout=15_000) as shown:
        _sign_in(qtbot, dialog, "manager1@example.com", PASSWORD)  # e-mail works as login
    window = shown.args[0]
    assert window.session.actor.user_id == manager.user_id
    keys = [e.key for e in window.entries]  # other issues append their screens
    assert keys[:6] == ["dashboard", "lots", "spots", "people", "reservations", "activity"]


def test_wrong_password_is_refused_in_the_dialog(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    _sign_in(qtbot, dialog, "manager1", "not-my-password")
    assert dialog.banner.text == "Wrong username or password."
    assert dialog.isVisible() and startup.window is None
    assert dialog.password.hasFocus()  # ready to type the password again
    assert dialog.password.selectedText() == "not-my-password"


def test_repeated_failures_lock_the_account_and_the_dialog_says_so(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    for _ in range(MAX_FAILED_LOGINS):
        _sign_in(qtbot, dialog, "manager1", "not-my-password")
    assert "locked" in dialog.banner.text
    _sign_in(qtbot, dialog, "manager1", PASSWORD)  # even the right password now
    assert "locked" in dialog.banner.text
    assert startup.window is None


def test_empty_fields_are_refused_without_a_service_call(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    qtbot.keyClick(dialog.login, Qt.Key.Key_Return)
    assert dialog.banner.text == "Enter your username (or e-mail) and password."
    assert not dialog.working


def test_a_driver_cannot_open_the_desktop(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor, driver: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    _sign_in(qtbot, dialog, "driver1", PASSWORD)
    assert "kiosk" in dialog.banner.text
    assert startup.window is None


def test_escape_cancels_sign_in_and_ends_the_app(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    with qtbot.waitSignal(startup.finished):
        qtbot.keyClick(dialog.login, Qt.Key.Key_Escape)


def test_sign_out_returns_to_the_sign_in_dialog(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    with qtbot.waitSignal(startup.window_shown, timeout=15_000) as shown:
        _sign_in(qtbot, dialog, "manager1", PASSWORD)
    window = shown.args[0]
    qtbot.mouseClick(window.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(startup.dialog, SignInDialog)
                    and startup.dialog.isVisible())
    assert startup.window is None


def test_tab_order_goes_login_password_sign_in_cancel(
        qtbot: QtBot, startup: DesktopStartup, manager: Actor) -> None:
    dialog = _dialog(qtbot, startup, SignInDialog)
    assert isinstance(dialog, SignInDialog)
    dialog.login.setFocus()
    order = []
    for _ in range(4):
        order.append(dialog.focusWidget())
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert order == [dialog.login, dialog.password, dialog.ok_button, dialog.cancel_button]
