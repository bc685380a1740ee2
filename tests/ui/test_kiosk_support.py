"""Fixtures and helpers for the kiosk tests (imported by the other test_kiosk_* modules).

``open_kiosk`` (see ``kiosk_windows``) builds real kiosk windows on the ``app`` fixture (SQLite
and PostgreSQL), shows them offscreen, and at the end shuts them down, waits for the worker pool
and deletes them, so no widget or thread outlives the test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.views import LotView
from parking_desktop.ui.common.ops import wait_for_workers
from parking_desktop.ui.kiosk.window import KioskWindow
from tests.conftest import PASSWORD

LONG = 3_600_000  # ms: "never" within a test

OpenKiosk = Callable[..., KioskWindow]


def kiosk_windows(app: App, qtbot: QtBot) -> Iterator[OpenKiosk]:
    """The ``open_kiosk`` fixture; each test module registers it with
    ``open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)``."""
    windows: list[KioskWindow] = []

    def factory(**kwargs: Any) -> KioskWindow:
        kwargs.setdefault("idle_ms", LONG)
        kwargs.setdefault("refresh_ms", LONG)
        window = KioskWindow(app, **kwargs)
        windows.append(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: window.home.loaded > 0 or bool(window.home.banner.text))
        assert window.home.loaded > 0, window.home.banner.text
        return window

    yield factory
    for window in windows:
        window.shutdown()
    assert wait_for_workers(30_000)
    QCoreApplication.processEvents()  # late results arrive, and are dropped
    for window in windows:
        window.close()
        window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # Closing can start work of its own (a sign-out is recorded): let it end before the
    # database is closed, or its connection comes back to a pool that is gone.
    assert wait_for_workers(30_000)
    QCoreApplication.processEvents()


def make_lot(app: App, manager: Actor, name: str = "City Centre", price: str = "2.50",
             spots: int = 10) -> LotView:
    return app.lots.create(manager, name=name, address=f"1 {name} Street", pin_code="PIN01",
                           price_per_hour=Decimal(price), number_of_spots=spots)


def wait_idle(qtbot: QtBot, window: KioskWindow) -> None:
    """Until the current page has no service call in flight."""
    qtbot.waitUntil(lambda: not window.current.busy)


def sign_in(qtbot: QtBot, window: KioskWindow, mode: str, login: str,
            password: str = PASSWORD) -> None:
    """Sign in through the page, as a person would: type, then Enter."""
    window.go("signin", mode=mode)
    page = window.screens["signin"]
    qtbot.keyClicks(page.login, login)
    qtbot.keyClicks(page.password, password)
    qtbot.keyClick(page.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current is not page or bool(page.banner.text))


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard"
    return widget


class ThreadRecorder:
    """Wraps a service: records the thread each method call runs on."""

    def __init__(self, service: object, calls: list[tuple[str, str]]) -> None:
        self._service = service
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._service, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append((name, threading.current_thread().name))
            return target(*args, **kwargs)

        return call
