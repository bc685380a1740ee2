"""The spot map: one tile per spot, coloured by status, drawn by a delegate so a lot of 5000
spots stays light (a list view in icon mode, not 5000 buttons)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from parking_desktop.domain.states import SpotStatus
from parking_desktop.services.views import SpotView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import ROW_ROLE

Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()

# status -> (fill, border, text)
COLOURS: dict[str, tuple[str, str, str]] = {
    SpotStatus.AVAILABLE: ("#dcfce7", "#4ade80", "#166534"),
    SpotStatus.RESERVED: ("#fef3c7", "#fbbf24", "#92400e"),
    SpotStatus.OCCUPIED: ("#fee2e2", "#f87171", "#991b1b"),
}
TILE = QSize(84, 56)


class SpotModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._spots: list[SpotView] = []

    def set_rows(self, spots: list[SpotView]) -> None:
        self.beginResetModel()
        self._spots = list(spots)
        self.endResetModel()

    def rows(self) -> list[SpotView]:
        return list(self._spots)

    def row_at(self, row: int) -> SpotView:
        return self._spots[row]

    def row_of(self, spot_id: int) -> int:
        return next((i for i, s in enumerate(self._spots) if s.id == spot_id), -1)

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._spots)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._spots):
            return None
        spot = self._spots[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return spot.number
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            text = f"{spot.number}: {fmt.SPOT_STATUS_LABELS.get(spot.status, spot.status)}"
            if spot.vehicle_number:
                text += f", {spot.vehicle_number}"
            return text
        if role == ROW_ROLE:
            return spot
        return None


class SpotDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        spot: SpotView | None = index.data(ROW_ROLE)
        if spot is None:
            return
        fill, border, text = COLOURS.get(spot.status, ("#f1f5f9", "#cbd5e1", "#334155"))
        rect = QRect(option.rect).adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(fill))
        painter.setPen(QPen(QColor("#2563eb" if selected else border), 3 if selected else 1))
        painter.drawRoundedRect(rect, 7, 7)
        if focused and not selected:
            painter.setPen(QPen(QColor("#2563eb"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 5, 5)
        font = QFont(option.font)
        font.setBold(True)
        font.setPointSizeF(10.5)
        painter.setFont(font)
        painter.setPen(QColor(text))
        top = QRect(rect.left(), rect.top() + 6, rect.width(), rect.height() // 2 - 4)
        painter.drawText(top, Qt.AlignmentFlag.AlignCenter, spot.number)
        small = QFont(option.font)
        small.setPointSizeF(7.5)
        painter.setFont(small)
        bottom = QRect(rect.left() + 2, rect.center().y() + 2, rect.width() - 4,
                       rect.height() // 2 - 6)
        caption = spot.vehicle_number or "free"
        painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter,
                         painter.fontMetrics().elidedText(caption, Qt.TextElideMode.ElideRight,
                                                          bottom.width()))
        painter.restore()


class SpotGrid(QListView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("spotGrid")
        self.setAccessibleName("Spot map")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setGridSize(QSize(TILE.width() + 4, TILE.height() + 4))
        self.setSpacing(0)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setItemDelegate(SpotDelegate(self))
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
