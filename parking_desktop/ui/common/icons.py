"""Line icons drawn in a chosen colour. The files in resources/icons are stroked in slate for
light backgrounds; on a blue or red button, or the kiosk's dark screens, they must be redrawn
in a colour that stands out (white on a primary button)."""

from __future__ import annotations

import re
from functools import cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from parking_desktop.ui.common.qtapp import RESOURCES

ON_COLOUR = "#ffffff"  # icons on primary and danger buttons
_STROKE = re.compile(r'stroke="#[0-9a-fA-F]{3,6}"')


@cache
def tinted_icon(name: str, colour: str, size: int = 64) -> QIcon:
    """``resources/icons/<name>.svg`` drawn in ``colour`` (an empty icon if it is missing)."""
    path = RESOURCES / "icons" / f"{name}.svg"
    try:
        svg = path.read_text(encoding="utf-8")
    except OSError:
        return QIcon()
    renderer = QSvgRenderer(QByteArray(_STROKE.sub(f'stroke="{colour}"', svg).encode()))
    if not renderer.isValid():
        return QIcon()
    pixmap = QPixmap(QSize(size, size))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    renderer.render(painter)
    painter.end()
    return QIcon(pixmap)
