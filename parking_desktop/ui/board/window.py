"""The entrance board: one panel per lot (its name, the free spots in figures that fill the
panel, "FULL" in red), and a small line saying when the figures were read, or since when the
database cannot be reached (the last figures stay, greyed: never a guessed number).

Nothing on it takes input. In full screen the mouse pointer is hidden."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.services.parking.board import BoardLot
from parking_desktop.ui.board.fit import FitLabel
from parking_desktop.ui.board.source import HEARTBEAT_MS, POLL_MS, FreeCountSource
from parking_desktop.ui.common.fullscreen import fill_screen

WIDE = 2.4  # a panel wider than this many times its height puts the name beside the figure
WINDOWED_SIZE = (1280, 800)
STATUS_PARTS = 25

STYLE = """
#board { background: #0b1220; }
#lotPanel { background: #111a2e; border-radius: 12px; }
QLabel { background: transparent; }
QLabel[role="name"] { color: #f8fafc; }
QLabel[role="caption"] { color: #cbd5e1; }
QLabel[role="digits"] { color: #4ade80; }
QLabel[role="digits"][state="full"] { color: #ef4444; }
QLabel[role="digits"][state="closed"] { color: #94a3b8; }
QLabel[role="status"] { color: #94a3b8; }
QLabel[role="status"][stale="true"] { color: #fbbf24; }
#lotPanel[stale="true"] QLabel { color: #475569; }
"""

FULL_RED = "#ef4444"  # what the style sheet gives a full lot's figure (tests compare)


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.update()


def caption_for(lot: BoardLot) -> str:
    if not lot.open:
        return "This car park is closed"
    if lot.full:
        return f"All {lot.total} spaces taken"
    return "space free" if lot.free == 1 else "spaces free"


class LotPanel(QFrame):
    """One lot. ``digits`` shows the free spots, "FULL" or "CLOSED"."""

    def __init__(self, lot: BoardLot, parent: QWidget | None = None, *,
                 sample: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("lotPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.name_label = FitLabel("", self, fill=0.8, elide=True, min_share=0.35)
        self.name_label.setProperty("role", "name")
        # Every panel sizes its figure for the same widest figure, so the rows line up.
        self.digits = FitLabel("", self, fill=0.88, ink=True,
                               sample=sample or "8" * len(str(lot.total)))
        self.digits.setProperty("role", "digits")
        self.caption = FitLabel("", self, fill=0.7, elide=True, bold=False)
        self.caption.setProperty("role", "caption")
        self.name_label.fitted.connect(lambda px: self.caption.set_cap(max(1, px * 3 // 4)))
        self.grid = QGridLayout(self)
        self.grid.setSpacing(0)
        self.wide = False
        self._place()
        self.lot = lot
        self.stale = False
        self.show_lot(lot)

    def show_lot(self, lot: BoardLot) -> None:
        self.lot = lot
        self.name_label.setText(lot.name)
        state = "closed" if not lot.open else "full" if lot.full else "free"
        self.digits.setText("CLOSED" if state == "closed" else "FULL" if state == "full"
                            else str(lot.free))
        if self.digits.property("state") != state:
            self.digits.setProperty("state", state)
            _restyle(self.digits)
        self.caption.setText(caption_for(lot))
        self._balance()
        said = ("closed" if state == "closed" else "full" if state == "full"
                else f"{lot.free} of {lot.total} spaces free")
        self.setAccessibleName(f"{lot.name}: {said}")

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self.setProperty("stale", stale)
            for widget in (self, self.name_label, self.digits, self.caption):
                _restyle(widget)

    def resizeEvent(self, event: QResizeEvent) -> None:
        size = event.size()
        margin = max(6, round(min(size.width(), size.height()) * 0.04))
        self.grid.setContentsMargins(margin, margin * 2 // 3, margin, margin * 2 // 3)
        wide = size.width() > WIDE * size.height()
        if wide != self.wide:
            self.wide = wide
            self._place()
        self._balance()
        super().resizeEvent(event)

    def _balance(self) -> None:
        """Wide: the figure's column is as wide as the figure needs at the panel's full height
        (at most 55 % of the panel); the name and caption take the rest."""
        if not self.wide:
            self.grid.setColumnMinimumWidth(1, 0)
            return
        margins = self.grid.contentsMargins()
        inner_width = self.width() - margins.left() - margins.right()
        inner_height = self.height() - margins.top() - margins.bottom()
        need = self.digits.width_for(inner_height) * 1.04
        self.grid.setColumnMinimumWidth(1, round(min(need, inner_width * 0.55)))

    def _place(self) -> None:
        """Tall: name, figure, caption one above the other. Wide (a row among several on a
        landscape screen): name and caption on the left, the figure on the right."""
        for widget in (self.name_label, self.digits, self.caption):
            self.grid.removeWidget(widget)
        for index in range(3):
            self.grid.setRowStretch(index, 0)
            self.grid.setColumnStretch(index, 0)
        center = Qt.AlignmentFlag.AlignCenter
        if self.wide:
            self.grid.addWidget(self.name_label, 0, 0)
            self.grid.addWidget(self.caption, 1, 0)
            self.grid.addWidget(self.digits, 0, 1, 2, 1)
            self.grid.setRowStretch(0, 1)
            self.grid.setRowStretch(1, 1)
            self.grid.setColumnStretch(0, 1)
            self.grid.setHorizontalSpacing(self.grid.contentsMargins().left())
            # Name and caption meet in the middle of the row whatever size the name takes.
            self.name_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
            self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.digits.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        else:
            self.grid.addWidget(self.name_label, 0, 0)
            self.grid.addWidget(self.digits, 1, 0)
            self.grid.addWidget(self.caption, 2, 0)
            self.grid.setRowStretch(0, 16)
            self.grid.setRowStretch(1, 64)
            self.grid.setRowStretch(2, 12)
            self.grid.setColumnStretch(0, 1)
            for label in (self.name_label, self.digits, self.caption):
                label.setAlignment(center)


class BoardWindow(QWidget):
    """The board for ``lots`` (as read at start). ``poll_ms``/``heartbeat_ms``: see
    ``FreeCountSource``; tests pass other values."""

    def __init__(self, app: App, lots: Sequence[BoardLot], *, poll_ms: int = POLL_MS,
                 heartbeat_ms: int = HEARTBEAT_MS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("board")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(STYLE)
        names = ", ".join(lot.name for lot in lots)
        self.setWindowTitle(f"Free spaces: {names}")
        self.setAccessibleName("Free spaces board")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumSize(320, 240)
        self._closed = False

        self.layout_ = QVBoxLayout(self)
        self.panels: dict[int, LotPanel] = {}
        sample = "8" * max((len(str(lot.total)) for lot in lots), default=1)
        for lot in lots:
            panel = LotPanel(lot, self, sample=sample)
            self.panels[lot.id] = panel
            # The status line gets one part in STATUS_PARTS of the height, the lots the rest.
            self.layout_.addWidget(panel, max(1, (STATUS_PARTS - 1) // max(1, len(lots))))
            panel.name_label.natural.connect(self._match_names)
        self.status = FitLabel("", self, fill=0.8, elide=True, bold=False)
        self.status.setProperty("role", "status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.status.setAccessibleDescription("When the figures were read")
        self.layout_.addWidget(self.status, 1)
        self.stale = False

        self.source = FreeCountSource(app, lots, poll_ms=poll_ms, heartbeat_ms=heartbeat_ms,
                                      parent=self)
        self.source.figures.connect(self.show_figures)
        self.source.lost.connect(self.show_lost)
        self._set_status(f"Updated {self.source.last_good:%H:%M:%S}", stale=False)
        self.source.start()

    def _match_names(self) -> None:
        """Several lots: every name in the size of the one that needs the smallest."""
        if len(self.panels) > 1:
            sizes = [p.name_label.natural_px for p in self.panels.values()]
            smallest = min(size for size in sizes if size > 0) if any(sizes) else 0
            for panel in self.panels.values():
                panel.name_label.set_cap(smallest)

    # --- figures ----------------------------------------------------------------------------------
    def show_figures(self, lots: list[BoardLot], at: datetime) -> None:
        for lot in lots:
            panel = self.panels.get(lot.id)
            if panel is not None:
                panel.show_lot(lot)
        for panel in self.panels.values():
            panel.set_stale(False)
        self._set_status(f"Updated {at:%H:%M:%S}", stale=False)

    def show_lost(self, _message: str, since: datetime) -> None:
        for panel in self.panels.values():
            panel.set_stale(True)
        self._set_status(f"No connection since {since:%H:%M}: the figures may be out of date",
                         stale=True)

    def _set_status(self, text: str, *, stale: bool) -> None:
        self.stale = stale
        self.status.setText(text)
        if self.status.property("stale") != stale:
            self.status.setProperty("stale", stale)
            _restyle(self.status)

    # --- window -----------------------------------------------------------------------------------
    def set_full_screen(self, on: bool) -> None:
        if on:
            self.setCursor(Qt.CursorShape.BlankCursor)  # a display: no pointer in the middle
            fill_screen(self)
        else:
            self.unsetCursor()
            self.showNormal()
            self.resize(*WINDOWED_SIZE)

    def resizeEvent(self, event: QResizeEvent) -> None:
        size = event.size()
        short = min(size.width(), size.height())
        margin = max(8, round(short * 0.025))
        self.layout_.setContentsMargins(margin, margin, margin, margin // 2)
        self.layout_.setSpacing(margin)
        super().resizeEvent(event)

    def shutdown(self) -> None:
        """Stop reading (idempotent): the timer, the change listener, a read in flight."""
        if not self._closed:
            self._closed = True
            self.source.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()
