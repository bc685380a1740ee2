"""Occupancy per lot as a list of bars: the lot's name (elided, whole in the tooltip), a bar of
its percent full and the percent. As many lots as the height holds, fullest first; the rest
fold into one "N other lots" row. Drawn by hand so every label is measured, never clipped."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from parking_desktop.services.views import LotOccupancy
from parking_desktop.ui.desktop.occupancy import FULL_THRESHOLD, OccupancyRow, occupancy_rows

BAR, FULL, TRACK, TEXT, MUTED = "#3b82f6", "#dc2626", "#eef2f7", "#0f172a", "#64748b"


class OccupancyBars(QWidget):
    def __init__(self, parent: QWidget | None = None, *,
                 threshold: float = FULL_THRESHOLD) -> None:
        super().__init__(parent)
        self.setAccessibleName("Occupancy per lot chart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.threshold = threshold
        self.lots: list[LotOccupancy] = []
        self.rows: list[OccupancyRow] = []
        self.setMouseTracking(True)

    # --- data -----------------------------------------------------------------------------
    def set_lots(self, lots: Sequence[LotOccupancy]) -> None:
        self.lots = list(lots)
        self._arrange()

    def row_height(self) -> int:
        return self.fontMetrics().height() + 10

    def capacity(self) -> int:
        """Rows that fit the height under the legend line."""
        return max(2, (self.height() - self.row_height()) // self.row_height())

    def _arrange(self) -> None:
        self.rows = occupancy_rows(self.lots, self.capacity(), self.threshold)
        full = sum(1 for lot_row in self.rows if lot_row.full)
        self.setAccessibleDescription(
            "; ".join(f"{r.label} {r.percent:.0f} %" for r in self.rows)
            + (f". {full} at or over {self.threshold:.0f} %." if full else ""))
        self.update()

    # --- geometry --------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(360, self.row_height() * (max(len(self.lots), 3) + 1))

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.row_height() * 4)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if len(self.rows) != min(self.capacity(), max(len(self.lots), 2)):
            self._arrange()

    def columns(self) -> tuple[QRect, QRect, QRect]:
        """Where the name, the bar and the percent go on a row at y = 0."""
        metrics = self.fontMetrics()
        height = self.row_height()
        percent_width = metrics.horizontalAdvance("100 %") + 8
        name_width = max(90, min(int(self.width() * 0.42), 240))
        bar_width = max(20, self.width() - name_width - percent_width - 16)
        return (QRect(0, 0, name_width, height),
                QRect(name_width + 8, 4, bar_width, height - 8),
                QRect(self.width() - percent_width, 0, percent_width, height))

    def shown_label(self, row: OccupancyRow) -> str:
        name_rect = self.columns()[0]
        return self.fontMetrics().elidedText(row.label, Qt.TextElideMode.ElideRight,
                                             name_rect.width() - 4)

    # --- drawing ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        name_rect, bar_rect, percent_rect = self.columns()
        height = self.row_height()
        for index, row in enumerate(self.rows):
            dy = index * height
            painter.setPen(QColor(MUTED if row.lots > 1 else TEXT))
            painter.drawText(name_rect.translated(0, dy).adjusted(0, 0, -4, 0),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             self.shown_label(row))
            track = bar_rect.translated(0, dy)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(TRACK))
            painter.drawRoundedRect(track, 3, 3)
            filled = QRect(track)
            filled.setWidth(round(track.width() * min(row.percent, 100.0) / 100))
            painter.setBrush(QColor(FULL if row.full else BAR))
            if filled.width() > 0:
                painter.drawRoundedRect(filled, 3, 3)
            painter.setPen(QColor(FULL if row.full else TEXT))
            painter.drawText(percent_rect.translated(0, dy),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             f"{row.percent:.0f} %")
        painter.setPen(QColor(MUTED))
        legend = QRect(0, len(self.rows) * height, self.width(), height)
        painter.drawText(legend, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         self.fontMetrics().elidedText(
                             f"Red: {self.threshold:.0f} % full or more · fullest first",
                             Qt.TextElideMode.ElideRight, self.width()))
        painter.end()

    def event(self, event: object) -> bool:
        if isinstance(event, QHelpEvent):
            index = event.pos().y() // self.row_height()
            if 0 <= index < len(self.rows):
                row = self.rows[index]
                QToolTip.showText(event.globalPos(), f"{row.label}: {row.percent:.1f} % full",
                                  self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)  # type: ignore[arg-type]
