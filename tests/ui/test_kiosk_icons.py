"""Icons that can be seen: white on primary (blue) and danger (red) buttons instead of the slate
line icons that vanish on them, and the kiosk banner's icon as tall as its text line and level
with the first line."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.ui.common.widgets import tool_button
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def _ink(image: QImage) -> list[QColor]:
    return [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())
            if image.pixelColor(x, y).alpha() > 200]


def test_primary_and_danger_buttons_get_white_icons(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    for button in (tool_button("Run now", "refresh", host, primary=True),
                   tool_button("Delete", "archive", host, danger=True)):
        ink = _ink(button.icon().pixmap(32, 32).toImage())
        assert ink, button.text()
        assert all(c.red() > 240 and c.green() > 240 and c.blue() > 240 for c in ink)
    plain = _ink(tool_button("Refresh", "refresh", host).icon().pixmap(32, 32).toImage())
    assert plain and not all(c.red() > 240 for c in plain)  # slate on the light desktop


def test_kiosk_banner_icon_matches_the_text_line(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk,
) -> None:
    window = open_kiosk()
    page = window.screens["signin"]
    window.go("signin", mode="staff")
    page.submit()  # nothing typed: a refusal in the banner
    qtbot.waitUntil(lambda: bool(page.banner.text))
    icon, text = page.banner._icon, page.banner.label
    line = text.fontMetrics().height()
    qtbot.waitUntil(lambda: icon.height() == line)
    assert icon.width() == line >= 24
    assert abs(icon.mapTo(page.banner, icon.rect().topLeft()).y()
               - text.mapTo(page.banner, text.rect().topLeft()).y()) <= 4
