"""A label whose font size comes from its own size: the text fills the height it is given and is
never wider than the label (then it gets smaller, or, for names, is cut with "…").

The layout gives the label its room (stretch factors); the label never asks for room from its
text, so a bigger font never makes the layout grow, and a resize never loops."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

REFERENCE_PX = 100


def ink_span(metrics: QFontMetricsF, text: str, box: QRectF) -> tuple[float, float]:
    """Top and bottom of the glyphs of ``text`` when a QLabel centres its line vertically in
    ``box``: the line is ``metrics.height()`` tall, its baseline ``ascent()`` below its top."""
    baseline = box.center().y() - metrics.height() / 2 + metrics.ascent()
    ink = metrics.tightBoundingRect(text)
    return baseline + ink.top(), baseline + ink.bottom()


class FitLabel(QLabel):
    """``fill``: share of the height the text takes. ``ink``: size by the glyphs themselves
    (digits and capitals have no descenders, so a line's full height would waste a third of
    the room) instead of the font's line height; the label must then be centred vertically.
    ``sample``: text whose width the size is also chosen for (the widest figure the label
    will show), so that the figure does not jump in size when 9 becomes 10. ``elide``: a text
    that does not fit at ``min_share`` of the full size is cut with "…" rather than shrunk
    further (lot names)."""

    fitted = Signal(int)  # the new pixel size
    natural = Signal(int)  # the size it would take without ``cap_px``

    def __init__(self, text: str = "", parent: QWidget | None = None, *, fill: float = 0.9,
                 ink: bool = False, sample: str = "", elide: bool = False,
                 min_share: float = 0.5, bold: bool = True) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.fill = fill
        self.ink = ink
        self.sample = sample
        self.elide = elide
        self.min_share = min_share
        self.cap_px = 0  # when set, never bigger than this (a caption under a name)
        self.natural_px = 0
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(1, 1)
        self.setWordWrap(False)
        font = QFont(self.font())
        font.setBold(bold)
        self.setFont(font)
        self.setText(text)

    def setText(self, text: str) -> None:
        if text == self.full_text and self.text():
            return
        self.full_text = text
        self.setAccessibleName(text)
        self._fit()

    def set_cap(self, pixels: int) -> None:
        if pixels != self.cap_px:
            self.cap_px = pixels
            self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def width_for(self, height: float) -> float:
        """The width the text (or the sample, if wider) takes when it fills ``height``."""
        font = QFont(self.font())
        font.setPixelSize(REFERENCE_PX)
        metrics = QFontMetricsF(font)
        tall = self._tall(metrics)
        widest = max(metrics.horizontalAdvance(self.full_text),
                     metrics.horizontalAdvance(self.sample) if self.sample else 0.0)
        return widest * height * self.fill / max(tall, 1.0)

    def _tall(self, metrics: QFontMetricsF) -> float:
        return (metrics.tightBoundingRect(self.full_text + self.sample).height() if self.ink
                else metrics.height())

    def pixel_size(self) -> int:
        return self.font().pixelSize()

    def fits(self, font: QFont, shown: str) -> bool:
        """Is ``shown`` in ``font`` wholly inside the label (width, and height or glyphs)?"""
        box = QRectF(self.contentsRect())
        metrics = QFontMetricsF(font)
        if metrics.horizontalAdvance(shown) > box.width():
            return False
        if self.ink:
            top, bottom = ink_span(metrics, shown, box)
            return box.top() <= top and bottom <= box.bottom()
        return metrics.height() <= box.height()

    def _fit(self) -> None:
        rect = self.contentsRect()
        text = self.full_text
        if not text or rect.width() < 2 or rect.height() < 2:
            super().setText(text)
            return
        font = QFont(self.font())
        font.setPixelSize(REFERENCE_PX)
        metrics = QFontMetricsF(font)
        widest = max(metrics.horizontalAdvance(text),
                     metrics.horizontalAdvance(self.sample) if self.sample else 0.0, 1.0)
        by_height = rect.height() * self.fill / max(self._tall(metrics), 1.0) * REFERENCE_PX
        by_width = rect.width() * 0.97 / widest * REFERENCE_PX
        size = min(by_height, by_width)
        if self.elide:  # a long name: shrink only so far, then cut
            size = max(size, by_height * self.min_share)
        if math.floor(size) != self.natural_px:
            self.natural_px = math.floor(size)
            self.natural.emit(self.natural_px)
        if self.cap_px:
            size = min(size, self.cap_px)
        font.setPixelSize(max(1, math.floor(size)))
        # Hinting and rounding can make the real text a pixel wider or taller than the scaled
        # estimate: step down until it truly fits.
        shown = text
        while font.pixelSize() > 1:
            if self.elide:
                shown = QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight,
                                                       rect.width() - 1)
            if self.fits(font, shown):
                break
            font.setPixelSize(font.pixelSize() - 1)
        super().setText(shown)
        if font != self.font():
            self.setFont(font)
            self.fitted.emit(font.pixelSize())
