"""Full screen that also works without a window manager."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget


def fill_screen(window: QWidget) -> None:
    """Show ``window`` full screen. A kiosk or an entrance display often runs X with no window
    manager, which leaves "full screen" at the window's first size: take the screen's size
    ourselves, and again whenever that screen changes (turned to portrait, another
    resolution)."""
    screen = window.screen()

    def follow(geometry: QRect) -> None:
        if window.isFullScreen():
            window.setGeometry(geometry)

    window.setGeometry(screen.geometry())
    screen.geometryChanged.connect(follow)
    window.showFullScreen()
