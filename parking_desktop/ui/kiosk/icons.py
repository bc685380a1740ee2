"""The shared line icons, recoloured for the kiosk's dark background (the files are drawn in
slate for the light desktop; on the kiosk they must stand out)."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from parking_desktop.ui.common.icons import tinted_icon

LIGHT = "#e2e8f0"


def kiosk_icon(name: str, colour: str = LIGHT, size: int = 64) -> QIcon:
    """``resources/icons/<name>.svg`` drawn in ``colour`` (an empty icon if it is missing)."""
    return tinted_icon(name, colour, size)
