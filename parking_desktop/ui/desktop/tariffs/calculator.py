""" "A stay from … to … costs …": the draft priced by the rate engine as you edit, with the
lines that make the fee. Pure arithmetic on the draft (microseconds), so it runs on the GUI
thread; nothing is read from the database."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from html import escape

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.tariffs import PricedStay, TariffVersion, quote
from parking_desktop.ui.common.fee_lines import amount_text, fee_rows
from parking_desktop.ui.common.formatting import duration, money_in

DATE_FORMAT = "ddd d MMM yyyy  HH:mm"


def date_edit(parent: QWidget, name: str, moment: datetime) -> QDateTimeEdit:
    edit = QDateTimeEdit(parent)
    edit.setAccessibleName(name)
    edit.setDisplayFormat(DATE_FORMAT)
    edit.setCalendarPopup(True)
    edit.setMaximumWidth(260)
    set_moment(edit, moment)
    return edit


def set_moment(edit: QDateTimeEdit, moment: datetime) -> None:
    """Show an aware time as its wall-clock time (the edit holds a naive local time)."""
    edit.setDateTime(QDateTime(moment.replace(tzinfo=None)))


def moment_of(edit: QDateTimeEdit, tz: tzinfo) -> datetime:
    """The wall-clock time shown, in the site's zone (an autumn hour seen twice: the first)."""
    naive = edit.dateTime().toPython()
    assert isinstance(naive, datetime)
    return naive.replace(second=0, microsecond=0, tzinfo=tz)


class Calculator(QWidget):
    changed = Signal()

    def __init__(self, tz: tzinfo, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tariffCalculator")
        self.tz = tz
        self.version: TariffVersion | None = None
        self.priced: PricedStay | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(6)
        start = now.astimezone(tz).replace(second=0, microsecond=0)
        self.arrive = date_edit(self, "Stay from", start)
        self.leave = date_edit(self, "Stay until", start + timedelta(hours=2))
        row.addWidget(QLabel("A stay from", self))
        row.addWidget(self.arrive, 1)
        row.addWidget(QLabel("to", self))
        row.addWidget(self.leave, 1)
        row.addStretch(1)
        column.addLayout(row)
        self.lines_box = QWidget(self)
        self.grid = QGridLayout(self.lines_box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(2)
        column.addWidget(self.lines_box)
        self.total = QLabel("", self)
        self.total.setObjectName("calculatorTotal")
        self.total.setAccessibleName("Calculated fee")
        self.total.setWordWrap(True)
        column.addWidget(self.total)
        self.rows: list[tuple[str, str]] = []
        self.arrive.dateTimeChanged.connect(lambda _d: self.recalculate())
        self.leave.dateTimeChanged.connect(lambda _d: self.recalculate())

    def set_version(self, version: TariffVersion | None) -> None:
        self.version = version
        self.recalculate()

    def recalculate(self) -> None:
        arrived, left = moment_of(self.arrive, self.tz), moment_of(self.leave, self.tz)
        if self.version is None:
            self.priced = None
            self._show([], "Correct the tariff above to see what a stay costs.")
        elif left < arrived:
            self.priced = None
            self._show([], "The stay ends before it starts.")
        else:
            self.priced = quote(self.version, arrived, left, self.tz)
            self._show(
                fee_rows(self.priced.lines),
                f"costs <b>{escape(money_in(self.priced.total, self.priced.currency))}</b> "
                f"({escape(duration(self.priced.stay))} parked, "
                f"{escape(duration(self.priced.billed))} billed)",
            )
        self.changed.emit()

    def _show(self, rows: list[tuple[str, str]], total: str) -> None:
        self.rows = rows
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for index, (text, amount) in enumerate(rows):
            line = QLabel(text, self.lines_box)
            line.setObjectName("feeLine")
            line.setWordWrap(True)
            value = QLabel(amount, self.lines_box)
            value.setObjectName("feeAmount")
            self.grid.addWidget(line, index, 0)
            self.grid.addWidget(value, index, 1)
        self.grid.setColumnStretch(0, 1)
        self.total.setText(total)

    def total_amount(self) -> str:
        return "" if self.priced is None else amount_text(self.priced.total)
