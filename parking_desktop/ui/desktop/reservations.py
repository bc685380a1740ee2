"""Reservations: search by vehicle, driver, lot, dates and status; sorted by the database and
fetched a page at a time as you scroll, so a million rows never freeze the window."""

from __future__ import annotations

import itertools
from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QTableView, QWidget

from parking_desktop.domain.errors import ValidationError
from parking_desktop.services.parking.search import STATUSES, ReservationFilter
from parking_desktop.services.views import LotView, Page, ReservationView, ResultCount
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.common.widgets import ColumnFitter, configure_table, tool_button
from parking_desktop.ui.desktop.filters import OptionalDate, date_bounds
from parking_desktop.ui.desktop.models import ReservationsModel, reservation_floors
from parking_desktop.ui.desktop.reservation_detail import ReservationDetail
from parking_desktop.ui.desktop.screen import Screen, SignedIn


class ReservationsScreen(Screen):
    TITLE = "Reservations"
    SUBTITLE = "Every booking, past and present"
    TOPICS = frozenset({"reservations", "lots"})

    def __init__(self, session: SignedIn, parent: QWidget | None = None,
                 *, page_size: int = 200) -> None:
        super().__init__(session, parent)
        self.filter = ReservationFilter()
        today = session.now().astimezone(session.tz).date()
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        self.vehicle = QLineEdit(self)
        self.vehicle.setPlaceholderText("Vehicle number")
        self.vehicle.setAccessibleName("Vehicle number")
        self.vehicle.setClearButtonEnabled(True)
        self.driver = QLineEdit(self)
        self.driver.setPlaceholderText("Driver username or e-mail")
        self.driver.setAccessibleName("Driver")
        self.driver.setClearButtonEnabled(True)
        self.lot = QComboBox(self)
        self.lot.setAccessibleName("Lot")
        self.lot.addItem("All lots", None)
        self.lot.setMinimumWidth(200)
        self.status = QComboBox(self)
        self.status.setAccessibleName("Status")
        self.status.addItem("Any status", None)
        for status in STATUSES:
            self.status.addItem(fmt.status(status), status)
        self.since = OptionalDate("From", today - timedelta(days=30), self)
        self.until = OptionalDate("To", today, self)
        self.search_button = tool_button("Search", "search", self, primary=True)
        self.clear_button = tool_button("Clear", "refresh", self)
        self.details_button = tool_button("Details", "info", self,
                                          tooltip="The selected reservation, with its fee "
                                                  "line by line")
        self.details_button.clicked.connect(self.show_details)
        self.header_actions.addWidget(self.details_button)
        self.detail: ReservationDetail | None = None
        grid.addWidget(self.vehicle, 0, 0)
        grid.addWidget(self.driver, 0, 1)
        grid.addWidget(self.lot, 0, 2)
        grid.addWidget(self.status, 0, 3)
        grid.addWidget(self.since, 1, 0)
        grid.addWidget(self.until, 1, 1)
        grid.addWidget(self.search_button, 1, 2, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.clear_button, 1, 3, Qt.AlignmentFlag.AlignLeft)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        grid.setColumnStretch(3, 1)
        self.body.addLayout(grid)
        for edit in (self.vehicle, self.driver):
            edit.returnPressed.connect(self.search)
        self.lot.activated.connect(lambda _i: self.search())
        self.status.activated.connect(lambda _i: self.search())
        self.since.changed.connect(self.search)
        self.until.changed.connect(self.search)
        self.search_button.clicked.connect(self.search)
        self.clear_button.clicked.connect(self.clear_filters)

        self.model = ReservationsModel(session.tz, self, page_size=page_size)
        self.model.failed.connect(self.show_error)
        self.model.loading_changed.connect(self._loading)
        self.model.total_changed.connect(lambda _t: self._update_footer())
        self.model.rowsInserted.connect(lambda *_: self._update_footer())
        self.model.page_loaded.connect(self._first_page)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        configure_table(self.table, "Reservations", sortable=False)
        # Indicator first, then sorting on: enabling sorts by the indicator (the default order).
        self.table.horizontalHeader().setSortIndicator(self.model.sort_column,
                                                       self.model.sort_order)
        self.table.setSortingEnabled(True)
        self.fitter = ColumnFitter(
            self.table, ReservationsModel.LOT, 110, shrink=[ReservationsModel.DRIVER],
            optional=[ReservationsModel.PRICE, ReservationsModel.ID, ReservationsModel.PARKED],
            floors=reservation_floors(session.tz, session.now()))
        self.table.activated.connect(lambda _index: self.show_details())
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: set_enabled(self.details_button, self.table.selectionModel().hasSelection()))
        set_enabled(self.details_button, False)
        self.body.addWidget(self.table, 1)
        self.footer = QLabel("", self)
        self.footer.setObjectName("tableFooter")
        self.footer.setAccessibleName("Result count")
        self.body.addWidget(self.footer)
        order = [self.vehicle, self.driver, self.lot, self.status, self.since.check,
                 self.since.edit, self.until.check, self.until.edit, self.search_button,
                 self.clear_button, self.table]
        for first, second in itertools.pairwise(order):
            self.setTabOrder(first, second)

    def show_details(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        detail = self.detail = ReservationDetail(self.session, self.model.row_at(rows[0].row()),
                                                 self)
        detail.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        detail.finished.connect(lambda _r: setattr(self, "detail", None))
        detail.open()

    # --- loading --------------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        self.call(self.app.lots.search, include_archived=True, on_success=self._show_lots)
        self.search()

    def _show_lots(self, lots: list[LotView]) -> None:
        current = self.lot.currentData()
        self.lot.blockSignals(True)
        self.lot.clear()
        self.lot.addItem("All lots", None)
        for lot in lots:
            suffix = " (archived)" if lot.archived_at else ""
            self.lot.addItem(lot.name + suffix, lot.id)
        self.lot.setCurrentIndex(max(0, self.lot.findData(current)))
        self.lot.blockSignals(False)

    def current_filter(self) -> ReservationFilter:
        since, until = date_bounds(self.since.value(), self.until.value(), self.session.tz)
        return ReservationFilter(
            vehicle=self.vehicle.text().strip(), driver=self.driver.text().strip(),
            lot_id=self.lot.currentData(), status=self.status.currentData(),
            since=since, until=until)

    def search(self) -> None:
        flt = self.current_filter()
        if flt.since and flt.until and flt.since >= flt.until:
            self.show_error(str(ValidationError("The start date must be before the end date.")))
            return
        self.banner.clear()
        self.filter = flt
        search, actor = self.app.search, self.actor

        def fetch(offset: int, limit: int, sort: str, descending: bool) -> Page[ReservationView]:
            return search.reservations(actor, flt, sort=sort or "reserved_at",
                                       descending=descending, offset=offset, limit=limit,
                                       with_total=False)

        def count() -> ResultCount:  # exact up to a cap, then "more than" / "about"
            return search.count(actor, flt)

        self.model.set_query(fetch, count)

    def clear_filters(self) -> None:
        for edit in (self.vehicle, self.driver):
            edit.clear()
        self.lot.setCurrentIndex(0)
        self.status.setCurrentIndex(0)
        for bound in (self.since, self.until):
            bound.blockSignals(True)
            bound.set_value(None)
            bound.blockSignals(False)
        self.search()

    def _loading(self, loading: bool) -> None:
        (self.busy.push if loading else self.busy.pop)()
        self._update_footer()  # a bounded count becomes exact once every row is loaded

    def _first_page(self) -> None:
        # Each new search is measured again (its rows may be longer); scrolled-in pages of
        # the same search keep the widths.
        if self.model.rowCount() <= self.model.page_size:
            self.fitter.fit()
        self.loaded()

    def _update_footer(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        counted = self.model.count_result
        if total < 0:
            text = f"Showing {fmt.count(shown)} reservations · counting…"
        elif total == 0:
            text = "No reservations match these filters."
        elif (isinstance(counted, ResultCount) and counted.kind != "exact"
              and (self.model.loading or self.model.canFetchMore())):
            text = (f"Showing {fmt.count(shown)} of {fmt.result_count(counted)} reservations · "
                    "scroll down to load more")
        elif isinstance(counted, ResultCount) and counted.kind != "exact":  # all rows loaded
            text = f"{fmt.count(shown)} reservation{'s' if shown != 1 else ''}"
        elif shown < total:
            text = (f"Showing {fmt.count(shown)} of {fmt.count(total)} reservations · "
                    "scroll down to load more")
        else:
            text = f"{fmt.count(total)} reservation{'s' if total != 1 else ''}"
        self.footer.setText(text)

    def shutdown(self) -> None:
        self.model.discard()
        super().shutdown()

