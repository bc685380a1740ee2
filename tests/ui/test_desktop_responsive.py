"""The GUI thread never waits on the database: a screen's service call runs on a worker thread,
and while that call is held up the event loop keeps turning (timers tick, the busy bar shows).

The call is held on an event until the test releases it, so nothing here depends on how fast
the machine is. How long the loop stalls, in milliseconds, is measured by
scripts/gui_latency.py on a big database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.ui.conftest import Desk, make_lot

HANG_GUARD_S = 30  # only so that a call never released fails instead of hanging
TICKS = 5


class Gate:
    """Wraps a service method: a call made off the GUI thread waits until ``release`` is set.

    A call made on the GUI thread is recorded and runs at once (waiting there would freeze the
    test itself); ``on_gui_thread`` then fails the test."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.entered = threading.Event()
        self.release = threading.Event()
        self.threads: list[int] = []
        self.returned = 0
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.threads.append(threading.get_ident())
        if threading.current_thread() is not threading.main_thread():
            self.entered.set()
            if not self.release.wait(HANG_GUARD_S):
                raise RuntimeError("the test never released the call")
        try:
            return self.fn(*args, **kwargs)
        finally:
            with self._lock:
                self.returned += 1

    @property
    def on_gui_thread(self) -> bool:
        return threading.main_thread().ident in self.threads


class Ticker:
    """Counts ticks of a short timer on the GUI thread: it ticks only if the loop turns."""

    def __init__(self) -> None:
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks += 1

    def count_while(self, qtbot: QtBot, holding: Callable[[], bool]) -> int:
        """Start counting and wait for TICKS ticks, checking ``holding`` stays true meanwhile."""
        self.timer.start()
        try:
            qtbot.waitUntil(lambda: self.ticks >= TICKS, timeout=HANG_GUARD_S * 1000)
            assert holding()
        finally:
            self.timer.stop()
        return self.ticks


def test_the_event_loop_keeps_turning_during_a_slow_dashboard_load(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_lot(app, manager)
    gate = Gate(app.stats.dashboard)
    monkeypatch.setattr(app.stats, "dashboard", gate)
    window = desk.window(manager, wait=False)  # opens on the dashboard: the call starts
    screen = window.current_screen
    assert screen is not None and screen.busy.isVisible()
    assert not gate.on_gui_thread, "the dashboard was loaded on the GUI thread"
    assert gate.entered.wait(HANG_GUARD_S), "the dashboard was never asked for"

    # The call is held on its worker thread: the GUI thread keeps processing events.
    ticks = Ticker().count_while(
        qtbot, lambda: gate.returned == 0 and screen.loads == 0 and screen.busy.isVisible())
    assert ticks >= TICKS

    gate.release.set()
    qtbot.waitUntil(lambda: screen.loads > 0 and not screen.busy.isVisible(),
                    timeout=HANG_GUARD_S * 1000)
    assert screen.loads == 1
    assert screen.tiles["lots"].text == "1"
    assert len(gate.threads) == 1 and not gate.on_gui_thread


def test_the_busy_bar_shows_while_a_slow_search_runs(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = desk.screen(manager, "reservations")
    gate = Gate(app.search.reservations)
    monkeypatch.setattr(app.search, "reservations", gate)
    count_gate = Gate(app.search.count)
    count_gate.release = gate.release  # one release lets both go
    monkeypatch.setattr(app.search, "count", count_gate)
    screen.search()
    assert screen.busy.isVisible()
    assert not gate.on_gui_thread, "the search ran on the GUI thread"
    assert gate.entered.wait(HANG_GUARD_S), "the search never started"

    ticks = Ticker().count_while(
        qtbot, lambda: gate.returned == 0 and screen.busy.isVisible())
    assert ticks >= TICKS

    gate.release.set()
    qtbot.waitUntil(lambda: screen.busy.pending == 0, timeout=HANG_GUARD_S * 1000)
    # A page and the count, both off the GUI thread.
    assert len(gate.threads) == 1 and len(count_gate.threads) == 1
    assert not gate.on_gui_thread and not count_gate.on_gui_thread
    assert not screen.busy.isVisible()
