"""A driver's own history and summary. The service only ever returns the signed-in driver's
reservations (SearchService filters by the actor), fetched a page at a time off the GUI thread."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QScroller,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.views import DriverSummary, Page, ReservationView
from parking_desktop.ui.common.formatting import date_time, duration, hours, money, status
from parking_desktop.ui.common.table import Column, PagedTableModel
from parking_desktop.ui.kiosk.email_history import EmailHistoryButton
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import Card, KioskButton, label

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

PAGE_SIZE = 50
NARROW = 1200  # px: below this the Spot column is left out
# The widest text each fixed column usually holds.
SAMPLES = {0: "2026-12-31 23:59", 2: "P0000", 3: "WW000WWW", 4: "Completed",
           5: "23 h 59 min", 6: "10,000.00"}


def _stay(r: ReservationView) -> str:
    if r.parked_at is None:
        return "—"
    if r.left_at is None:
        return "parked now"
    return duration(r.left_at - r.parked_at)


class HistoryModel(PagedTableModel[ReservationView]):
    WHEN, LOT, SPOT, VEHICLE, STATUS, STAY, COST = range(7)

    def __init__(self, tz: tzinfo, parent: QObject | None = None) -> None:
        super().__init__(parent, page_size=PAGE_SIZE)
        self.tz = tz
        self.COLUMNS = [
            Column("Booked", lambda r: date_time(r.reserved_at, self.tz),
                   sort_value=lambda r: r.reserved_at, server_sort="reserved_at"),
            Column("Lot", lambda r: r.lot_name, server_sort="lot"),
            Column("Spot", lambda r: r.spot_number, server_sort="spot"),
            Column("Vehicle", lambda r: r.vehicle_number, server_sort="vehicle_number"),
            Column("Status", lambda r: status(r.status), server_sort="status"),
            Column("Stay", _stay),
            Column("Cost", lambda r: money(r.cost), numeric=True, server_sort="cost"),
        ]
        self.set_default_sort(self.WHEN, descending=True)


def fetch_history(app: App, actor: Actor, offset: int, limit: int, sort: str,
                  descending: bool) -> Page[ReservationView]:
    return app.search.reservations(actor, ReservationFilter(), sort=sort or "reserved_at",
                                   descending=descending, offset=offset, limit=limit)


class Figure(Card):
    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("figure")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 14, 24, 16)
        layout.setSpacing(2)
        layout.addWidget(label(caption, "caption", self))
        self.value = label("—", "figure", self)
        self.value.setAccessibleName(caption)
        layout.addWidget(self.value)


class HistoryScreen(KioskScreen):
    name = "history"
    title = "My history"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        row = QHBoxLayout()
        row.setSpacing(18)
        self.bookings = Figure("Bookings", self)
        self.spent = Figure("Total spent", self)
        self.hours = Figure("Hours parked", self)
        self.favourite = Figure("Most used lot", self)
        for figure, stretch in ((self.bookings, 1), (self.spent, 1), (self.hours, 1),
                                (self.favourite, 2)):
            row.addWidget(figure, stretch)
        self.body.addLayout(row)
        # Under the table, not in the header: at 1024 px the header has no room for it.
        self.email_button = EmailHistoryButton(self, self)  # the export feature's
        self.busy_widgets.append(self.email_button)
        self.model = HistoryModel(kiosk.app.settings.tz, self)
        self.model.failed.connect(self.show_error)
        self.model.loading_changed.connect(self._loading)
        self.table = QTableView(self)
        self.table.setObjectName("historyTable")
        self.table.setAccessibleName("My reservations")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(HistoryModel.WHEN, Qt.SortOrder.DescendingOrder)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setAccessibleName("Rows")
        self.table.horizontalHeader().setAccessibleName("Columns (choose one to sort)")
        self.table.setCornerButtonEnabled(False)
        corner = self.table.findChild(QAbstractButton, "qt_tableview_cornerbutton")
        if corner is not None:
            corner.setAccessibleName("Select all")
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._size_columns()
        QScroller.grabGesture(self.table.viewport(),
                              QScroller.ScrollerGestureType.TouchGesture)
        self.body.addWidget(self.table, 1)
        self.empty = label("No bookings yet.", "empty", self,
                           align=Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.body.addWidget(self.empty, 1)
        actions = QHBoxLayout()
        actions.addStretch(1)
        # The driver's e-mail choices (reminders, reports): next to the e-mail they ask for.
        self.mail_button = KioskButton(" My e-mail choices", self, kind="quiet",
                                       accessible="My e-mail choices")
        self.mail_button.setObjectName("mailChoices")
        self.mail_button.clicked.connect(lambda: self.kiosk.go("mail_prefs"))
        actions.addWidget(self.mail_button)
        actions.addWidget(self.email_button)
        self.body.addLayout(actions)
        self.model.page_loaded.connect(self._page_loaded)
        self.summary: DriverSummary | None = None

    def _size_columns(self) -> None:
        """Fixed widths from the kiosk font (the style sheet's, hence ensurePolished) and
        typical contents; the lot name takes the rest."""
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(HistoryModel.LOT, QHeaderView.ResizeMode.Stretch)
        self.table.ensurePolished()
        metrics = self.table.fontMetrics()
        for column, sample in SAMPLES.items():
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 26)
        # A narrow screen drops the spot number (the lot name matters more in a history).
        self.table.setColumnHidden(HistoryModel.SPOT, self.width() < NARROW)
        # Rows tall enough to hit with a finger.
        self.table.verticalHeader().setDefaultSectionSize(round(metrics.height() * 2.2))

    def rescale(self, scale: float) -> None:
        self._size_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._size_columns()

    def enter(self, **kwargs: Any) -> None:
        self.reset()
        self._size_columns()  # the font may have grown with the window
        app, actor = self.kiosk.app, self.kiosk.actor
        self.call(app.stats.driver_summary, actor, on_success=self._show_summary)
        self.model.set_query(lambda offset, limit, sort, descending: fetch_history(
            app, actor, offset, limit, sort, descending))

    def leave(self) -> None:
        self.model.discard()
        super().leave()

    def reset(self) -> None:
        super().reset()
        self.model.discard()
        self.model.set_rows([])
        self.email_button.ready()
        self.summary = None
        for figure in (self.bookings, self.spent, self.hours, self.favourite):
            figure.value.setText("—")
        self.empty.hide()
        self.table.show()

    def back(self) -> None:
        self.kiosk.go("driver")

    def first_focus(self) -> QWidget | None:
        return self.table

    def _show_summary(self, summary: DriverSummary) -> None:
        self.summary = summary
        self.bookings.value.setText(str(summary.bookings))
        self.spent.value.setText(money(summary.total_spent))
        self.hours.value.setText(hours(summary.hours_parked))
        self.favourite.value.setText(summary.most_used_lot or "—")

    def _page_loaded(self) -> None:
        empty = self.model.rowCount() == 0
        self.empty.setVisible(empty)
        self.table.setVisible(not empty)

    def _loading(self, loading: bool) -> None:
        self.busy_label.setVisible(loading or self.busy)
