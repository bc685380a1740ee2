"""The lines that explain a fee, under a quote or on the receipt: one row per line, its text
wrapped on the left and its amount on the right, so a driver can see why the fee is what it
is ("Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h … 7.00")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from parking_desktop.ui.kiosk.widgets import label

CAPTION = "How the fee is made"


class FeeBox(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("feeLines")
        self.setAccessibleName(CAPTION)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        self.caption = label(CAPTION, "infoKey", self)
        column.addWidget(self.caption)
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(28)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(0, 1)
        column.addLayout(self._grid)
        self.rows: list[tuple[str, str]] = []
        self.hide()

    def set_rows(self, rows: list[tuple[str, str]]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        self.rows = rows
        for index, (text, amount) in enumerate(rows):
            line = label(text, "infoKey", self, wrap=True)
            value = label(amount, "infoValue", self, align=Qt.AlignmentFlag.AlignRight)
            value.setAccessibleName(text)
            self._grid.addWidget(line, index, 0, Qt.AlignmentFlag.AlignVCenter)
            self._grid.addWidget(value, index, 1, Qt.AlignmentFlag.AlignVCenter)
        self.setVisible(bool(rows))

    def labels(self) -> list[QLabel]:
        return self.findChildren(QLabel)
