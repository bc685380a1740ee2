"""Cross-screen behaviour: errors in plain words (never a traceback), a crashing slot is logged
and shown, screens refresh when data changes, every control has an accessible name."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QDateEdit,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.common.ops import UNEXPECTED
from parking_desktop.ui.common.qtapp import CRASH_MESSAGE, CrashReporter
from parking_desktop.ui.desktop.screens import SCREENS
from tests.ui.conftest import Desk, make_lot

DESKTOP_KEYS = ["dashboard", "lots", "spots", "people", "reservations", "activity"]


def test_an_unexpected_error_shows_a_plain_sentence_and_logs_the_traceback(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    screen = desk.screen(manager, "dashboard")

    def broken(actor: Actor) -> None:
        raise KeyError("internal detail")

    monkeypatch.setattr(app.stats, "dashboard", broken)
    with caplog.at_level(logging.ERROR):
        screen.refresh()
        qtbot.waitUntil(lambda: bool(screen.banner.text))
    assert screen.banner.text == UNEXPECTED
    assert "Traceback" not in screen.banner.text and "internal detail" not in screen.banner.text
    assert "internal detail" in caplog.text  # the details went to the log


def test_a_crash_in_a_slot_is_logged_and_shown(qtbot: QtBot,
                                               caplog: pytest.LogCaptureFixture) -> None:
    reporter = CrashReporter()
    reporter.show_dialogs = False
    shown: list[str] = []
    reporter.crashed.connect(shown.append)
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError:
        exc_type, exc, tb = sys.exc_info()
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(reporter.crashed):
        assert exc_type is not None and exc is not None
        reporter.hook(exc_type, exc, tb)
    assert shown == [CRASH_MESSAGE]
    assert "boom in a slot" in caplog.text and "Traceback" in caplog.text
    assert reporter.count == 1
    previous = sys.excepthook
    reporter.install()
    assert sys.excepthook == reporter.hook
    reporter.uninstall()
    assert sys.excepthook is previous


def test_screens_refresh_when_data_changes(app: App, qtbot: QtBot, desk: Desk, manager: Actor,
                                           attendant: Actor) -> None:
    lot = make_lot(app, manager, spots=4)
    window = desk.window(manager)
    dashboard = window.current_screen
    assert dashboard is not None
    assert dashboard.tiles["occupied"].text == "0"
    spots = window.navigate("spots")
    qtbot.waitUntil(lambda: spots.spot_loads > 0)
    loads = spots.spot_loads
    app.parking.check_in(attendant, lot.id, "AB123CD")  # e.g. from the kiosk on this machine
    qtbot.waitUntil(lambda: spots.spot_loads > loads)
    assert spots.model.row_at(0).status == "O"
    # The hidden dashboard reloads when it is shown again.
    window.navigate("dashboard")
    qtbot.waitUntil(lambda: dashboard.tiles["occupied"].text == "1")


def _inside_composite(widget: QWidget, root: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, QComboBox | QAbstractSpinBox | QAbstractItemView):
            return True  # e.g. a table's own header
        parent = parent.parentWidget()
    return False


def _unnamed_controls(root: QWidget) -> list[str]:
    kinds = (QAbstractButton, QLineEdit, QComboBox, QDateEdit, QAbstractItemView)
    missing = []
    for widget in root.findChildren(QWidget):
        if _inside_composite(widget, root):
            continue  # the line edit inside a date edit, the list inside a combo box
        if isinstance(widget, kinds) and widget.isVisibleTo(root) \
                and not widget.accessibleName().strip():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} "
                           f"{getattr(widget, 'text', lambda: '')()!r}")
    return missing


def test_every_control_has_an_accessible_name(app: App, qtbot: QtBot, desk: Desk,
                                              manager: Actor) -> None:
    make_lot(app, manager)
    window = desk.window(manager)
    for key in [e.key for e in SCREENS if e.key in DESKTOP_KEYS]:
        screen = window.navigate(key)
        qtbot.waitUntil(lambda screen=screen: screen.loads > 0)
    assert _unnamed_controls(window) == []
    people = window.screens["people"]
    people.create_person()
    assert people.dialog is not None
    assert _unnamed_controls(people.dialog) == []
    people.dialog.reject()


def test_the_sidebar_has_keyboard_shortcuts(app: App, qtbot: QtBot, desk: Desk,
                                            manager: Actor) -> None:
    from PySide6.QtCore import Qt

    window = desk.window(manager)
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_screen is window.screens["spots"]
    assert window.nav.currentRow() == 2
