"""Filter bar pieces: an optional date (checkbox + date edit) and a date range in the site's
time zone, turned into UTC bounds for the services."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QCheckBox, QDateEdit, QHBoxLayout, QWidget


class OptionalDate(QWidget):
    """'From [x] 2026-03-01': unchecked means no bound."""

    changed = Signal()

    def __init__(self, caption: str, default: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.check = QCheckBox(caption, self)
        self.check.setAccessibleName(f"Filter by {caption.lower()} date")
        self.edit = QDateEdit(self)
        self.edit.setAccessibleName(f"{caption} date")
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setDate(QDate(default.year, default.month, default.day))
        self.edit.setEnabled(False)
        self.check.toggled.connect(self.edit.setEnabled)
        self.check.toggled.connect(lambda _on: self.changed.emit())
        self.edit.dateChanged.connect(lambda _d: self.changed.emit() if self.check.isChecked()
                                      else None)
        layout.addWidget(self.check)
        layout.addWidget(self.edit)

    def value(self) -> date | None:
        if not self.check.isChecked():
            return None
        qdate = self.edit.date()
        return date(qdate.year(), qdate.month(), qdate.day())

    def set_value(self, value: date | None) -> None:
        self.check.setChecked(value is not None)
        if value is not None:
            self.edit.setDate(QDate(value.year, value.month, value.day))


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of ``day`` as an aware datetime (the services compare in UTC)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def date_bounds(start: date | None, end: date | None,
                tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, end+1 00:00) in the site's time zone; the end day is included."""
    since = day_start(start, tz) if start else None
    until = day_start(end + timedelta(days=1), tz) if end else None
    return since, until
