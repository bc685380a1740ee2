"""Dashboard: key figures, charts and the latest reservations (StatsService.dashboard)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.services.views import DashboardStats
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.widgets import (
    Card,
    ColumnFitter,
    FigureTile,
    configure_table,
    tool_button,
)
from parking_desktop.ui.desktop import charts
from parking_desktop.ui.desktop.models import RecentReservationsModel
from parking_desktop.ui.desktop.occupancy_view import OccupancyBars
from parking_desktop.ui.desktop.screen import Screen, SignedIn

TILES = [  # key, caption, accent
    ("lots", "Lots", "slate"),
    ("spots", "Spots", "slate"),
    ("available", "Free", "green"),
    ("reserved", "Reserved", "amber"),
    ("occupied", "Occupied", "red"),
    ("occupancy", "Occupancy", "blue"),
    ("drivers", "Drivers", "violet"),
    ("active", "Active reservations", "amber"),
    ("revenue_month", "Revenue this month", "green"),
    ("revenue_total", "Revenue in total", "blue"),
]


class DashboardScreen(Screen):
    TITLE = "Dashboard"
    SUBTITLE = "Today's picture of every lot"
    TOPICS = frozenset({"lots", "spots", "reservations", "users"})
    AUTO_REFRESH_MS = 60_000  # other desktops and kiosks write too
    LIVE_REFRESH_MS = 10_000

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.stats: DashboardStats | None = None
        self.refresh_button = tool_button("Refresh", "refresh", self, tooltip="Reload (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.header_actions.addWidget(self.refresh_button)

        # Everything scrolls vertically when the window is too low for it (1024x768), so
        # nothing is squeezed below its readable size.
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("dashboardScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget(self.scroll_area)
        content.setObjectName("dashboardContent")
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(14)
        self.scroll_area.setWidget(content)
        self.body.addWidget(self.scroll_area, 1)

        self.tile_grid = QGridLayout()
        self.tile_grid.setHorizontalSpacing(12)
        self.tile_grid.setVerticalSpacing(12)
        self.tiles: dict[str, FigureTile] = {}
        for key, caption, accent in TILES:
            self.tiles[key] = FigureTile(caption, accent, content)
        self._columns = 0
        self._place_tiles()
        column.addLayout(self.tile_grid)

        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(14)
        occupancy = Card("Occupancy per lot", content)
        self.occupancy_chart = OccupancyBars(occupancy)
        occupancy.content.addWidget(self.occupancy_chart)
        revenue = Card(f"Revenue per day ({fmt.site_currency()}), last 30 days", content)
        self.revenue_chart = charts.chart_view("Revenue per day chart", revenue)
        revenue.content.addWidget(self.revenue_chart)
        hours = Card("Bookings by hour of day, last 30 days", content)
        self.hours_chart = charts.chart_view("Bookings by hour chart", hours)
        hours.content.addWidget(self.hours_chart)
        recent = Card("Latest reservations", content)
        self.recent_model = RecentReservationsModel(session.tz, session.now, self)
        self.recent_table = QTableView(recent)
        self.recent_table.setModel(self.recent_model)
        configure_table(self.recent_table, "Latest reservations", sortable=False)
        self.recent_fitter = ColumnFitter(self.recent_table, RecentReservationsModel.WHERE, 100)
        recent.content.addWidget(self.recent_table)
        grid.addWidget(occupancy, 0, 0)
        grid.addWidget(revenue, 0, 1)
        grid.addWidget(hours, 1, 0)
        grid.addWidget(recent, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        column.addLayout(grid, 1)
        # Charts depend on their size (rows that fit, hour labels): redrawn after a resize.
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(120)
        self._redraw.timeout.connect(self._draw_charts)

    # --- layout that follows the width -----------------------------------------------------
    def _place_tiles(self) -> None:
        """As many tile columns as fit with every figure whole (5, else 4, 3 or 2)."""
        width = self.scroll_area.viewport().width() or self.width()
        widest = max(tile.minimumSizeHint().width() for tile in self.tiles.values())
        spacing = self.tile_grid.horizontalSpacing()
        columns = 5
        while columns > 2 and columns * widest + (columns - 1) * spacing > width:
            columns -= 1
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self.tiles.values():
            self.tile_grid.removeWidget(tile)
        for position, (key, _caption, _accent) in enumerate(TILES):
            self.tile_grid.addWidget(self.tiles[key], position // columns, position % columns)
        for index in range(5):
            self.tile_grid.setColumnStretch(index, 1 if index < columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_tiles()
        self._redraw.start()

    def refresh(self) -> None:
        super().refresh()
        self.call(self.app.stats.dashboard, self.actor, on_success=self.show_stats,
                  disable=[self.refresh_button])

    def show_stats(self, stats: DashboardStats) -> None:
        self.stats = stats
        self.banner.clear()
        t = self.tiles
        t["lots"].set_value(fmt.count(stats.lots), "active lots")
        t["spots"].set_value(fmt.count(stats.spots), "in all lots")
        t["available"].set_value(fmt.count(stats.available), "spots free now")
        t["reserved"].set_value(fmt.count(stats.reserved), "booked, not yet parked")
        t["occupied"].set_value(fmt.count(stats.occupied), "cars parked now")
        t["occupancy"].set_value(fmt.percent(stats.occupancy_pct), "reserved or occupied")
        t["drivers"].set_value(fmt.count(stats.drivers), "active accounts")
        t["active"].set_value(fmt.count(stats.reservations_active),
                              f"of {fmt.count(stats.reservations_total)} in total")
        t["revenue_month"].set_value(fmt.money(stats.revenue_month), "completed stays")
        t["revenue_total"].set_value(fmt.money(stats.revenue_total), "since the start")
        self._columns = 0  # figures changed width: place the tiles again
        self._place_tiles()
        self.occupancy_chart.set_lots(stats.per_lot)
        self._draw_charts()
        charts.set_revenue_per_day(self.revenue_chart, stats.revenue_per_day)
        self.recent_model.set_rows(stats.recent)
        self.recent_fitter.fit()
        self.loaded()

    def _draw_charts(self) -> None:
        if self.stats is None:
            return
        charts.set_hours(self.hours_chart, self.stats.bookings_by_hour)
