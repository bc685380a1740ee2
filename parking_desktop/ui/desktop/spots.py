"""Spots: the map of a chosen lot, and the details of a reserved or occupied spot with
force-release (a reason is required)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.states import SpotStatus
from parking_desktop.services.views import LotView, Receipt, SpotView
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.elide import elide
from parking_desktop.ui.common.widgets import Card, DetailGrid, tool_button
from parking_desktop.ui.desktop.screen import Screen, SignedIn
from parking_desktop.ui.desktop.spot_grid import SpotGrid, SpotModel

# A booking holds the spot: it shows who and since when, and can be force-released.
HELD = (SpotStatus.RESERVED, SpotStatus.OCCUPIED)
DETAILS = ["Vehicle", "Driver", "Since", "Price per hour", "Fee so far", "Reservation"]


class SpotsScreen(Screen):
    TITLE = "Spots"
    SUBTITLE = "Who is parked where, lot by lot"
    TOPICS = frozenset({"spots", "reservations", "lots"})
    AUTO_REFRESH_MS = 30_000  # fees grow and other kiosks check cars in
    LIVE_REFRESH_MS = 10_000

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.lots: list[LotView] = []
        self.spot_loads = 0
        self.refresh_button = tool_button("Refresh", "refresh", self, tooltip="Reload (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.header_actions.addWidget(self.refresh_button)

        bar = QHBoxLayout()
        bar.setSpacing(10)
        caption = QLabel("Lot", self)
        self.lot_box = QComboBox(self)
        self.lot_box.setAccessibleName("Lot")
        self.lot_box.setMinimumWidth(280)
        # Sized for a usual name; a longer one is elided rather than widen the window.
        self.lot_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.lot_box.setMinimumContentsLength(28)
        caption.setBuddy(self.lot_box)
        self.lot_box.currentIndexChanged.connect(self._lot_chosen)
        bar.addWidget(caption)
        bar.addWidget(self.lot_box)
        bar.addSpacing(16)
        self.legend: dict[SpotStatus, QLabel] = {}
        for status in SpotStatus:
            swatch = QFrame(self)
            swatch.setObjectName("legendSwatch")
            swatch.setProperty("status", status.value)  # the style sheet matches the text
            swatch.setFixedSize(14, 14)
            bar.addWidget(swatch)
            label = QLabel(fmt.SPOT_STATUS_LABELS[status], self)
            label.setAccessibleName(f"{fmt.SPOT_STATUS_LABELS[status]} spots")
            self.legend[status] = label
            bar.addWidget(label)
            bar.addSpacing(8)
        bar.addStretch(1)
        self.body.addLayout(bar)

        row = QHBoxLayout()
        row.setSpacing(14)
        self.model = SpotModel(self)
        self.grid = SpotGrid(self)
        self.grid.setModel(self.model)
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        row.addWidget(self.grid, 1)
        row.addWidget(self._build_details(), 0)
        self.body.addLayout(row, 1)
        self.setTabOrder(self.lot_box, self.grid)
        self.setTabOrder(self.grid, self.reason)
        self.setTabOrder(self.reason, self.release_button)
        self.show_spot(None)

    def _build_details(self) -> QWidget:
        card = Card("", self)
        card.setFixedWidth(340)
        layout = card.content
        head = QHBoxLayout()
        self.spot_title = QLabel("No spot selected", card)
        self.spot_title.setObjectName("sectionLabel")
        head.addWidget(self.spot_title, 1)
        self.status_pill = QLabel("", card)
        self.status_pill.setObjectName("statusPill")
        self.status_pill.setAccessibleName("Spot status")
        head.addWidget(self.status_pill)
        layout.addLayout(head)
        self.hint = QLabel("Select a spot on the map to see who is on it.", card)
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.details = DetailGrid(DETAILS, card)
        layout.addWidget(self.details)
        self.release_box = QWidget(card)
        box = QVBoxLayout(self.release_box)
        box.setContentsMargins(0, 12, 0, 0)
        box.setSpacing(6)
        label = QLabel("Reason for force-release", self.release_box)
        label.setObjectName("detailKey")
        box.addWidget(label)
        self.reason = QLineEdit(self.release_box)
        self.reason.setAccessibleName("Reason for force-release")
        self.reason.setPlaceholderText("e.g. vehicle towed, booking abandoned")
        self.reason.setMaxLength(500)
        self.reason.returnPressed.connect(self.force_release)
        self.reason.textEdited.connect(lambda _t: self._clear_reason_error())
        label.setBuddy(self.reason)
        box.addWidget(self.reason)
        self.reason_error = QLabel("", self.release_box)
        self.reason_error.setObjectName("fieldError")
        self.reason_error.setWordWrap(True)
        self.reason_error.hide()
        box.addWidget(self.reason_error)
        self.release_button = tool_button("Force release", "release-light", self.release_box,
                                          danger=True)
        self.release_button.clicked.connect(self.force_release)
        box.addWidget(self.release_button)
        layout.addWidget(self.release_box)
        layout.addStretch(1)
        return card

    # --- loading --------------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        # The lot list and the chosen lot's spots in ONE worker call: a second round trip
        # through the GUI thread (lots shown, then the spots asked for) cost more than the
        # spot query itself while the new screen was still being laid out and painted.
        wanted = self.current_lot_id()
        search, spots, actor = self.app.lots.search, self.app.parking.spots, self.actor

        def load() -> tuple[list[LotView], int | None, list[SpotView]]:
            lots = search()
            ids = [lot.id for lot in lots]
            lot_id = wanted if wanted in ids else (ids[0] if ids else None)
            return lots, lot_id, spots(actor, lot_id) if lot_id is not None else []

        self.call(load, on_success=self._show_all, disable=[self.refresh_button])

    def _show_all(self, loaded: tuple[list[LotView], int | None, list[SpotView]]) -> None:
        lots, lot_id, spots = loaded
        self._show_lots(lots)
        if lot_id is not None:
            self._show_spots(lot_id, spots)

    def _show_lots(self, lots: list[LotView]) -> None:
        self.lots = lots
        current = self.current_lot_id()
        self.lot_box.blockSignals(True)
        self.lot_box.clear()
        for lot in lots:
            self.lot_box.addItem(f"{elide(lot.name)}  ({fmt.count(lot.number_of_spots)} spots)",
                                 lot.id)
            self.lot_box.setItemData(self.lot_box.count() - 1, lot.name,
                                     Qt.ItemDataRole.ToolTipRole)
        index = self.lot_box.findData(current) if current is not None else 0
        self.lot_box.setCurrentIndex(max(0, index))
        self.lot_box.blockSignals(False)
        if not lots:
            self.model.set_rows([])
            self.show_spot(None)
            self.hint.setText("There are no lots yet: create one on the Lots screen.")
            self.loaded()

    def current_lot_id(self) -> int | None:
        data = self.lot_box.currentData()
        return int(data) if data is not None else None

    def select_lot(self, lot_id: int) -> None:
        index = self.lot_box.findData(lot_id)
        if index >= 0:
            self.lot_box.setCurrentIndex(index)

    def _lot_chosen(self, _index: int) -> None:
        self.banner.clear()  # a message about the previous lot no longer applies
        self.show_spot(None)
        self.load_spots()

    def load_spots(self) -> None:
        lot_id = self.current_lot_id()
        if lot_id is None:
            return
        self.call(self.app.parking.spots, self.actor, lot_id,
                  on_success=lambda spots: self._show_spots(lot_id, spots))

    def _show_spots(self, lot_id: int, spots: list[SpotView]) -> None:
        if lot_id != self.current_lot_id():
            return  # the user picked another lot meanwhile
        selected = self.selected_spot()
        self.model.set_rows(spots)
        counts = {status: sum(1 for s in spots if s.status == status) for status in SpotStatus}
        for status, label in self.legend.items():
            label.setText(f"{fmt.SPOT_STATUS_LABELS[status]} {fmt.count(counts[status])}")
        if selected is not None and (row := self.model.row_of(selected.id)) >= 0:
            self.grid.setCurrentIndex(self.model.index(row))
        else:
            self.show_spot(None)
        self.spot_loads += 1
        self.loaded()

    # --- details ---------------------------------------------------------------------------
    def selected_spot(self) -> SpotView | None:
        rows = self.grid.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select_spot(self, spot_id: int) -> None:
        row = self.model.row_of(spot_id)
        if row >= 0:
            self.grid.setCurrentIndex(self.model.index(row))

    def _selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self.show_spot(self.selected_spot())

    def show_spot(self, spot: SpotView | None) -> None:
        self._clear_reason_error()
        if spot is None:
            self.spot_title.setText("No spot selected")
            self.status_pill.hide()
            self.hint.setText("Select a spot on the map to see who is on it.")
            self.hint.show()
            self.details.hide()
            self.release_box.hide()
            return
        self.spot_title.setText(f"Spot {spot.number}")
        self.status_pill.setText(fmt.SPOT_STATUS_LABELS.get(spot.status, spot.status))
        self.status_pill.setProperty("status", spot.status)
        self.status_pill.style().unpolish(self.status_pill)
        self.status_pill.style().polish(self.status_pill)
        self.status_pill.show()
        busy = spot.status in HELD and spot.reservation_id is not None
        self.details.setVisible(busy)
        self.release_box.setVisible(busy)
        self.hint.setVisible(not busy)
        if not busy:
            self.hint.setText("This spot is free.")
            return
        tz, now = self.session.tz, self.session.now()
        self.details.set("Vehicle", spot.vehicle_number or "—")
        self.details.set("Driver", spot.driver or "walk-in")
        label = "Parked since" if spot.status == SpotStatus.OCCUPIED else "Reserved since"
        self.details.values["Since"].setAccessibleName(label)
        self.details.set("Since", fmt.since(spot.since, now, tz))
        self.details.set("Price per hour", fmt.price_per_hour(spot.price_per_hour))
        self.details.set("Fee so far", fmt.money(spot.fee_so_far) if spot.fee_so_far is not None
                         else "nothing yet (not parked)")
        self.details.set("Reservation", f"#{spot.reservation_id}")
        self.release_button.setText("Force release" if spot.status == SpotStatus.OCCUPIED
                                    else "Cancel booking")

    # --- force-release --------------------------------------------------------------------------
    def _clear_reason_error(self) -> None:
        self.reason_error.hide()
        self.reason.setProperty("invalid", False)
        self.reason.style().unpolish(self.reason)
        self.reason.style().polish(self.reason)

    def force_release(self) -> None:
        spot = self.selected_spot()
        if spot is None or spot.status not in HELD:
            return
        try:
            why = validation.reason(self.reason.text())
        except ValidationError as exc:
            self.reason_error.setText(str(exc))
            self.reason_error.show()
            self.reason.setProperty("invalid", True)
            self.reason.style().unpolish(self.reason)
            self.reason.style().polish(self.reason)
            self.reason.setFocus()
            return
        charge = (f" The driver is charged the fee so far ({fmt.money(spot.fee_so_far)})."
                  if spot.fee_so_far is not None else " The booking is cancelled without charge.")
        if not dialogs.confirm(self, "Force release",
                               f"Free spot {spot.number} ({spot.vehicle_number})?{charge}",
                               "Force release", destructive=True):
            return
        self.call(self.app.parking.force_release, self.actor, spot.id, why,
                  on_success=lambda receipt: self._released(spot, receipt),
                  on_error=self._release_failed, disable=[self.release_button])

    def _released(self, spot: SpotView, receipt: Receipt | None) -> None:
        self.reason.clear()
        if receipt is None:
            self.show_success(f"Spot {spot.number} is free again; the booking for "
                              f"{spot.vehicle_number} was cancelled.")
        else:
            self.show_success(f"Spot {spot.number} is free again; {receipt.vehicle_number} "
                              f"was charged {fmt.money(receipt.cost)} for "
                              f"{fmt.hours(receipt.hours)}.")
        self.load_spots()

    def _release_failed(self, message: str) -> None:
        self.show_error(message)
        self.load_spots()


