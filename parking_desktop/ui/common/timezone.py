"""The site's time zone, chosen once in the first-run setup: every time on screen, in reports and
in e-mails is shown in it. Saved as APP_TIMEZONE in the settings file."""

from __future__ import annotations

from zoneinfo import ZoneInfo, available_timezones

from PySide6.QtCore import QTimeZone
from PySide6.QtWidgets import QComboBox, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.config import read_settings_file, write_settings_file


def machine_zone() -> str:
    """This computer's IANA zone name (e.g. "Europe/Paris"), or "UTC" if it has none."""
    name = bytes(QTimeZone.systemTimeZoneId().data()).decode(errors="replace")
    return name if name in available_timezones() else "UTC"


def zone_box(parent: QWidget, current: str) -> QComboBox:
    """A searchable list of every zone, ``current`` selected."""
    box = QComboBox(parent)
    box.setAccessibleName("Time zone")
    box.setEditable(True)  # type to find: "Par" → Europe/Paris
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    zones = sorted(available_timezones() - {"localtime", "Factory"})
    box.addItems(zones)
    box.setCurrentIndex(max(0, box.findText(current)))
    box.setMaxVisibleItems(15)
    return box


def save_site_zone(app: App, name: str) -> None:
    """Worker thread: keep the zone in the settings file and use it from now on for what this
    window shows (scheduled jobs take it at the next start)."""
    zone = ZoneInfo(name)
    path = app.settings.settings_file
    stored = read_settings_file(path)
    stored["APP_TIMEZONE"] = name
    write_settings_file(path, stored)
    app.ctx.tz = zone
