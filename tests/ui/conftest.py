"""Qt test hygiene for tests/ui: the app's style sheet is applied, every test ends with no worker
still running and no top-level widget left alive, and desktop helpers open real windows on the
``app`` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.views import LotView
from parking_desktop.ui.common.ops import live_ops, wait_for_workers
from parking_desktop.ui.common.qtapp import ensure_qapplication
from parking_desktop.ui.desktop.mainwindow import MainWindow
from parking_desktop.ui.desktop.screen import Screen, SignedIn
from tests.integration.hardening_support import TcpProxy
from tests.integration.proxied_support import proxied_app

S = TypeVar("S", bound=Screen)


def drain() -> None:
    """Wait for calls in flight, deliver their (dropped or used) results, delete what was
    scheduled for deletion."""
    assert wait_for_workers(30_000), "a worker call never finished"
    for _ in range(3):
        QCoreApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def _qt_hygiene(qapp: QApplication) -> Iterator[None]:
    ensure_qapplication()  # the real style sheet, so its warnings would fail tests too
    yield
    for widget in QApplication.topLevelWidgets():
        if widget.parent() is None:
            widget.close()
            widget.deleteLater()
    drain()
    leaked = [f"{type(w).__name__} {w.objectName()!r}" for w in QApplication.topLevelWidgets()]
    assert not leaked, f"widgets outlived the test: {leaked}"
    assert live_ops() == 0, "a worker operation outlived the test"


def session_for(app: App, actor: Actor) -> SignedIn:
    assert actor.user_id is not None
    return SignedIn(app, actor, app.users.get(SYSTEM, actor.user_id))


class Desk:
    """Opens desktop windows and screens on ``app`` and closes them (before the database is
    closed) at the end of the test."""

    def __init__(self, app: App, qtbot: QtBot) -> None:
        self.app = app
        self.qtbot = qtbot
        self.windows: list[QWidget] = []

    def window(self, actor: Actor, size: tuple[int, int] = (1280, 800), *,
               wait: bool = True) -> MainWindow:
        window = MainWindow(session_for(self.app, actor))
        self.windows.append(window)
        window.resize(*size)
        window.show()
        if wait:
            self.qtbot.waitExposed(window)
            first = window.current_screen
            assert first is not None
            self.qtbot.waitUntil(lambda: first.loads > 0)
        return window

    def screen(self, actor: Actor, key: str) -> Any:
        window = self.window(actor)
        screen = window.navigate(key)
        self.qtbot.waitUntil(lambda: screen.loads > 0)
        self.wait_idle(screen)
        return screen

    def open(self, cls: type[S], actor: Actor, **kwargs: Any) -> S:
        """One screen on its own (as the main window shows it)."""
        screen = cls(session_for(self.app, actor), **kwargs)
        self.windows.append(screen)
        screen.resize(1100, 760)
        screen.show()
        self.qtbot.waitUntil(lambda: screen.loads > 0)
        self.wait_idle(screen)
        return screen

    def wait_idle(self, screen: Screen) -> None:
        self.qtbot.waitUntil(lambda: screen.busy.pending == 0)

    def close(self) -> None:
        for widget in self.windows:
            if isinstance(widget, MainWindow | Screen):
                widget.shutdown()
        drain()
        for widget in self.windows:
            widget.close()
            widget.deleteLater()
        drain()


@pytest.fixture
def desk(app: App, qtbot: QtBot) -> Iterator[Desk]:
    helper = Desk(app, qtbot)
    yield helper
    helper.close()


def make_lot(app: App, manager: Actor, name: str = "Central Station", spots: int = 8,
             price: str = "2.50") -> LotView:
    return app.lots.create(manager, name=name, address=f"1 {name} Street", pin_code="PIN01",
                           price_per_hour=Decimal(price), number_of_spots=spots)


def wait_for(qtbot: QtBot, condition: Callable[[], object], timeout: int = 15_000) -> None:
    qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)


@pytest.fixture
def proxied(pg_database_url: str, tmp_path: Path) -> Iterator[tuple[App, TcpProxy]]:
    """An App on the emptied PostgreSQL database through a TCP proxy the test can cut."""
    data_dir = tmp_path / "kiosk"
    with proxied_app(pg_database_url, data_dir, TcpProxy, SCHEDULER_ENABLED="false") as pair:
        yield pair
