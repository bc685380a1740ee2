"""Choosing a parking lot by touch or keyboard: one big toggle button per lot showing its free
spots and price. Arrow keys move between lots, Space or Enter chooses; full lots are disabled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.services.views import LotView
from parking_desktop.ui.common.formatting import price_per_hour
from parking_desktop.ui.kiosk.widgets import KioskButton, label, tab_chain

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.screen import KioskScreen

MAX_ROWS = 3
EMPTY = "No parking lot is open. Ask a manager to create one."


class LotButton(KioskButton):
    def __init__(self, lot: LotView, parent: QWidget | None = None) -> None:
        super().__init__("", parent, kind="choice")
        self.setObjectName("lotChoice")
        self.setCheckable(True)
        self.lot = lot
        self.update_lot(lot)

    def update_lot(self, lot: LotView) -> None:
        self.lot = lot
        free = f"{lot.free} free" if lot.free else "Full"
        # "&" would make a keyboard mnemonic ("Park & Ride"): double it to show it.
        name = lot.name.replace("&", "&&")
        self.setText(f"{name}\n{free}  ·  {price_per_hour(lot.price_per_hour)}")
        self.setAccessibleName(
            f"Lot {lot.name}: " + (f"{lot.free} free spots" if lot.free else "full")
            + f", {price_per_hour(lot.price_per_hour)}"
        )
        self.setEnabled(lot.free > 0)


class LotPicker(QWidget):
    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, columns: int = 3) -> None:
        super().__init__(parent)
        self.setAccessibleName("Parking lots")
        self._columns = columns
        self._buttons: dict[int, LotButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._group.buttonToggled.connect(lambda *_: self.selection_changed.emit())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._scroll = QScrollArea(self)
        self._scroll.setObjectName("lotScroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._inner = QWidget()
        self._inner.setObjectName("lotGrid")
        self._grid = QGridLayout(self._inner)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(14)
        self._scroll.setWidget(self._inner)
        outer.addWidget(self._scroll)
        self.empty_label = label("", "caption", self, wrap=True)
        self.empty_label.hide()
        outer.addWidget(self.empty_label)

    def lots(self) -> list[LotView]:
        return [button.lot for button in self._buttons.values()]

    def buttons(self) -> list[LotButton]:
        return list(self._buttons.values())

    def set_lots(self, lots: list[LotView]) -> None:
        """Show these lots; keep the current choice if it is still possible, otherwise choose
        the first lot with a free spot."""
        previous = self.selected()
        same = [lot.id for lot in lots] == list(self._buttons)
        if same:
            for lot in lots:
                self._buttons[lot.id].update_lot(lot)
        else:
            for button in self._buttons.values():
                self._group.removeButton(button)
                button.deleteLater()
            self._buttons = {}
            for index, lot in enumerate(lots):
                button = LotButton(lot, self._inner)
                self._group.addButton(button)
                self._grid.addWidget(button, index // self._columns, index % self._columns)
                self._buttons[lot.id] = button
            for column in range(self._columns):
                self._grid.setColumnStretch(column, 1)
        self.empty_label.setText(EMPTY)
        self.empty_label.setVisible(not lots)
        self._scroll.setVisible(bool(lots))
        self._fit_height()
        keep = previous.id if previous is not None else None
        if keep is not None and keep in self._buttons and self._buttons[keep].lot.free > 0:
            self._buttons[keep].setChecked(True)
        else:
            self._choose_first_free()

    def _fit_height(self) -> None:
        """Room for up to three rows of lots without scrolling (more rows scroll)."""
        buttons = list(self._buttons.values())
        if not buttons:
            return
        buttons[0].ensurePolished()
        row_height = buttons[0].sizeHint().height()
        rows = max(1, min(MAX_ROWS, (len(buttons) + self._columns - 1) // self._columns))
        self._scroll.setMinimumHeight(rows * row_height + (rows - 1) * self._grid.spacing())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_height()  # the kiosk's text size may have changed while hidden

    def chain_tab_order(self, *after: QWidget) -> None:
        """Put the lots, then ``after`` (the rest of the form, in order), in the tab chain:
        buttons made later would otherwise sit at the end of the window's chain. (Qt moves
        each second widget of setTabOrder, hence the whole rest of the form is given.)"""
        tab_chain(*self._buttons.values(), *after)

    def selected(self) -> LotView | None:
        button = self._group.checkedButton()
        return button.lot if isinstance(button, LotButton) else None

    def select(self, lot_id: int) -> None:
        if lot_id in self._buttons and self._buttons[lot_id].lot.free > 0:
            self._buttons[lot_id].setChecked(True)

    def focus_target(self) -> QWidget | None:
        """The chosen lot's button, so the keyboard starts there."""
        button = self._group.checkedButton()
        return button if button is not None else next(iter(self._buttons.values()), None)

    def clear(self) -> None:
        self.set_lots([])

    def set_loading(self) -> None:
        """Until the lots first arrive, a word to say why there is nothing to choose."""
        if not self._buttons:
            self.empty_label.setText("Loading the lots…")
            self.empty_label.show()
            self._scroll.hide()

    def _choose_first_free(self) -> None:
        checked = self._group.checkedButton()
        if checked is not None:
            # An exclusive group cannot be emptied directly; a full lot must not stay chosen.
            self._group.setExclusive(False)
            checked.setChecked(False)
            self._group.setExclusive(True)
        for button in self._buttons.values():
            if button.lot.free > 0:  # not isEnabled(): the whole picker may be disabled (busy)
                button.setChecked(True)
                return


def chosen_lot(screen: KioskScreen, picker: LotPicker, vehicle: QLineEdit,
               missing_vehicle: str) -> LotView | None:
    """The lot a form's action goes to, or None after saying in the window what is missing."""
    lot = picker.selected()
    if lot is None:
        screen.show_error("Choose a lot with a free spot.")
        return None
    if not vehicle.text():
        screen.show_error(missing_vehicle)
        vehicle.setFocus()
        return None
    return lot
