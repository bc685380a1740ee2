"""The main window opens no larger than the screen it is on (a 1024x768 booth may have no
window manager to shrink it), and at a comfortable size where there is room."""

from __future__ import annotations

from typing import Any, cast

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QWidget

from parking_desktop.ui.desktop.mainwindow import MINIMUM_HEIGHT, MINIMUM_WIDTH
from parking_desktop.ui.desktop.startup import fit_to_screen


class _Screen:
    """Only what fit_to_screen reads of a QScreen."""

    def __init__(self, width: int, height: int) -> None:
        self._area = QRect(0, 0, width, height)

    def availableGeometry(self) -> QRect:  # Qt's name
        return self._area


@pytest.mark.parametrize(("screen", "expected"), [
    ((1024, 740), (1024, 740)),   # a 1024x768 booth less its panel: the whole area
    ((1280, 770), (1280, 770)),
    ((1440, 900), (1280, 800)),
    ((1920, 1040), (1600, 960)),
])
def test_the_window_fits_the_screen(qtbot: Any, screen: tuple[int, int],
                                    expected: tuple[int, int]) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.setMinimumSize(MINIMUM_WIDTH, MINIMUM_HEIGHT)
    fit_to_screen(window, cast(QScreen, _Screen(*screen)))
    assert (window.width(), window.height()) == expected
    assert window.x() >= 0 and window.y() >= 0
    assert window.x() + window.width() <= screen[0]
    assert window.y() + window.height() <= screen[1]
