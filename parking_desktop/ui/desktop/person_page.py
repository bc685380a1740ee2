"""One person's page: a driver's summary figures, spend per month, booking history and the
activity timeline (with a type filter). Staff accounts show their activity only."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.roles import Role
from parking_desktop.services.parking.activity import KNOWN_TYPES
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.privacy.preferences import MailPreferencesView
from parking_desktop.services.views import (
    ActivityView,
    DriverSummary,
    Page,
    ReservationView,
    UserView,
)
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.widgets import (
    Card,
    ColumnFitter,
    FigureTile,
    configure_table,
    tool_button,
)
from parking_desktop.ui.desktop import charts
from parking_desktop.ui.desktop.models import ActivityModel, ReservationsModel
from parking_desktop.ui.desktop.screen import Screen

DRIVER_TILES = [("bookings", "Bookings", "blue"), ("spent", "Total spent", "green"),
                ("hours", "Hours parked", "amber"), ("lot", "Most used lot", "violet")]


class PersonPage(QWidget):
    """Lives inside the People screen and uses its busy bar and banner (``screen.call``)."""

    back = Signal()

    def __init__(self, screen: Screen, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.owner = screen
        self.session = screen.session
        self.user: UserView | None = None
        self.summary: DriverSummary | None = None
        self.loads = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        # The People screen puts this button in its header while the page is shown.
        self.back_button = tool_button("Back to people", "back", self)
        self.back_button.setToolTip("Back to the list (Esc)")
        self.back_button.clicked.connect(self.back)
        self.back_button.hide()

        self.driver_part = QWidget(self)
        tiles = QHBoxLayout(self.driver_part)
        tiles.setContentsMargins(0, 0, 0, 0)
        tiles.setSpacing(12)
        self.tiles: dict[str, FigureTile] = {}
        for key, caption, accent in DRIVER_TILES:
            self.tiles[key] = FigureTile(caption, accent, self.driver_part)
            tiles.addWidget(self.tiles[key])
        # The driver's mail preferences (managers only: the service refuses anyone else).
        self.mail_card = Card("E-mails", self.driver_part)
        self.reminders_box = QCheckBox("Daily reminders", self.mail_card)
        self.reports_box = QCheckBox("Monthly reports", self.mail_card)
        self.mail_note = QLabel("", self.mail_card)
        self.mail_note.setObjectName("hint")
        self.mail_note.setWordWrap(True)
        for box, kind in ((self.reminders_box, "reminders"), (self.reports_box, "reports")):
            box.setAccessibleName(f"{box.text()} e-mails")
            box.clicked.connect(lambda checked, k=kind: self.set_mail(k, checked))
            self.mail_card.content.addWidget(box)
        self.mail_card.content.addWidget(self.mail_note)
        tiles.addWidget(self.mail_card)
        layout.addWidget(self.driver_part)

        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(14)
        self.spend_card = Card("Spend per month, last 12 months", self)
        self.spend_chart = charts.chart_view("Spend per month chart", self.spend_card)
        self.spend_card.content.addWidget(self.spend_chart)
        self.history_card = Card("Booking history", self)
        self.history_model = ReservationsModel(self.session.tz, self, page_size=100)
        self.history_model.failed.connect(screen.show_error)
        self.history = QTableView(self.history_card)
        self.history.setModel(self.history_model)
        configure_table(self.history, "Booking history", sortable=False)
        self.history.horizontalHeader().setSortIndicator(self.history_model.sort_column,
                                                         self.history_model.sort_order)
        self.history.setSortingEnabled(True)
        for column in (ReservationsModel.ID, ReservationsModel.DRIVER, ReservationsModel.PRICE):
            self.history.setColumnHidden(column, True)
        self.history_model.page_loaded.connect(self._history_loaded)
        self.history_fitter = ColumnFitter(self.history, ReservationsModel.LOT)
        self.history_card.content.addWidget(self.history)

        self.timeline_card = Card("Activity", self)
        self.type_box = QComboBox(self.timeline_card)
        self.type_box.setAccessibleName("Activity type")
        self.type_box.addItem("All activity", None)
        for kind in sorted(KNOWN_TYPES, key=fmt.activity_type):
            self.type_box.addItem(fmt.activity_type(kind), kind)
        self.type_box.activated.connect(lambda _i: self.load_activity())
        self.timeline_card.header.addWidget(self.type_box)
        self.timeline_model = ActivityModel(self.session.tz, self, page_size=100)
        self.timeline_model.failed.connect(screen.show_error)
        self.timeline_model.page_loaded.connect(self._timeline_loaded)
        self.timeline = QTableView(self.timeline_card)
        self.timeline.setModel(self.timeline_model)
        configure_table(self.timeline, "Activity timeline", sortable=False)
        self.timeline.setColumnHidden(ActivityModel.WHO, True)
        self.timeline_card.content.addWidget(self.timeline)
        grid.addWidget(self.spend_card, 0, 0)
        grid.addWidget(self.timeline_card, 0, 1)
        grid.addWidget(self.history_card, 1, 0, 1, 2)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        layout.addLayout(grid, 1)

    def show_user(self, user: UserView) -> None:
        self.user = user
        is_driver = user.role is Role.DRIVER
        for part in (self.driver_part, self.spend_card, self.history_card):
            part.setVisible(is_driver)
        for tile in self.tiles.values():
            tile.set_value("…")
        self.mail_card.setVisible(is_driver and self.session.actor.is_manager)
        for box in (self.reminders_box, self.reports_box):
            box.setEnabled(False)  # until the preferences arrive
        self.mail_note.setText("")
        self.reload()

    def reload(self) -> None:
        if self.user is None:
            return
        if self.user.role is Role.DRIVER:
            self.owner.call(self.session.app.stats.driver_summary, self.session.actor,
                             self.user.id, on_success=self._show_summary)
            search, actor = self.session.app.search, self.session.actor
            flt = ReservationFilter(user_id=self.user.id)

            def fetch(offset: int, limit: int, sort: str,
                      descending: bool) -> Page[ReservationView]:
                return search.reservations(actor, flt, sort=sort or "reserved_at",
                                           descending=descending, offset=offset, limit=limit)

            self.history_model.set_query(fetch)
            if self.mail_card.isVisibleTo(self):
                self.owner.call(self.session.app.mail_preferences.get, self.session.actor,
                                self.user.id, on_success=self._show_mail)
        self.load_activity()

    def set_mail(self, kind: str, on: bool) -> None:
        """A manager ticks or unticks one of the driver's e-mails; stored at once."""
        if self.user is None:
            return
        prefs, actor, user_id = self.session.app.mail_preferences, self.session.actor, \
            self.user.id
        box = self.reminders_box if kind == "reminders" else self.reports_box

        def save() -> MailPreferencesView:
            if kind == "reminders":
                return prefs.set(actor, user_id, reminders=on, source="desktop")
            return prefs.set(actor, user_id, reports=on, source="desktop")

        def refused(message: str) -> None:
            box.setChecked(not on)  # as stored: the change did not happen
            self.mail_note.setText(message)

        self.owner.call(save, on_success=self._show_mail, on_error=refused,
                        disable=[self.reminders_box, self.reports_box])

    def _show_mail(self, view: MailPreferencesView) -> None:
        self.reminders_box.setChecked(view.reminders)
        self.reports_box.setChecked(view.reports)
        for box in (self.reminders_box, self.reports_box):
            box.setEnabled(True)
        if view.updated_at is None:
            self.mail_note.setText("Both on (never changed).")
        else:
            when = fmt.date_time(view.updated_at, self.session.tz)
            how = {"kiosk": "by the driver at the kiosk", "request": "by an unsubscribe request",
                   "cli": "on the command line", "desktop": "here"}.get(view.source or "", "")
            self.mail_note.setText(f"Changed {how} on {when}.")

    def load_activity(self) -> None:
        if self.user is None:
            return
        history, actor, user_id = self.session.app.activity, self.session.actor, self.user.id
        kind = self.type_box.currentData()

        def fetch(offset: int, limit: int, _sort: str, _desc: bool) -> Page[ActivityView]:
            return history.history(actor, user_id=user_id, activity_type=kind, offset=offset,
                                   limit=limit)

        self.timeline_model.set_query(fetch)

    def _show_summary(self, summary: DriverSummary) -> None:
        self.summary = summary
        self.tiles["bookings"].set_value(fmt.count(summary.bookings), "not counting cancelled")
        self.tiles["spent"].set_value(fmt.money(summary.total_spent), "all completed stays")
        self.tiles["hours"].set_value(fmt.hours(summary.hours_parked), "time parked")
        self.tiles["lot"].set_value(summary.most_used_lot or "—", "")
        months = summary.spend_per_month
        labels = [_month_label(m) for m, _ in months]
        charts.set_bars(self.spend_chart, labels, [float(v) for _, v in months], "Spent",
                        charts.GREEN, "%.0f")
        self.loads += 1

    def _history_loaded(self) -> None:
        self.history_fitter.fit()

    def _timeline_loaded(self) -> None:
        self.timeline.resizeColumnsToContents()
        self.timeline.horizontalHeader().setSectionResizeMode(ActivityModel.DETAILS,
                                                              QHeaderView.ResizeMode.Stretch)
        if self.user is not None and self.user.role is not Role.DRIVER:
            self.loads += 1

    def shutdown(self) -> None:
        self.history_model.discard()
        self.timeline_model.discard()


def _month_label(month: str) -> str:
    """'2026-03' -> 'Mar' (twelve consecutive months never repeat a name)."""
    from datetime import date

    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1).strftime("%b")
