"""The entrance board, real widgets on SQLite and PostgreSQL: the right free count, changes made
by another process arriving without a click (the one-second count on SQLite, the change notice
on PostgreSQL), FULL in red, the last figures greyed when the database is gone, and figures
that fill the screen without being cut at 1024x768, 1920x1080 and in portrait."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking.board import BoardService
from parking_desktop.ui.board.fit import FitLabel, ink_span
from parking_desktop.ui.board.window import FULL_RED, BoardWindow, LotPanel
from tests.conftest import PG_ADMIN_URL
from tests.integration.cache_support import run_other_process
from tests.ui.conftest import drain, make_lot, wait_for

HANG_GUARD_MS = 30_000  # only so that a change that never arrives fails instead of hanging

OpenBoard = Callable[..., BoardWindow]


@pytest.fixture
def open_board(app: App, qtbot: QtBot) -> Iterator[OpenBoard]:
    windows: list[BoardWindow] = []

    def opener(*names: str, size: tuple[int, int] = (1280, 800), **kwargs: Any) -> BoardWindow:
        lots = BoardService(app.ctx).lots_named(list(names))
        window = BoardWindow(app, lots, **kwargs)
        windows.append(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield opener
    for window in windows:
        window.shutdown()
    drain()
    for window in windows:
        window.close()
        window.deleteLater()
    drain()


def panel(window: BoardWindow, index: int = 0) -> LotPanel:
    return list(window.panels.values())[index]


def check_in_elsewhere(app: App, tmp_path: Path, lot_id: int, vehicle: str) -> None:
    """A check-in by another program (its own process and cache folder) on the same database;
    on PostgreSQL it waits for its change listener, so that its notice is sent."""
    run_other_process(tmp_path / "other-machine", app.settings.database_url, f"""
        if app.cache.sync is not None:
            assert app.cache.sync.wait_connected(20)
        app.parking.check_in(SYSTEM, {lot_id}, {vehicle!r})
    """)


def test_the_board_shows_each_lots_free_spots(
    app: App, manager: Actor, open_board: OpenBoard
) -> None:
    central = make_lot(app, manager, "Central Station", spots=8)
    make_lot(app, manager, "Riverside", spots=3)
    for plate in ("AB123", "CD456", "EF789"):
        app.parking.check_in(manager, central.id, plate)

    window = open_board("central station", "Riverside")

    first, second = panel(window, 0), panel(window, 1)
    assert (first.name_label.text(), first.digits.text()) == ("Central Station", "5")
    assert first.caption.text() == "spaces free"
    assert (second.name_label.text(), second.digits.text()) == ("Riverside", "3")
    assert window.status.text() == "Updated 10:00:00"  # the site's time (Paris)
    assert first.accessibleName() == "Central Station: 5 of 8 spaces free"


def test_a_check_in_by_another_process_reaches_the_board(
    app: App, manager: Actor, open_board: OpenBoard, qtbot: QtBot, tmp_path: Path
) -> None:
    lot = make_lot(app, manager, "Central Station", spots=8)
    if app.settings.is_sqlite:
        window = open_board("Central Station")  # the one-second count
    else:
        # Only the change notice can bring the new figure within the test: the poll that
        # notices a lost database is put off for ten minutes.
        window = open_board("Central Station", heartbeat_ms=600_000)
        wait_for(qtbot, lambda: window.source.listening, HANG_GUARD_MS)
    assert panel(window).digits.text() == "8"

    check_in_elsewhere(app, tmp_path, lot.id, "AB123")

    wait_for(qtbot, lambda: panel(window).digits.text() == "7", HANG_GUARD_MS)
    app.parking.check_out(manager, "AB123")
    wait_for(qtbot, lambda: panel(window).digits.text() == "8", HANG_GUARD_MS)


def red_pixels(widget: QWidget, colour: str) -> int:
    """How many pixels of ``widget`` as drawn are (nearly) ``colour``."""
    image = widget.grab().toImage()
    wanted = QColor(colour)
    count = 0
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            pixel = image.pixelColor(x, y)
            if (abs(pixel.red() - wanted.red()) < 24 and abs(pixel.green() - wanted.green()) < 24
                    and abs(pixel.blue() - wanted.blue()) < 24):
                count += 1
    return count


def test_a_full_lot_shows_FULL_in_red_until_a_car_leaves(
    app: App, manager: Actor, open_board: OpenBoard, qtbot: QtBot
) -> None:
    lot = make_lot(app, manager, "Small", spots=2)
    window = open_board("Small")
    digits = panel(window).digits
    assert digits.text() == "2"
    assert red_pixels(digits, FULL_RED) == 0

    app.parking.check_in(manager, lot.id, "AB123")
    app.parking.check_in(manager, lot.id, "CD456")

    wait_for(qtbot, lambda: digits.text() == "FULL", HANG_GUARD_MS)
    assert red_pixels(digits, FULL_RED) > 100
    assert panel(window).caption.text() == "All 2 spaces taken"
    assert_whole(digits)
    app.parking.check_out(manager, "CD456")
    wait_for(qtbot, lambda: digits.text() == "1", HANG_GUARD_MS)
    assert red_pixels(digits, FULL_RED) == 0


# --- sizes ------------------------------------------------------------------------------------
def assert_whole(label: FitLabel) -> None:
    """The text is inside the label: as wide as its advance, and as tall as its line (names,
    captions) or its glyphs (figures, centred vertically)."""
    box = QRectF(label.contentsRect())
    metrics = QFontMetricsF(label.font())
    shown = label.text()
    assert metrics.horizontalAdvance(shown) <= box.width(), (shown, label.font().pixelSize())
    if label.ink:
        top, bottom = ink_span(metrics, shown, box)
        assert box.top() <= top and bottom <= box.bottom(), (shown, top, bottom, box)
    else:
        assert metrics.height() <= box.height(), (shown, metrics.height(), box)
    inside = label.window().rect()
    assert inside.contains(label.mapTo(label.window(), label.contentsRect().topLeft()))
    assert inside.contains(label.mapTo(label.window(), label.contentsRect().bottomRight()))


def settled(window: BoardWindow, size: tuple[int, int]) -> bool:
    QApplication.processEvents()
    return window.size().toTuple() == size and all(
        p.digits.pixel_size() > 1 for p in window.panels.values())


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080), (768, 1024), (1080, 1920)])
def test_figures_fill_the_screen_and_are_never_cut(
    app: App, manager: Actor, open_board: OpenBoard, qtbot: QtBot, size: tuple[int, int]
) -> None:
    make_lot(app, manager, "Airport Long Stay", spots=1200)
    make_lot(app, manager, "A lot with a name far too long to fit on any entrance board "
                           "whatever the size", spots=9)

    for names in (["Airport Long Stay"], ["Airport Long Stay", "A lot with a name far too "
                  "long to fit on any entrance board whatever the size"]):
        window = open_board(*names, size=size)
        wait_for(qtbot, lambda: settled(window, size))  # noqa: B023 (used at once)
        for lot_panel in window.panels.values():
            for label in (lot_panel.name_label, lot_panel.digits, lot_panel.caption):
                assert_whole(label)
            digits = lot_panel.digits
            metrics = QFontMetricsF(digits.font())
            box = digits.contentsRect()
            # "Fill": bound by the height or by the width, within a few percent.
            fills_height = metrics.tightBoundingRect("8888").height() >= 0.8 * box.height()
            fills_width = metrics.horizontalAdvance("8888") >= 0.9 * box.width()
            assert fills_height or fills_width, (size, names, digits.font().pixelSize(), box)
        assert_whole(window.status)
        names_seen = {p.name_label.text() for p in window.panels.values()}
        assert any(name.endswith("…") for name in names_seen) == (len(names) == 2)
        window.close()


# --- the database goes away -------------------------------------------------------------------
@pytest.fixture
def pg_gone(app: App) -> Iterator[Callable[[bool], None]]:
    """Refuse (True) or allow again (False) every connection to the test database, as when
    the server is down (PostgreSQL only: a SQLite file on the same machine does not go away)."""
    name = make_url(app.settings.database_url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def switch(gone: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS '
                              f'{"false" if gone else "true"}'))
            if gone:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"),
                             {"name": name})

    yield switch
    switch(False)
    admin.dispose()


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_without_the_database_the_last_figure_stays_greyed_with_since_when(
    app: App, manager: Actor, open_board: OpenBoard, qtbot: QtBot,
    pg_gone: Callable[[bool], None],
) -> None:
    lot = make_lot(app, manager, "Central Station", spots=8)
    app.parking.check_in(manager, lot.id, "AB123")
    window = open_board("Central Station")
    assert panel(window).digits.text() == "7"
    greys = panel(window).digits.grab().toImage()

    pg_gone(True)

    wait_for(qtbot, lambda: window.stale, HANG_GUARD_MS)
    assert window.status.text().startswith("No connection since 10:00")
    assert panel(window).digits.text() == "7" and panel(window).stale
    assert panel(window).digits.grab().toImage() != greys  # drawn differently: greyed
    assert_whole(window.status)

    pg_gone(False)
    wait_for(qtbot, lambda: not window.stale, HANG_GUARD_MS)
    assert window.status.text() == "Updated 10:00:00"
    assert not panel(window).stale


def test_full_screen_hides_the_pointer_and_takes_the_whole_screen(
    app: App, manager: Actor, open_board: OpenBoard, qtbot: QtBot
) -> None:
    make_lot(app, manager, "Central Station")
    window = open_board("Central Station", size=(640, 480))
    assert window.cursor().shape() != Qt.CursorShape.BlankCursor

    window.set_full_screen(True)

    assert window.cursor().shape() == Qt.CursorShape.BlankCursor
    screen = window.screen().geometry().size().toTuple()
    wait_for(qtbot, lambda: window.size().toTuple() == screen)
    window.set_full_screen(False)
    assert window.cursor().shape() != Qt.CursorShape.BlankCursor
