"""The GUI thread never waits on the database: while a slow service call runs, the event loop
keeps turning (no gap over 200 ms between ticks of a 15 ms timer)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.ui.conftest import Desk, make_lot

SLOW_S = 1.0
MAX_GAP_MS = 200


class LoopWatch:
    """Measures the longest gap between ticks of a fast timer on the GUI thread, until
    ``until`` (set by the slow call when it returns) says the call is over."""

    def __init__(self, interval_ms: int = 15, until: threading.Event | None = None) -> None:
        self.until = until
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = 0
        self.longest = 0
        self.ticks = 0

    def start(self) -> None:
        self.clock.start()
        self.last = 0
        self.timer.start()

    def stop(self) -> None:
        self._tick()
        self.timer.stop()

    def _tick(self) -> None:
        if not self.timer.isActive():
            return
        now = self.clock.elapsed()
        self.longest = max(self.longest, now - self.last)
        self.last = now
        self.ticks += 1
        if self.until is not None and self.until.is_set():
            self.timer.stop()  # the call is over; drawing its result is not measured

    @property
    def running(self) -> bool:
        return self.timer.isActive()


def slowed(fn: Callable[..., Any], calls: list[str],
           done: threading.Event | None = None) -> Callable[..., Any]:
    def slow(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        time.sleep(SLOW_S)
        try:
            return fn(*args, **kwargs)
        finally:
            if done is not None:
                done.set()

    return slow


@pytest.mark.slow
def test_the_event_loop_keeps_turning_during_a_slow_dashboard_load(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_lot(app, manager)
    calls: list[str] = []
    done = threading.Event()
    monkeypatch.setattr(app.stats, "dashboard", slowed(app.stats.dashboard, calls, done))
    watch = LoopWatch(until=done)
    started = time.monotonic()
    window = desk.window(manager, wait=False)  # opens on the dashboard: the slow call starts
    screen = window.current_screen
    assert screen is not None and screen.busy.isVisible()
    watch.start()  # from here until the slow call returns
    qtbot.waitUntil(lambda: screen.loads > 0 and not screen.busy.isVisible(), timeout=10_000)
    assert not watch.running
    elapsed = time.monotonic() - started
    assert screen.loads == 1
    assert screen.tiles["lots"].text == "1"
    assert elapsed >= SLOW_S  # the slow call really was waited for ...
    assert calls and calls[0] != threading.main_thread().name  # ... on a worker thread
    assert watch.ticks >= 20
    assert watch.longest < MAX_GAP_MS, f"the event loop stalled for {watch.longest} ms"


@pytest.mark.slow
def test_the_busy_bar_shows_while_a_slow_search_runs(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = desk.screen(manager, "reservations")
    calls: list[str] = []
    done = threading.Event()
    monkeypatch.setattr(app.search, "reservations", slowed(app.search.reservations, calls, done))
    watch = LoopWatch(until=done)
    watch.start()
    screen.search()
    assert screen.busy.isVisible()
    qtbot.waitUntil(lambda: screen.busy.pending == 0, timeout=10_000)
    watch.stop()
    assert len(calls) == 2  # a page and the count, both off the GUI thread
    assert threading.main_thread().name not in calls
    assert not screen.busy.isVisible()
    assert watch.longest < MAX_GAP_MS, f"the event loop stalled for {watch.longest} ms"
