"""The bands as an editable table: days, start, end, price per hour, name, and a last column
with the row's problem (an unreadable time, a negative price…) next to the row it concerns."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from parking_desktop.ui.desktop.tariffs.draft import BAND_FIELDS, BandText

HEADERS = ("Days", "Start", "End", "Price / h", "Name", "Problem")
PROBLEM = len(BAND_FIELDS)
PROBLEM_COLOUR = QColor("#b91c1c")
BAD_CELL = QColor("#fee2e2")
MAX_ROWS_SHOWN = 7
NEW_BAND = BandText("Sat, Sun", "00:00", "24:00", "0.00", "weekend rate")


class BandsTable(QTableWidget):
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(HEADERS), parent)
        self.setAccessibleName("Time bands")
        self.setHorizontalHeaderLabels(list(HEADERS))
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        for column, width in enumerate((120, 64, 64, 80, 130)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(column, width)
        header.setSectionResizeMode(PROBLEM, QHeaderView.ResizeMode.Stretch)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._filling = False
        self.itemChanged.connect(self._changed)

    def set_bands(self, bands: Sequence[BandText]) -> None:
        self._filling = True
        self.setRowCount(0)
        for band in bands:
            self._append(band)
        self._filling = False
        self.edited.emit()

    def add_band(self) -> None:
        self._filling = True
        self._append(NEW_BAND)
        self._filling = False
        self.selectRow(self.rowCount() - 1)
        self.edited.emit()

    def remove_selected(self) -> None:
        rows = self.selectionModel().selectedRows()
        if rows:
            self.removeRow(rows[0].row())
            self.edited.emit()

    def _append(self, band: BandText) -> None:
        row = self.rowCount()
        self.insertRow(row)
        for column, key in enumerate(BAND_FIELDS):
            self.setItem(row, column, QTableWidgetItem(getattr(band, key)))
        problem = QTableWidgetItem("")
        problem.setFlags(Qt.ItemFlag.ItemIsEnabled)
        problem.setForeground(QBrush(PROBLEM_COLOUR))
        self.setItem(row, PROBLEM, problem)

    def bands(self) -> list[BandText]:
        return [
            BandText(*(self._text(row, column) for column in range(PROBLEM)))
            for row in range(self.rowCount())
        ]

    def _text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return "" if item is None else item.text()

    def show_problems(self, problems: dict[str, list[str]]) -> None:
        """Each row's problems in its Problem column; the cells concerned tinted."""
        self._filling = True
        for row in range(self.rowCount()):
            messages: list[str] = []
            for column, key in enumerate(BAND_FIELDS):
                found = problems.get(f"bands[{row}].{key}", [])
                item = self.item(row, column)
                if item is not None:
                    item.setBackground(QBrush(BAD_CELL) if found else QBrush())
                    item.setToolTip("\n".join(found))
                messages.extend(f"{HEADERS[column]}: {text}" for text in found)
            problem = self.item(row, PROBLEM)
            if problem is not None:
                problem.setText("; ".join(messages))
                problem.setToolTip("\n".join(messages))
        self._filling = False
        self.resizeRowsToContents()
        self.fit_height()

    def fit_height(self) -> None:
        """As tall as its rows (a few more than the usual three or four, then it scrolls), so
        the table leaves no empty band of space and the grid below stays in sight."""
        rows = sum(self.rowHeight(row) for row in range(min(self.rowCount(), MAX_ROWS_SHOWN)))
        if self.rowCount() < 2:
            rows += (2 - self.rowCount()) * self.verticalHeader().defaultSectionSize()
        frame = 2 * self.frameWidth()
        self.setFixedHeight(self.horizontalHeader().height() + rows + frame + 2)

    def problem_text(self, row: int) -> str:
        return self._text(row, PROBLEM)

    def _changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() != PROBLEM:
            self.edited.emit()
