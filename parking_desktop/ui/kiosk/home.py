"""Home: free spots per lot in large figures, refreshed every few seconds (so bookings made on
another kiosk show up), and the two ways in: staff sign-in and driver sign-in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.services.views import LotView
from parking_desktop.ui.common.elided_label import ElidedLabel
from parking_desktop.ui.common.formatting import price_per_hour
from parking_desktop.ui.kiosk.format import clock_time
from parking_desktop.ui.kiosk.icons import kiosk_icon
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    Card,
    KioskButton,
    label,
    restyle,
    short,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

# Tile text sizes (px at scale 1, as in kiosk.qss) and the steps by which they shrink so that
# every lot fits the screen without scrolling when that is possible (six lots at 1024x768).
TILE_SIZES = {"tileName": 26, "freeCount": 76, "freeOf": 22, "caption": 18}
STEPS = (1.0, 0.9, 0.8, 0.7, 0.62)
REFRESH_MS = 5000
MESSAGE_MS = 15_000
TILE_WIDTH = 300  # a tile is never narrower than this; wider screens get more columns


class LotTile(Card):
    """One lot: name, address, free spots (huge), out of how many, price."""

    def __init__(self, lot: LotView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lotTile")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 14, 24, 14)
        layout.setSpacing(0)
        # The name wraps (a very long one is cut with "…"); the address is one line.
        self.name = label("", "tileName", self, wrap=True)
        self.address = ElidedLabel("", "caption", self)
        row = QHBoxLayout()
        row.setSpacing(14)
        self.free = label("", "freeCount", self)
        self.free.setAccessibleName("Free spots")
        row.addWidget(self.free, 0, Qt.AlignmentFlag.AlignBottom)
        self.of = label("", "freeOf", self, wrap=True)
        row.addWidget(self.of, 1, Qt.AlignmentFlag.AlignBottom)
        layout.addWidget(self.name)
        layout.addWidget(self.address)
        layout.addLayout(row)
        self.detail = label("", "caption", self, wrap=True)
        layout.addWidget(self.detail)
        self.lot = lot
        self.update_lot(lot)

    def update_lot(self, lot: LotView) -> None:
        self.lot = lot
        self.name.setText(short(lot.name, 60))
        self.name.setToolTip(lot.name if len(lot.name) > 60 else "")
        self.address.setText(lot.address)
        full = lot.free == 0
        self.free.setText("Full" if full else str(lot.free))
        self.free.setProperty("full", full)
        restyle(self.free)
        self.of.setText("" if full else f"free of {lot.number_of_spots}")
        self.detail.setText(f"{price_per_hour(lot.price_per_hour)}  ·  {lot.reserved} booked"
                            f"  ·  {lot.occupied} parked")
        self.setAccessibleName(f"{lot.name}: " + ("full" if full else
                               f"{lot.free} of {lot.number_of_spots} spots free"))


class HomeScreen(KioskScreen):
    name = "home"
    title = "Free parking spots"
    has_back = False

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None, *,
                 refresh_ms: int = REFRESH_MS) -> None:
        super().__init__(kiosk, parent)
        self.tiles: dict[int, LotTile] = {}
        self._columns = 3
        self._refreshing = False
        self._refresh_failed = False
        self.loaded = 0  # how many refreshes have arrived (tests wait on it)

        self.clock_label = label("", "clock", self.header)
        self.clock_label.setAccessibleName("Time")
        self.header_layout.insertWidget(2, self.clock_label)
        self.exit_button = KioskButton("", self.header, kind="corner",
                                       accessible="Kiosk exit (manager password)")
        self.exit_button.setObjectName("exitButton")
        self.exit_button.setIcon(kiosk_icon("key", "#94a3b8"))
        self.exit_button.setIconSize(QSize(28, 28))
        self.exit_button.setToolTip("Manager: leave full screen or quit (Ctrl+Alt+Q)")
        self.exit_button.clicked.connect(lambda: self.kiosk.request_exit())
        self.header_layout.addWidget(self.exit_button)

        self.tile_scroll = QScrollArea(self)
        self.tile_scroll.setObjectName("tileScroll")
        self.tile_scroll.setWidgetResizable(True)
        self.tile_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.tile_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.grid_host = QWidget()
        self.grid_host.setObjectName("tileGrid")
        host_layout = QVBoxLayout(self.grid_host)
        host_layout.setContentsMargins(0, 0, 0, 0)
        self.grid = QGridLayout()
        self.grid.setSpacing(18)
        host_layout.addLayout(self.grid)
        host_layout.addStretch(1)  # tiles keep their natural height; spare room goes below
        self.tile_scroll.setWidget(self.grid_host)
        QScroller.grabGesture(self.tile_scroll.viewport(),
                              QScroller.ScrollerGestureType.TouchGesture)
        self.body.addWidget(self.tile_scroll, 1)
        self.empty_label = label("No parking lot is open yet.", "empty", self,
                                 align=Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()
        self.body.addWidget(self.empty_label, 1)

        buttons = QHBoxLayout()
        buttons.setSpacing(24)
        self.driver_button = KioskButton("  Driver sign-in", self, kind="primary",
                                         accessible="Driver sign-in")
        self.driver_button.setObjectName("driverSignIn")
        self.driver_button.setIcon(kiosk_icon("car", "#ffffff"))
        self.staff_button = KioskButton("  Staff sign-in", self, kind="secondary",
                                        accessible="Staff sign-in")
        self.staff_button.setObjectName("staffSignIn")
        self.staff_button.setIcon(kiosk_icon("key"))
        for button in (self.driver_button, self.staff_button):
            button.setProperty("scale", "hero")
            button.setIconSize(QSize(40, 40))
            buttons.addWidget(button, 1)
        self.driver_button.clicked.connect(lambda: self.kiosk.go("signin", mode="driver"))
        self.staff_button.clicked.connect(lambda: self.kiosk.go("signin", mode="staff"))
        self.body.addLayout(buttons)
        self.updated_label = label("", "hint", self, align=Qt.AlignmentFlag.AlignRight)
        self.updated_label.setAccessibleName("Last updated")
        self.body.addWidget(self.updated_label)
        tab_chain(self.driver_button, self.staff_button, self.exit_button)

        self.fit_timer = QTimer(self)
        self.fit_timer.setSingleShot(True)
        self.fit_timer.setInterval(0)
        self.fit_timer.timeout.connect(self.fit_tiles)
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        # A notice such as "signed out" is for the person walking away, not the next one.
        self.message_timer = QTimer(self)
        self.message_timer.setSingleShot(True)
        self.message_timer.setInterval(MESSAGE_MS)
        self.message_timer.timeout.connect(self._clear_notice)

    # --- navigation -------------------------------------------------------------------------
    def enter(self, message: str = "", **kwargs: Any) -> None:
        if message:
            self.show_info(message)
            self.message_timer.start()
        self.refresh()
        self.timer.start()

    def _clear_notice(self) -> None:
        if not self._refresh_failed:
            self.banner.clear()

    def leave(self) -> None:
        self.timer.stop()
        self.message_timer.stop()
        self._refreshing = False
        super().leave()

    def first_focus(self) -> QWidget | None:
        return self.driver_button

    def back(self) -> None:
        self.banner.clear()

    # --- data -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for the lots again (quietly: the screen is never marked busy for this)."""
        if self._refreshing:
            return
        self._refreshing = True
        self.call(self.kiosk.desk.lots, on_success=self._show_lots,
                  on_error=self._refresh_error, quiet=True)

    def _show_lots(self, lots: list[LotView]) -> None:
        self._refreshing = False
        if self._refresh_failed:
            self._refresh_failed = False
            self.banner.clear()
        self.set_lots(lots)
        now = self.kiosk.app.ctx.clock.now()
        tz = self.kiosk.app.settings.tz
        self.clock_label.setText(clock_time(now, tz))
        self.updated_label.setText(f"Updated {now.astimezone(tz):%H:%M:%S}")
        self.loaded += 1

    def _refresh_error(self, message: str) -> None:
        self._refreshing = False
        self._refresh_failed = True
        self.show_error(f"The free spots could not be updated. {message}")

    def set_lots(self, lots: list[LotView]) -> None:
        if [lot.id for lot in lots] == list(self.tiles):
            for lot in lots:
                self.tiles[lot.id].update_lot(lot)
        else:
            for tile in self.tiles.values():
                tile.deleteLater()
            self.tiles = {lot.id: LotTile(lot, self.grid_host) for lot in lots}
            self._place_tiles()
        self.empty_label.setVisible(not lots)
        self.tile_scroll.setVisible(bool(lots))

    def _place_tiles(self) -> None:
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        for column in range(self.grid.columnCount()):
            self.grid.setColumnStretch(column, 0)
        for index, tile in enumerate(self.tiles.values()):
            self.grid.addWidget(tile, index // self._columns, index % self._columns)
        for column in range(self._columns):
            self.grid.setColumnStretch(column, 1)
        self.fit_timer.start()

    def tiles_height(self) -> int:
        """The height every row of tiles needs at the current text size and column width."""
        if not self.tiles:
            return 0
        spacing = self.grid.spacing()
        width = (self.tile_scroll.viewport().width() - spacing * (self._columns - 1)) \
            // self._columns
        tiles = list(self.tiles.values())
        total = 0
        for start in range(0, len(tiles), self._columns):
            row = tiles[start:start + self._columns]
            total += max(t.heightForWidth(width) if t.hasHeightForWidth()
                         else t.sizeHint().height() for t in row)
        return total + spacing * ((len(tiles) - 1) // self._columns)

    def fit_tiles(self) -> None:
        """The largest text at which all tiles fit the visible area; when even the smallest
        does not (many lots), the list scrolls by swipe or by its wide scroll bar."""
        room = self.tile_scroll.viewport().height()
        if room < 100 or not self.tiles:  # not laid out yet
            return
        for factor in STEPS:
            scale = self.kiosk.scale * factor
            self.grid_host.setStyleSheet("".join(
                f'QLabel[role="{role}"] {{ font-size: {max(12, round(px * scale))}px; }}'
                for role, px in TILE_SIZES.items()))
            for tile in self.tiles.values():
                tile.ensurePolished()
                for child in tile.findChildren(QWidget):
                    child.ensurePolished()
                layout = tile.layout()
                if layout is not None:
                    layout.invalidate()
            if self.tiles_height() <= room:
                break
        # The grid in a scroll area would squeeze tiles to the visible height rather than
        # scroll: each tile is given the height its wrapped text needs at its width.
        spacing = self.grid.spacing()
        width = (self.tile_scroll.viewport().width() - spacing * (self._columns - 1)) \
            // self._columns
        for tile in self.tiles.values():
            tile.setMinimumHeight(tile.heightForWidth(width) if tile.hasHeightForWidth()
                                  else tile.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns(event.size().width())
        self.fit_timer.start()  # once the scroll area has its new size

    def rescale(self, scale: float) -> None:
        """The window's text grew or shrank: icons and columns follow."""
        for button in (self.driver_button, self.staff_button):
            button.setIconSize(QSize(round(40 * scale), round(40 * scale)))
        self.exit_button.setIconSize(QSize(round(28 * scale), round(28 * scale)))
        self.fit_columns()

    def fit_columns(self, width: int | None = None) -> None:
        """As many columns as tiles of TILE_WIDTH (grown with the text) fit, one to four."""
        tile = round(TILE_WIDTH * self.kiosk.scale)
        columns = max(1, min(4, ((width or self.width()) - 80) // tile))
        if columns != self._columns:
            self._columns = columns
            self._place_tiles()
