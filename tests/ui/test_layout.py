"""Every desktop screen at 1024x768, 1280x800 and 1920x1080, on demo data and on a 30-lot site
(one lot with a 100-character name): nothing clipped. A label's text must fit its rectangle
(wrapped labels: their whole height), a button must be as large as its text needs, a table's
header must hold its title, and nothing may stick out of the window's right edge (except
inside a scrolling area). The checks measure with the widgets' own fonts, after the style
sheet is applied."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QDialog,
    QLabel,
    QListWidget,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions
from parking_desktop.ui.common.ops import wait_for_workers
from parking_desktop.ui.desktop.lot_dialogs import LotDialog, ResizeDialog
from parking_desktop.ui.desktop.mainwindow import MainWindow
from parking_desktop.ui.desktop.screens import SCREENS
from tests.conftest import START
from tests.ui.conftest import session_for

SIZES = [(1024, 768), (1280, 800), (1920, 1080)]
LONG_NAME = "Grand Parking de la Gare Centrale et du Quartier des Affaires, Niveaux -1 a -4, Sud"
HEADER_PADDING = 12  # the header section's padding in the style sheet, both sides


@dataclass
class Site:
    name: str
    app: App
    manager: Actor


def _site(tmp: Path, name: str, lots: int, long_name: bool) -> Site:
    settings = load_settings(data_dir=tmp / name, environ={"APP_TIMEZONE": "Europe/Paris"},
                             dotenv_path=tmp / "no.env")
    app = build_app(settings, clock=FixedClock(START), hasher=Argon2Hasher(fast=True))
    DemoLoader(app.ctx, app.users.hasher).load(DemoOptions(drivers=25, lots=lots, days=4),
                                                "demo-password-1")
    view = app.users.find_by_username(SYSTEM, "manager")
    manager = Actor(view.id, view.username, view.role)
    if long_name:
        name_100 = (LONG_NAME + " " + "X" * 100)[:100]
        app.lots.create(manager, name=name_100, address="1 " + "Avenue " * 40,
                        pin_code="LONG1", price_per_hour="2.90", number_of_spots=40)
    return Site(name, app, manager)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Site]]:
    tmp = tmp_path_factory.mktemp("layout")
    made = [_site(tmp, "demo", 6, False), _site(tmp, "thirty-lots", 30, True)]
    yield made
    for site in made:
        site.app.close()


def settle() -> None:
    assert wait_for_workers(30_000)
    for _ in range(4):
        QCoreApplication.processEvents()


# --- what "clipped" means ------------------------------------------------------------------
def _inside_scroll_area(widget: QWidget, top: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _shown(widget: QWidget, top: QWidget) -> bool:
    return widget.isVisibleTo(top) and widget.width() > 0 and widget.height() > 0


def clipped(top: QWidget) -> list[str]:
    """Every clipped label, button, table header or widget past the right edge, described."""
    problems: list[str] = []
    for label in top.findChildren(QLabel):
        text = label.text()
        rich = label.textFormat() == Qt.TextFormat.RichText or ("<" in text and ">" in text)
        if not _shown(label, top) or not text or rich:
            continue
        if label.parentWidget() is not None and label.parentWidget().inherits("QTipLabel"):
            continue
        rect = label.contentsRect()
        name = f"label {text[:40]!r} ({type(label.parentWidget()).__name__})"
        if label.wordWrap():
            if label.heightForWidth(label.width()) > label.height() + 1:
                problems.append(f"{name}: needs {label.heightForWidth(label.width())} px "
                                f"high, has {label.height()}")
        else:
            width = max(label.fontMetrics().horizontalAdvance(line)
                        for line in text.splitlines() or [""])
            if width > rect.width() + 1:
                problems.append(f"{name}: needs {width} px, has {rect.width()}")
    for button in top.findChildren(QAbstractButton):
        if not _shown(button, top) or not button.text():
            continue
        hint = button.minimumSizeHint().expandedTo(button.sizeHint())
        if hint.width() > button.width() + 1 or button.minimumSizeHint().height() > \
                button.height() + 1:
            problems.append(f"button {button.text()!r}: needs {hint.width()}x"
                            f"{button.minimumSizeHint().height()}, has "
                            f"{button.width()}x{button.height()}")
    for listing in top.findChildren(QListWidget):  # the sidebar: item padding 12 px a side
        if not _shown(listing, top):
            continue
        selected = QFont(listing.font())
        selected.setBold(True)  # the selected item's text is bold: the widest it gets
        for row in range(listing.count()):
            item = listing.item(row)
            needed = (QFontMetrics(selected).horizontalAdvance(item.text())
                      + listing.iconSize().width() + 2 * 12 + 6)
            if needed > listing.visualItemRect(item).width() + 1:
                problems.append(f"list item {item.text()!r}: needs {needed} px, has "
                                f"{listing.visualItemRect(item).width()}")
    for table in top.findChildren(QTableView):
        if not _shown(table, top):
            continue
        header = table.horizontalHeader()
        bold = QFont(header.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        model = table.model()
        for column in range(header.count()):
            if header.isSectionHidden(column):
                continue
            title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            needed = metrics.horizontalAdvance(title) + HEADER_PADDING
            if needed > header.sectionSize(column) + 1:
                problems.append(f"table {table.accessibleName()!r} column {title!r}: needs "
                                f"{needed} px, has {header.sectionSize(column)}")
    for widget in top.findChildren(QWidget):
        if (not _shown(widget, top) or widget.isWindow()
                or not isinstance(widget, QLabel | QAbstractButton | QTableView)
                or _inside_scroll_area(widget, top)):
            continue
        right = widget.mapTo(top, QPoint(widget.width(), 0)).x()
        if right > top.width() + 1:
            problems.append(f"{type(widget).__name__} {widget.accessibleName()!r} ends at x="
                            f"{right}, the window is {top.width()} wide")
    return problems


# --- the screens ---------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("site_index", [0, 1], ids=["demo", "thirty-lots"])
def test_every_desktop_screen_fits(sites: list[Site], site_index: int, size: tuple[int, int],
                                   qtbot: QtBot) -> None:
    site = sites[site_index]
    window = MainWindow(session_for(site.app, site.manager))
    try:
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        assert (window.width(), window.height()) == size  # the minimum size fits the screen
        problems: list[str] = []
        for entry in SCREENS:
            screen = window.navigate(entry.key)
            qtbot.waitUntil(lambda s=screen: s.loads > 0, timeout=30_000)
            settle()
            problems += [f"{entry.key}: {p}" for p in clipped(window)]
            if entry.key == "dashboard":
                chart = screen.occupancy_chart
                assert len(chart.rows) <= chart.capacity()
                for row in chart.rows:
                    assert chart.fontMetrics().horizontalAdvance(chart.shown_label(row)) <= \
                        chart.columns()[0].width()
        # Mail settings with a message under three fields and a banner: the tallest it gets.
        mail = window.navigate("mail")
        mail.server.setText("https://smtp.example.com")
        mail.sender_edit.setText("parking desk")
        mail.ca_file.setText("/nonexistent/ca.pem")
        mail.save()
        qtbot.waitUntil(lambda: mail.ca_error.isVisible(), timeout=15_000)
        settle()
        problems += [f"mail with problems: {p}" for p in clipped(window)]
        assert not problems, "\n".join(problems)
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        settle()


def test_lot_dialogs_with_a_refusal_fit(sites: list[Site], qtbot: QtBot) -> None:
    site = sites[1]
    session = session_for(site.app, site.manager)
    long_lot = next(lot for lot in site.app.lots.search() if len(lot.name) == 100)
    if not long_lot.occupied:  # cars in P001-P003, so shrinking to one spot is refused
        view = site.app.users.find_by_username(SYSTEM, "attendant1")
        attendant = Actor(view.id, view.username, view.role)
        for plate in ("LAY001", "LAY002", "LAY003"):
            site.app.parking.check_in(attendant, long_lot.id, plate)
    lot = site.app.lots.get(long_lot.id)
    dialogs: list[QDialog] = [ResizeDialog(session, lot), LotDialog(session, long_lot),
                              LotDialog(session)]
    try:
        for dialog in dialogs:
            dialog.show()
            qtbot.waitExposed(dialog)
        resize = dialogs[0]
        assert isinstance(resize, ResizeDialog)
        resize.spots.editor.setText("1")
        resize.submit()
        qtbot.waitUntil(lambda: bool(resize.banner.text), timeout=15_000)
        new = dialogs[2]
        assert isinstance(new, LotDialog)
        new.name.editor.setText("N" * 300)
        new.price.editor.setText("1e3")
        new.submit()  # every field's message shows
        settle()
        for dialog in dialogs:
            try:
                qtbot.waitUntil(lambda d=dialog: not clipped(d), timeout=5_000)
            except Exception:
                pytest.fail(f"{dialog.windowTitle()}: " + "\n".join(clipped(dialog)))
            assert dialog.width() <= 1024
    finally:
        for dialog in dialogs:
            dialog.close()
            dialog.deleteLater()
        settle()
