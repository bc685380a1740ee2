"""Cache & performance screen offscreen on both databases: the cache's figures and the
per-operation timings, "Clear cache" (confirmed), a cache that is not in use, manager only."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.cache.caching import CacheService
from parking_desktop.services.timing import OperationTiming
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common.table import SORT_ROLE
from parking_desktop.ui.desktop.cache_screen import CacheScreen, TimingsModel, duration, size
from parking_desktop.ui.desktop.screen import RefusedScreen
from tests.ui.conftest import Desk, make_lot, wait_for


def test_timings_model_formats_and_sorts_without_widgets() -> None:
    model = TimingsModel()
    model.set_rows([
        OperationTiming("stats.dashboard", 1200, 0, 0.08, 0.3, 900.0, 1500.0),
        OperationTiming("lots.search:uncached", 3, 2, 14.5, 20.0, 2500.0, 60.0),
    ])
    assert model.rowCount() == 2 and model.columnCount() == 6

    def cell(row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return model.index(row, column).data(role)

    assert cell(0, TimingsModel.CALLS) == "1,200"
    assert cell(0, TimingsModel.MEDIAN) == "80 µs"
    assert cell(0, TimingsModel.MAX) == "900.0 ms"
    assert cell(1, TimingsModel.MAX) == "2.50 s"
    assert cell(1, TimingsModel.MEDIAN, SORT_ROLE) == 14.5
    assert cell(1, TimingsModel.ERRORS, Qt.ItemDataRole.ForegroundRole) is not None
    assert "database work" in cell(1, TimingsModel.OPERATION, Qt.ItemDataRole.ToolTipRole)
    assert [duration(0.0004), size(512), size(3 * 1024 * 1024)] == [
        "0 µs", "512 bytes", "3.0 MB"]


def test_figures_and_timings_are_shown(desk: Desk, app: App, manager: Actor) -> None:
    make_lot(app, manager)
    for _ in range(3):
        app.lots.search()
    screen = desk.open(CacheScreen, manager)
    assert screen.tiles["entries"].text == "1"
    assert screen.tiles["hits"].text == "2"
    assert screen.tiles["misses"].text == "1"
    assert screen.tiles["ratio"].text == "66.7 %"
    assert screen.tiles["size"].text.endswith("KB")
    assert "is working" in screen.state.text()
    assert "one machine" in screen.state.text() or "Listening" in screen.state.text()
    names = [row.name for row in screen.model.rows()]
    assert {"lots.search", "lots.search:uncached", "lots.create"} <= set(names)
    search = next(r for r in screen.model.rows() if r.name == "lots.search")
    assert search.count == 3


def test_figures_are_fetched_off_the_gui_thread(
    desk: Desk, app: App, manager: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[bool] = []
    original = app.cache.info

    def spy(actor: Actor) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return original(actor)

    monkeypatch.setattr(app.cache, "info", spy)
    desk.open(CacheScreen, manager)
    assert threads and not any(threads)


def test_clear_cache_after_confirming(desk: Desk, app: App, manager: Actor, qtbot: QtBot,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    make_lot(app, manager)
    app.lots.search()
    app.stats.dashboard(manager)  # two entries: its live figures and its charts' past hours
    screen = desk.open(CacheScreen, manager)
    assert screen.tiles["entries"].text == "3"

    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: False)
    qtbot.mouseClick(screen.clear_button, Qt.MouseButton.LeftButton)
    desk.wait_idle(screen)
    assert app.cache.info(manager).entries == 3  # answered no: nothing happened

    questions: list[str] = []
    monkeypatch.setattr(dialogs, "confirm",
                        lambda *a, **k: questions.append(a[2]) or True)
    qtbot.mouseClick(screen.clear_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Cache cleared" in screen.banner.text)
    assert screen.banner.text == "Cache cleared: 3 entries removed."
    assert "Remove every cached entry" in questions[0]
    wait_for(qtbot, lambda: screen.tiles["entries"].text == "0")
    assert screen.clear_button.isEnabled()


def test_a_cache_not_in_use_says_why(desk: Desk, app: App, manager: Actor,
                                     tmp_path: Path) -> None:
    app.cache.close()
    (tmp_path / "data" / "cache" / "data" / "cache.db").write_bytes(b"garbage" * 100)
    make_lot(app, manager)
    app.lots.search()  # finds the damage and carries on uncached
    screen = desk.open(CacheScreen, manager)
    assert screen.state.text().startswith("Not in use: The cache in")
    assert "damaged" in screen.state.text()
    assert "served uncached" in screen.tiles["misses"].note.text()


def test_only_managers_reach_the_screen(desk: Desk, app: App, manager: Actor,
                                        attendant: Actor) -> None:
    window = desk.window(attendant)
    refused = window.navigate("cache")
    assert isinstance(refused, RefusedScreen)
    manager_window = desk.window(manager)
    screen = manager_window.navigate("cache")
    assert isinstance(screen, CacheScreen)
    desk.qtbot.waitUntil(lambda: screen.loads > 0)
    desk.wait_idle(screen)


def test_a_refused_clear_is_shown_in_the_window(desk: Desk, app: App, manager: Actor,
                                                qtbot: QtBot,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "cache", CacheService.disabled())
    screen = desk.open(CacheScreen, manager)
    assert "turned off" in screen.state.text()
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    qtbot.mouseClick(screen.clear_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "nothing to clear" in screen.banner.text)
    assert screen.clear_button.isEnabled()
