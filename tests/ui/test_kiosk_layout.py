"""The kiosk at 1024x768 and 1920x1080: the receipt's amount and figures are whole (text
metrics against the label rectangles) and fit without scrolling, long lot names end in "…",
and the home page shows every lot whole, or scrolls with a bar a thumb can hold — on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.common.elided_label import ElidedLabel
from parking_desktop.ui.kiosk.home import HomeScreen
from parking_desktop.ui.kiosk.receipt import ReceiptScreen
from parking_desktop.ui.kiosk.window import KioskWindow
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, make_lot, sign_in

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)

LONG_NAME = "Long Stay " + "North Terminal Extension " * 3 + "Car Park"  # 93 characters
SIZES = [(1024, 768), (1920, 1080)]


def _settle(qtbot: QtBot, window: KioskWindow, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)


def _is_whole(label: QLabel) -> bool:
    try:
        _whole_text(label)
    except AssertionError:
        return False
    return True


def _whole_text(label: QLabel) -> None:
    """The label's text is drawn whole in its rectangle (one line, or wrapped lines)."""
    rect = label.contentsRect()
    metrics = label.fontMetrics()
    shown = label.shown_text() if isinstance(label, ElidedLabel) else label.text()
    if label.wordWrap():
        assert label.heightForWidth(label.width()) <= label.height(), shown
    else:
        assert metrics.horizontalAdvance(shown) <= rect.width(), shown
    assert metrics.height() <= rect.height(), (shown, metrics.height(), rect.height())


def _inside(widget: QWidget, area: QWidget) -> bool:
    top_left = widget.mapTo(area, widget.rect().topLeft())
    return area.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("size", SIZES)
def test_receipt_amount_and_figures_are_whole(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
    size: tuple[int, int],
) -> None:
    assert len(LONG_NAME) <= 100
    lot = make_lot(app, manager, name=LONG_NAME, price="2.50")
    app.parking.check_in(attendant, lot.id, "KV548DQ")
    window = open_kiosk()
    _settle(qtbot, window, size)
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("receipt", receipt=app.parking.check_out(attendant, "KV548DQ"))
    page = window.page(ReceiptScreen)
    viewport = page.page_scroll.viewport()
    qtbot.waitUntil(lambda: _inside(page.done_button, viewport) and all(
        _is_whole(v) for v in page.grid.values.values()), timeout=10_000)

    _whole_text(page.total)
    assert page.total_text() == "€2.50"
    assert _inside(page.total, viewport) and _inside(page.done_button, viewport)
    assert page.page_scroll.verticalScrollBar().maximum() == 0  # nothing to scroll to
    for value in page.grid.values.values():
        _whole_text(value)
    lot_row = page.grid.values["Lot · spot"]
    assert lot_row.text() == f"{LONG_NAME} · P001"  # all of it, for screen readers
    if isinstance(lot_row, ElidedLabel) and lot_row.shown_text() != lot_row.text():
        assert lot_row.shown_text().endswith("…") and lot_row.toolTip() == lot_row.text()
    _whole_text(page.headline)


@pytest.mark.parametrize("size", SIZES)
def test_home_shows_six_lots_whole(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, size: tuple[int, int],
) -> None:
    for name in ("Airport Long Stay", "Central Station", "City Center", "Old Town",
                 "Riverside", "University Campus"):
        make_lot(app, manager, name=name, spots=20)
    window = open_kiosk()
    home = window.page(HomeScreen)
    home.refresh()
    qtbot.waitUntil(lambda: len(home.tiles) == 6)
    _settle(qtbot, window, size)
    viewport = home.tile_scroll.viewport()
    labels = [label for tile in home.tiles.values() for label in tile.findChildren(QLabel)
              if label.text()]
    # A new window size restyles every page: wait for that layout pass, then check.
    qtbot.waitUntil(lambda: all(_is_whole(label) for label in labels) and all(
        _inside(tile, viewport) for tile in home.tiles.values()), timeout=10_000)
    for tile in home.tiles.values():
        assert _inside(tile, viewport), tile.lot.name  # not half-hidden
        for label in tile.findChildren(QLabel):
            if label.text():
                _whole_text(label)
    assert home.tile_scroll.verticalScrollBar().maximum() == 0


def test_home_with_thirty_lots_scrolls_with_a_wide_bar(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor,
) -> None:
    for n in range(30):
        make_lot(app, manager, name=f"Lot {n:02d}", spots=4)
    window = open_kiosk()
    home = window.page(HomeScreen)
    home.refresh()
    qtbot.waitUntil(lambda: len(home.tiles) == 30)
    _settle(qtbot, window, (1024, 768))
    bar = home.tile_scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.isVisible(), timeout=10_000)
    assert bar.width() >= 40  # a thumb can hold it
    for tile in home.tiles.values():  # scrolled to, each tile is whole
        assert tile.height() >= tile.heightForWidth(tile.width())
