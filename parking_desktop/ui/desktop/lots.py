"""Lots: a searchable table; managers create, edit, resize and archive lots."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QTableView, QWidget

from parking_desktop.services.views import LotView
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.elide import elide
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.common.table import SORT_ROLE
from parking_desktop.ui.common.widgets import (
    ColumnFitter,
    SearchBox,
    configure_table,
    tool_button,
)
from parking_desktop.ui.desktop.lot_dialogs import LotDialog, ResizeDialog
from parking_desktop.ui.desktop.models import LotsModel
from parking_desktop.ui.desktop.screen import Screen, SignedIn
from parking_desktop.ui.desktop.tariffs.editor import TariffEditor

ARCHIVE_TIP = ("Archive the lot: it leaves the kiosks and the lists; its history, reports and "
               "exports keep its name")


def archive_refusal(lot: LotView) -> str:
    """Why a lot cannot be archived now, or "" when it can."""
    busy = []
    if lot.occupied:
        busy.append(f"{fmt.count(lot.occupied)} occupied")
    if lot.reserved:
        busy.append(f"{fmt.count(lot.reserved)} reserved")
    if not busy:
        return ""
    return (f"Cannot archive this lot now: it has {' and '.join(busy)} "
            f"spot{'s' if lot.occupied + lot.reserved != 1 else ''}. "
            "It can be archived once every spot is free.")


class LotsScreen(Screen):
    TITLE = "Lots"
    SUBTITLE = "Parking lots, their prices and how full they are"
    TOPICS = frozenset({"lots", "spots", "reservations"})
    LIVE_REFRESH_MS = 10_000  # SQLite: other processes' check-ins carry no notice

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.can_edit = session.actor.is_manager
        self.dialog: dialogs.ServiceDialog | None = None
        self.tariff_editor: TariffEditor | None = None
        self._select_after: int | None = None
        self._banner_lot: int | None = None  # the lot the banner's message is about
        if not self.can_edit:
            self.subtitle_label.setText("Parking lots and how full they are (only a manager "
                                        "can change them)")

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.search = SearchBox("Search by name, address or pin code", self)
        self.search.search.connect(lambda _text: self.refresh())
        bar.addWidget(self.search, 1)
        self.show_archived = QCheckBox("Show archived", self)
        self.show_archived.setAccessibleName("Show archived lots")
        self.show_archived.toggled.connect(lambda _on: self.refresh())
        bar.addWidget(self.show_archived)
        bar.addStretch(1)
        self.body.addLayout(bar)
        self.edit_button = tool_button("Edit", "edit", self)
        self.resize_button = tool_button("Resize", "resize", self)
        self.archive_button = tool_button("Archive", "archive", self, tooltip=ARCHIVE_TIP)
        # Managers only (the tariff service refuses anyone else too).
        self.tariff_button = tool_button("Tariff…", "calendar", self,
                                         tooltip="Time bands, increments, grace period, daily "
                                                 "maximum; what-if repricing")
        for button, slot in ((self.edit_button, self.edit_lot),
                             (self.tariff_button, self.edit_tariff),
                             (self.resize_button, self.resize_lot),
                             (self.archive_button, self.archive_lot)):
            button.clicked.connect(slot)
            button.setVisible(self.can_edit)
            self.header_actions.addWidget(button)
        self.new_button = tool_button("New lot", "add", self, primary=True)
        self.new_button.clicked.connect(self.create_lot)
        self.new_button.setVisible(self.can_edit)
        self.header_actions.addWidget(self.new_button)

        self.model = LotsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        configure_table(self.table, "Parking lots")
        self.table.sortByColumn(LotsModel.NAME, Qt.SortOrder.AscendingOrder)
        # Narrow window: the address, then long names, give up width, then the pin code and
        # the address (both in the edit dialog) go, so the counts stay in sight.
        self.fitter = ColumnFitter(self.table, LotsModel.ADDRESS, 120, shrink=[LotsModel.NAME],
                                   optional=[LotsModel.PIN, LotsModel.ADDRESS])
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_moved())
        self.table.activated.connect(self._activated)
        self.body.addWidget(self.table, 1)
        self.footer = QLabel("", self)
        self.footer.setObjectName("tableFooter")
        self.body.addWidget(self.footer)
        self.setTabOrder(self.search, self.show_archived)
        self.setTabOrder(self.show_archived, self.table)
        self._update_buttons()

    # --- loading --------------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        self.call(self.app.lots.search, self.search.text(),
                  include_archived=self.show_archived.isChecked(), on_success=self.show_lots)

    def show_lots(self, lots: list[LotView]) -> None:
        selected = self.selected_lot()
        target = self._select_after or (selected.id if selected is not None else None)
        self._select_after = None
        self.model.set_rows(lots)
        self.fitter.fit()
        if target is not None:
            self.select_lot(target)
        active = [lot for lot in lots if lot.archived_at is None]
        self.footer.setText(
            f"{fmt.count(len(lots))} lot{'s' if len(lots) != 1 else ''} · "
            f"{fmt.count(sum(lot.number_of_spots for lot in active))} spots · "
            f"{fmt.count(sum(lot.available for lot in active))} free now")
        self._update_buttons()
        self.loaded()

    # --- selection --------------------------------------------------------------------------
    def selected_lot(self) -> LotView | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.row_at(self.proxy.mapToSource(rows[0]).row())

    def select_lot(self, lot_id: int) -> None:
        for row, lot in enumerate(self.model.rows()):
            if lot.id == lot_id:
                self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())
                return

    def _selection_moved(self) -> None:
        lot = self.selected_lot()
        if lot is not None and lot.id != self._banner_lot:
            self.banner.clear()  # a message about another lot no longer applies
            self._banner_lot = lot.id
        self._update_buttons()

    def _update_buttons(self) -> None:
        lot = self.selected_lot()
        usable = lot is not None and lot.archived_at is None
        for button in (self.edit_button, self.resize_button, self.tariff_button):
            set_enabled(button, usable)
        refusal = archive_refusal(lot) if lot is not None and usable else ""
        set_enabled(self.archive_button, usable and not refusal)
        self.archive_button.setToolTip(refusal or ARCHIVE_TIP)
        self.archive_button.setAccessibleDescription(refusal)

    def _activated(self, _index: QModelIndex) -> None:
        if self.can_edit:
            self.edit_lot()

    # --- actions ---------------------------------------------------------------------------
    def create_lot(self) -> None:
        self._open(LotDialog(self.session, None, self), "Lot '{}' created.")

    def edit_lot(self) -> None:
        lot = self.selected_lot()
        if lot is not None and lot.archived_at is None:
            self._open(LotDialog(self.session, lot, self), "Lot '{}' saved.")

    def edit_tariff(self) -> None:
        lot = self.selected_lot()
        if lot is None or lot.archived_at is not None or not self.can_edit:
            return
        editor = self.tariff_editor = TariffEditor(self.session, lot, self)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.accepted.connect(lambda: self._tariff_saved(lot, editor.saved_version))
        editor.finished.connect(lambda _r: setattr(self, "tariff_editor", None))
        editor.open()

    def _tariff_saved(self, lot: LotView, number: int | None) -> None:
        self._banner_lot = self._select_after = lot.id
        self.show_success(f"Tariff of '{elide(lot.name)}' saved as version {number}.")
        self.refresh()

    def resize_lot(self) -> None:
        lot = self.selected_lot()
        if lot is not None and lot.archived_at is None:
            self._open(ResizeDialog(self.session, lot, self), "Lot '{}' now has {} spots.")

    def _open(self, dialog: dialogs.ServiceDialog, message: str) -> None:
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._saved(dialog.result_value, message))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        dialog.open()

    def _saved(self, lot: LotView, message: str) -> None:
        self.show_success(message.format(elide(lot.name), fmt.count(lot.number_of_spots)))
        self._banner_lot = self._select_after = lot.id
        self.refresh()

    def archive_lot(self) -> None:
        lot = self.selected_lot()
        if lot is None or lot.archived_at is not None or archive_refusal(lot):
            return
        if not dialogs.confirm(
                self, "Archive lot",
                f"Archive '{elide(lot.name)}'? It disappears from the kiosks and the lists; its "
                "history, reports and exports keep its name.", "Archive lot", destructive=True):
            return
        self._banner_lot = lot.id
        self.call(self.app.lots.archive, self.actor, lot.id, on_success=self._archived,
                  disable=[self.archive_button])

    def _archived(self, lot: LotView) -> None:
        self.show_success(f"Lot '{elide(lot.name)}' archived.")
        self.refresh()
