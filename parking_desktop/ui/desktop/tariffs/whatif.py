"""What-if repricing: the lot's completed stays of the last N days priced by the draft, next
to what they were charged. Runs off the GUI thread with progress and Cancel; Run and the
editor's Save stay disabled while it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.tariffs import TariffVersion
from parking_desktop.services.tariffs.simulation import LotSimulation, SimulationCancelled
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.ops import Cancelled, Failure, Op, Work
from parking_desktop.ui.desktop import charts
from parking_desktop.ui.desktop.tariffs.backend import TariffBackend

MAX_DAYS = 3660  # the service's limit too


@dataclass(frozen=True)
class LotWhatIf:
    """This lot's part of a simulation, with the currency and period it covers."""

    lot: LotSimulation
    currency: str
    days: int


def change_percent(now: Decimal, draft: Decimal) -> str:
    if now == 0:
        return "—" if draft == 0 else "new revenue"
    change = (draft - now) * 100 / now
    shown = change.quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{'+' if change > 0 else ''}{shown} %"


class WhatIfPanel(QWidget):
    def __init__(
        self,
        backend: TariffBackend,
        lot_id: int,
        draft: Callable[[], TariffVersion | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("whatIfPanel")
        self.backend = backend
        self.lot_id = lot_id
        self.draft = draft
        self.op: Op[LotWhatIf] | None = None
        self.result: LotWhatIf | None = None
        self.also_disable: list[QWidget] = []  # the editor's Save
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        intro = QLabel(
            "Price the lot's completed stays of the last days with the draft tariff "
            "and compare with what they were charged.",
            self,
        )
        intro.setWordWrap(True)
        column.addWidget(intro)
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(QLabel("Stays of the last", self))
        self.days = QSpinBox(self)
        self.days.setAccessibleName("Days to reprice")
        self.days.setRange(1, MAX_DAYS)
        self.days.setValue(30)
        self.days.setSuffix(" days")
        self.days.setMaximumWidth(130)
        row.addWidget(self.days)
        self.run_button = QPushButton("Run", self)
        self.run_button.setObjectName("primaryButton")
        self.run_button.setAccessibleName("Run what-if")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel what-if")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("What-if progress")
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        column.addLayout(row)
        self.status = QLabel("", self)
        self.status.setObjectName("whatIfStatus")
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        figures = QGridLayout()
        figures.setHorizontalSpacing(24)
        figures.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        for index, (key, caption) in enumerate(
            (
                ("now", "Revenue now"),
                ("draft", "With the draft"),
                ("change", "Change"),
                ("percent", "Change %"),
                ("more", "Stays costing more"),
                ("less", "Stays costing less"),
                ("same", "Stays costing the same"),
                ("stays", "Stays repriced"),
            )
        ):
            name = QLabel(caption, self)
            name.setObjectName("fieldHint")
            value = QLabel("—", self)
            value.setAccessibleName(caption)
            self.values[key] = value
            figures.addWidget(name, index // 4 * 2, index % 4)
            figures.addWidget(value, index // 4 * 2 + 1, index % 4)
        column.addLayout(figures)
        self.chart = charts.chart_view("Revenue change by hour of arrival", self)
        self.chart.setMinimumHeight(180)
        self.chart_title = QLabel("Change of revenue by hour of arrival", self)
        column.addWidget(self.chart_title)
        column.addWidget(self.chart, 1)
        self.chart_title.hide()  # until there is something to draw
        self.chart.hide()
        self.set_draft_valid(True)

    @property
    def running(self) -> bool:
        return self.op is not None

    def set_draft_valid(self, valid: bool) -> None:
        """Run needs a tariff without problems (the editor calls this as the form changes)."""
        self.run_button.setToolTip("" if valid else "Correct the tariff first")
        if not self.running:
            self.run_button.setEnabled(valid)

    def run(self) -> None:
        draft = self.draft()
        if draft is None or self.running:
            return
        days, backend, lot_id = self.days.value(), self.backend, self.lot_id

        def work(job: Work) -> LotWhatIf:
            try:
                result = backend.simulate(
                    lot_id,
                    draft,
                    days,
                    lambda done, total: job.progress(done, total, ""),
                    lambda: job.cancelled,
                )
            except SimulationCancelled:
                raise Cancelled from None  # answered as cancelled, not as a failure
            lot = next(lot for lot in result.lots if lot.lot_id == lot_id)
            return LotWhatIf(lot, result.currency, result.days)

        self.status.setText(f"Repricing the stays of the last {fmt.count(days)} days…")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.op = Op(
            work,
            on_success=self.show_result,
            on_failure=self._failed,
            on_progress=self._progressed,
            on_cancelled=self._cancelled,
            on_finished=self._finished,
            owner=self,
            long_running=True,
            disable=[self.run_button, self.days, *self.also_disable],
        ).start()

    def cancel(self) -> None:
        if self.op is not None:
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")
            self.op.cancel()

    def discard(self) -> None:
        """The editor is closing: stop the work and drop its answer."""
        if self.op is not None:
            self.op.cancel()
            self.op.discard()
            self._finished()

    def _progressed(self, done: int, total: int, _text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{fmt.count(done)} of {fmt.count(total)} stays")

    def _finished(self) -> None:
        self.op = None
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)

    def _failed(self, failure: Failure) -> None:
        self.status.setText(failure.message)

    def _cancelled(self) -> None:
        self.status.setText("Cancelled: nothing was repriced.")

    def show_result(self, result: LotWhatIf) -> None:
        self.result = result
        lot, currency = result.lot, result.currency
        self.status.setText(
            f"{fmt.count(lot.stays)} completed stays of the last "
            f"{fmt.count(result.days)} days repriced with the draft."
        )
        for key, text in (
            ("now", fmt.money_in(lot.revenue_now, currency)),
            ("draft", fmt.money_in(lot.revenue_draft, currency)),
            ("change", ("+" if lot.change > 0 else "") + fmt.money_in(lot.change, currency)),
            ("percent", change_percent(lot.revenue_now, lot.revenue_draft)),
            ("more", fmt.count(lot.more)),
            ("less", fmt.count(lot.less)),
            ("same", fmt.count(lot.same)),
            ("stays", fmt.count(lot.stays)),
        ):
            self.values[key].setText(text)
        self.chart_title.show()
        self.chart.show()
        charts.set_hour_changes(
            self.chart, [float(v) for v in lot.change_by_hour], "Revenue change"
        )
