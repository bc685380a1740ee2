"""A read-only picture of the week: one row per day, 24 hours across, each quarter hour in the
colour of the rate that covers it; a gap is hatched, an overlap red. It shows what the bands
table says at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from parking_desktop.domain.tariffs import DAY_NAMES, Band
from parking_desktop.domain.tariffs.validation import stretches

SLOTS_PER_DAY = 96  # quarter hours
PALETTE = ("#bfdbfe", "#1e3a8a", "#fde68a", "#bbf7d0", "#f5d0fe", "#fed7aa", "#99f6e4", "#c7d2fe")
OVERLAP = "#ef4444"
TEXT = QColor("#475569")
GAP = -1
CLASH = -2


def week_slots(bands: Sequence[Band]) -> tuple[list[list[int]], list[tuple[str, str]]]:
    """Per day, per quarter hour: the rate index covering it, GAP or CLASH; and the rates as
    (name, price) in order of first appearance."""
    rates: list[tuple[str, str]] = []
    rate_of: list[int] = []
    for band in bands:
        rate = (band.name, str(band.price_per_hour))
        if rate not in rates:
            rates.append(rate)
        rate_of.append(rates.index(rate))
    slots = [[GAP] * SLOTS_PER_DAY for _ in range(7)]
    for part in stretches(tuple(bands)):
        # A quarter hour belongs to the band covering its first minute.
        first, last = -(-part.start // 15), -(-part.end // 15)
        for slot in range(first, last):
            day, quarter = divmod(slot, SLOTS_PER_DAY)
            row = slots[day % 7]
            row[quarter] = rate_of[part.band] if row[quarter] == GAP else CLASH
    return slots, rates


class WeekGrid(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Week preview")
        self.setMinimumSize(360, 170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.slots: list[list[int]] = [[GAP] * SLOTS_PER_DAY for _ in range(7)]
        self.rates: list[tuple[str, str]] = []

    def set_bands(self, bands: Sequence[Band]) -> None:
        self.slots, self.rates = week_slots(bands)
        self.setToolTip("\n".join(f"{name}: {price}/h" for name, price in self.rates))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(560, 190)

    def colour(self, rate: int) -> QColor:
        if rate == CLASH:
            return QColor(OVERLAP)
        return QColor(PALETTE[rate % len(PALETTE)])

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        metrics = painter.fontMetrics()
        left = metrics.horizontalAdvance("Wed") + 8
        top = metrics.height() + 2
        legend_h = metrics.height() + 8
        width = self.width() - left - metrics.horizontalAdvance("24") // 2 - 2
        height = self.height() - top - legend_h - 2
        if width <= 0 or height <= 0:
            return
        row_h = height / 7
        slot_w = width / SLOTS_PER_DAY
        painter.setPen(TEXT)
        step = 3 if width >= 420 else 6
        for hour in range(0, 25, step):
            x = left + hour * 4 * slot_w
            label = f"{hour:02d}"
            painter.drawText(int(x - metrics.horizontalAdvance(label) / 2), metrics.ascent(), label)
        hatch = QBrush(QColor("#94a3b8"), Qt.BrushStyle.BDiagPattern)
        for day, row in enumerate(self.slots):
            y = top + day * row_h
            painter.setPen(TEXT)
            painter.drawText(0, int(y + row_h / 2 + metrics.ascent() / 2 - 1), DAY_NAMES[day])
            start = 0
            while start < SLOTS_PER_DAY:  # one rectangle per run of the same rate
                end = start
                while end < SLOTS_PER_DAY and row[end] == row[start]:
                    end += 1
                rect = QRectF(left + start * slot_w, y + 1, (end - start) * slot_w, row_h - 2)
                painter.setPen(Qt.PenStyle.NoPen)
                if row[start] == GAP:
                    painter.fillRect(rect, QColor("#ffffff"))
                    painter.fillRect(rect, hatch)
                else:
                    painter.fillRect(rect, self.colour(row[start]))
                start = end
        painter.setPen(QPen(QColor("#cbd5e1")))
        painter.drawRect(QRectF(left, top, width, height))
        x = float(left)
        y = self.height() - legend_h + 4
        for index, (name, price) in enumerate(self.rates):
            text = f"{name} {price}/h"
            painter.fillRect(QRectF(x, y + 2, 10, 10), self.colour(index))
            painter.setPen(TEXT)
            painter.drawText(int(x + 14), int(y + metrics.ascent()), text)
            x += 14 + metrics.horizontalAdvance(text) + 14
        if any(CLASH in row for row in self.slots):
            painter.fillRect(QRectF(x, y + 2, 10, 10), QColor(OVERLAP))
            painter.drawText(int(x + 14), int(y + metrics.ascent()), "overlap")
        painter.end()
