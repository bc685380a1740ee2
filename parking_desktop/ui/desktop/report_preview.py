"""Any driver's monthly report for any month, rendered exactly as the mail's HTML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.mail.monthly_report import Month, MonthlyReport
from parking_desktop.services.views import Page, UserView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.busy import BusyBar
from parking_desktop.ui.common.ops import Failure, Op, OpHandle

T = TypeVar("T")


def recent_months(today: date, count: int = 24) -> list[Month]:
    current = Month(today.year, today.month)
    return [current.shift(-i) for i in range(count)]


class ReportPreviewDialog(QDialog):
    shown = Signal()  # a report is on screen (tests wait on it)

    def __init__(self, app: App, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.actor = actor
        self.setWindowTitle("Monthly report preview")
        self.setAccessibleName("Monthly report preview")
        self.resize(760, 720)
        self._ops: set[OpHandle] = set()
        self.report: MonthlyReport | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.busy = BusyBar(self)
        outer.addWidget(self.busy)
        body = QVBoxLayout()
        body.setContentsMargins(20, 16, 20, 16)
        body.setSpacing(10)
        outer.addLayout(body, 1)
        bar = QHBoxLayout()
        self.driver = QComboBox(self)
        self.driver.setAccessibleName("Driver")
        self.driver.setEditable(True)
        self.driver.setMinimumWidth(260)
        editor = self.driver.lineEdit()
        if editor is not None:
            editor.setPlaceholderText("Driver")
        bar.addWidget(self.driver, 1)
        self.month = QComboBox(self)
        self.month.setAccessibleName("Month")
        today = app.ctx.clock.now().astimezone(app.ctx.tz).date()
        for month in recent_months(today):
            self.month.addItem(month.label, month.key)
        previous = app.jobs.previous_month()
        self.month.setCurrentIndex(max(0, self.month.findData(previous)))
        bar.addWidget(self.month)
        self.show_button = QPushButton("Show", self)
        self.show_button.setObjectName("primaryButton")
        self.show_button.setAccessibleName("Show report")
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.load)
        bar.addWidget(self.show_button)
        body.addLayout(bar)
        self.banner = Banner(self)
        body.addWidget(self.banner)
        self.summary = QLabel("Choose a driver and a month.", self)
        self.summary.setAccessibleName("Report summary")
        self.summary.setWordWrap(True)
        body.addWidget(self.summary)
        self.browser = QTextBrowser(self)
        self.browser.setAccessibleName("Report as e-mailed")
        self.browser.setOpenExternalLinks(False)
        body.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        body.addWidget(buttons)
        users = app.users
        self._start(lambda: users.search(actor, role=Role.DRIVER, limit=1000), self._drivers)

    def _start(self, fn: Callable[[], T], on_success: Callable[[T], None]) -> None:
        """Run ``fn`` off the GUI thread with the busy bar on and Show disabled."""
        self.busy.push()

        def failed(failure: Failure) -> None:
            self.banner.show_error(failure.message)

        op = Op(lambda _work: fn(), on_success=on_success, on_failure=failed, owner=self,
                disable=[self.show_button])

        def finished() -> None:
            self.busy.pop()
            self._ops.discard(op)

        op.add_finished(finished)
        self._ops.add(op)
        op.start()

    def _drivers(self, page: Page[UserView]) -> None:
        current = self.driver.currentData()
        self.driver.clear()
        for user in page.items:
            label = user.username + (f" — {user.full_name}" if user.full_name else "")
            self.driver.addItem(label, user.id)
        if current is not None:
            self.choose_driver(int(current))

    def choose_driver(self, user_id: int) -> None:
        index = self.driver.findData(user_id)
        if index >= 0:
            self.driver.setCurrentIndex(index)

    def choose_month(self, key: str) -> None:
        index = self.month.findData(key)
        if index >= 0:
            self.month.setCurrentIndex(index)

    def load(self) -> None:
        self.banner.clear()
        index = self.driver.findText(self.driver.currentText())
        user_id = self.driver.itemData(index) if index >= 0 else None
        if user_id is None:
            self.banner.show_error("Choose a driver from the list.")
            return
        jobs, actor, month = self.app.jobs, self.actor, str(self.month.currentData())
        self._start(lambda: jobs.preview_report(actor, int(user_id), month), self._show)

    def _show(self, result: tuple[MonthlyReport, str]) -> None:
        report, html = result
        self.report = report
        if report.has_activity:
            self.summary.setText(
                f"{report.display_name}, {report.month.label}: {report.bookings} bookings, "
                f"{fmt.money(report.total_spent)} spent, {report.hours_parked} hours parked"
                + (f", mostly at {report.most_used_lot}." if report.most_used_lot else "."))
        else:
            self.summary.setText(f"{report.display_name} did not park in {report.month.label}"
                                 " (the short version of the mail).")
        self.browser.setHtml(html)
        self.shown.emit()

    def shutdown(self) -> None:
        for op in list(self._ops):
            op.discard()
        self._ops.clear()
