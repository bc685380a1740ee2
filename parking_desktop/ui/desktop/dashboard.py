"""Dashboard: key figures, charts and the latest reservations (StatsService.dashboard)."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QHeaderView, QTableView, QWidget

from parking_desktop.services.views import DashboardStats
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.widgets import Card, FigureTile, configure_table, tool_button
from parking_desktop.ui.desktop import charts
from parking_desktop.ui.desktop.models import RecentReservationsModel
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

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.stats: DashboardStats | None = None
        self.refresh_button = tool_button("Refresh", "refresh", self, tooltip="Reload (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.header_actions.addWidget(self.refresh_button)

        tiles = QGridLayout()
        tiles.setHorizontalSpacing(12)
        tiles.setVerticalSpacing(12)
        self.tiles: dict[str, FigureTile] = {}
        for position, (key, caption, accent) in enumerate(TILES):
            tile = FigureTile(caption, accent, self)
            self.tiles[key] = tile
            tiles.addWidget(tile, position // 5, position % 5)
        self.body.addLayout(tiles)

        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(14)
        occupancy = Card("Occupancy per lot", self)
        self.occupancy_chart = charts.chart_view("Occupancy per lot chart", occupancy)
        occupancy.content.addWidget(self.occupancy_chart)
        revenue = Card("Revenue per day, last 30 days", self)
        self.revenue_chart = charts.chart_view("Revenue per day chart", revenue)
        revenue.content.addWidget(self.revenue_chart)
        hours = Card("Bookings by hour of day, last 30 days", self)
        self.hours_chart = charts.chart_view("Bookings by hour chart", hours)
        hours.content.addWidget(self.hours_chart)
        recent = Card("Latest reservations", self)
        self.recent_model = RecentReservationsModel(session.tz, session.now, self)
        self.recent_table = QTableView(recent)
        self.recent_table.setModel(self.recent_model)
        configure_table(self.recent_table, "Latest reservations", sortable=False)
        recent.content.addWidget(self.recent_table)
        grid.addWidget(occupancy, 0, 0)
        grid.addWidget(revenue, 0, 1)
        grid.addWidget(hours, 1, 0)
        grid.addWidget(recent, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        self.body.addLayout(grid, 1)

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
        lots = stats.per_lot
        charts.set_occupancy(self.occupancy_chart, [p.name for p in lots],
                             [p.available for p in lots], [p.reserved for p in lots],
                             [p.occupied for p in lots])
        charts.set_revenue_per_day(self.revenue_chart, stats.revenue_per_day)
        charts.set_bars(self.hours_chart, [f"{h}" for h in range(24)], stats.bookings_by_hour,
                        "Bookings")
        self.recent_model.set_rows(stats.recent)
        self.recent_table.resizeColumnsToContents()
        header = self.recent_table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(RecentReservationsModel.WHERE, QHeaderView.ResizeMode.Stretch)
        self.loaded()
