"""Exceptions (managers): free exits, discounts, fee overrides, refunds, voids, force-releases,
payments outside a shift and cash differences, newest first, filtered by kind, attendant, lot and
date; a payment is refunded or voided from here with a reason (a new negative payment, never an
edit of the original)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.money import ExceptionKind, PaymentKind, ReasonCode
from parking_desktop.services.money.views import ExceptionFilter, ExceptionView
from parking_desktop.services.views import LotView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.common.numbers import decimal_text
from parking_desktop.ui.common.table import Column, RowTableModel
from parking_desktop.ui.common.widgets import ColumnFitter, SearchBox, configure_table, tool_button
from parking_desktop.ui.desktop.screen import Screen, SignedIn
from parking_desktop.ui.kiosk.payment import REASONS

KIND_LABELS = {
    ExceptionKind.FREE_EXIT: "Free exit",
    ExceptionKind.DISCOUNT: "Discount",
    ExceptionKind.FEE_OVERRIDE: "Fee override",
    ExceptionKind.REFUND: "Refund",
    ExceptionKind.VOID: "Void",
    ExceptionKind.FORCE_RELEASE: "Force-release",
    ExceptionKind.ADMIN_PAYMENT: "Payment outside a shift",
    ExceptionKind.CASH_DIFFERENCE: "Cash difference",
}


def exception_columns(session: SignedIn) -> list[Column[ExceptionView]]:
    tz = session.tz
    return [
        Column(
            "When", lambda e: fmt.date_time(e.created_at, tz), sort_value=lambda e: e.created_at
        ),
        Column("Kind", lambda e: KIND_LABELS.get(e.kind, e.kind.value)),
        Column(
            "Amount",
            lambda e: fmt.money_in(e.amount, e.currency),
            sort_value=lambda e: e.amount or 0,
            numeric=True,
        ),
        Column("Lot", lambda e: e.lot_name or "—"),
        Column("Vehicle", lambda e: e.vehicle_number or "—"),
        Column(
            "Reason",
            lambda e: f"{REASONS.get(e.reason_code, e.reason_code.value)}: {e.reason_text}",
        ),
        Column("By", lambda e: e.actor),
        Column("Approved by", lambda e: e.approved_by or "—"),
    ]


def _day(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class ExceptionModel(RowTableModel[ExceptionView]):
    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.COLUMNS = exception_columns(session)


class CorrectionDialog(QDialog):
    """The reason (list + text) and, for a refund, the amount (empty: all that is left)."""

    def __init__(self, parent: QWidget, kind: PaymentKind, what: str) -> None:
        super().__init__(parent)
        verb = "Refund" if kind is PaymentKind.REFUND else "Void"
        self.setWindowTitle(f"{verb} a payment")
        column = QVBoxLayout(self)
        column.addWidget(QLabel(what, self))
        form = QFormLayout()
        self.code = QComboBox(self)
        self.code.addItem("Choose…", None)
        for code, text in REASONS.items():
            self.code.addItem(text, code)
        form.addRow("Reason", self.code)
        self.text = QLineEdit(self)
        self.text.setMaxLength(500)
        self.text.setPlaceholderText("What happened")
        form.addRow("Details", self.text)
        self.amount = QLineEdit(self)
        self.amount.setPlaceholderText("all that is left")
        self.amount.setVisible(kind is PaymentKind.REFUND)
        if kind is PaymentKind.REFUND:
            form.addRow(f"Amount ({fmt.site_currency()})", self.amount)
        column.addLayout(form)
        self.error = QLabel("", self)
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        column.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(verb)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)

    def _check(self) -> None:
        if self.code.currentData() is None:
            return self._refuse("Choose a reason from the list.")
        if not self.text.text().strip():
            return self._refuse("Say in a few words why.")
        try:
            self.value()
        except ValueError as exc:
            return self._refuse(str(exc))
        self.accept()

    def _refuse(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def value(self) -> Decimal | None:
        typed = decimal_text(self.amount.text())
        if not typed:
            return None
        try:
            amount = Decimal(typed)
        except ArithmeticError:
            raise ValueError("Type an amount such as 5.00.") from None
        if not amount.is_finite() or amount <= 0:
            raise ValueError("Type an amount above zero.")
        return amount

    def reason(self) -> tuple[ReasonCode, str]:
        return ReasonCode(self.code.currentData()), self.text.text().strip()


class ExceptionsScreen(Screen):
    TITLE = "Exceptions"
    SUBTITLE = "Waivers, discounts, refunds, voids, force-releases and cash differences"
    TOPICS = frozenset({"exceptions", "payments"})

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        filters = QHBoxLayout()
        self.kind = QComboBox(self)
        self.kind.setAccessibleName("Kind")
        self.kind.addItem("All kinds", None)
        for kind, text in KIND_LABELS.items():
            self.kind.addItem(text, kind.value)
        filters.addWidget(self.kind)
        self.lot = QComboBox(self)
        self.lot.setAccessibleName("Lot")
        self.lot.addItem("All lots", None)
        filters.addWidget(self.lot)
        self.attendant = SearchBox("Attendant", self)
        self.attendant.setMinimumWidth(140)
        filters.addWidget(self.attendant, 1)
        now = session.now().astimezone(session.tz)  # the site's clock (tests fix it)
        today = QDate(now.year, now.month, now.day)
        self.start_date = QDateEdit(today.addDays(-30), self)
        self.start_date.setAccessibleName("From")
        self.end_date = QDateEdit(today, self)
        self.end_date.setAccessibleName("To")
        for edit in (self.start_date, self.end_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.start_date.setToolTip("From this day")
        self.end_date.setToolTip("To this day, included")
        filters.addWidget(self.start_date)
        filters.addWidget(QLabel("–", self))
        filters.addWidget(self.end_date)
        self.body.addLayout(filters)
        self.model = ExceptionModel(session, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        configure_table(self.table, "Exceptions")
        self.fitter = ColumnFitter(
            self.table, 5, 160, shrink=[3], optional=[7, 3], floors={0: ["2026-03-02 10:00"]}
        )
        self.body.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.count = QLabel("", self)
        actions.addWidget(self.count, 1)
        self.refund_button = tool_button("Refund…", "cancel", self)
        self.void_button = tool_button("Void…", "deactivate", self, danger=True)
        actions.addWidget(self.refund_button)
        actions.addWidget(self.void_button)
        self.body.addLayout(actions)
        self._lots_loaded = False
        self._asked = 0
        self.dialog: CorrectionDialog | None = None
        self._enable()

        for combo in (self.kind, self.lot):
            combo.currentIndexChanged.connect(lambda *_: self.refresh())
        self.attendant.search.connect(lambda *_: self.refresh())
        self.start_date.dateChanged.connect(lambda *_: self.refresh())
        self.end_date.dateChanged.connect(lambda *_: self.refresh())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.refund_button.clicked.connect(lambda: self._correct(PaymentKind.REFUND))
        self.void_button.clicked.connect(lambda: self._correct(PaymentKind.VOID))

    def filters(self) -> ExceptionFilter:
        tz = self.session.tz
        start = datetime.combine(_day(self.start_date.date()), time(0), tz)
        end = datetime.combine(_day(self.end_date.date()), time(0), tz) + timedelta(days=1)
        kind = self.kind.currentData()
        return ExceptionFilter(
            kind=ExceptionKind(kind) if kind else None,
            attendant=self.attendant.text().strip() or None,
            lot_id=self.lot.currentData(),
            start=start,
            end=end,
        )

    def refresh(self) -> None:
        super().refresh()
        if not self._lots_loaded:
            self._lots_loaded = True
            self.call(self.app.lots.search, on_success=self._lots)
        # Filters change faster than answers arrive: only the latest question's answer shows.
        self._asked += 1
        asked = self._asked
        self.call(
            self.app.money.exceptions,
            self.actor,
            self.filters(),
            on_success=lambda rows: self._show(rows) if asked == self._asked else None,
        )

    def _lots(self, lots: list[LotView]) -> None:
        for lot in lots:
            self.lot.addItem(lot.name, lot.id)

    def _show(self, rows: list[ExceptionView]) -> None:
        self.model.set_rows(rows)
        self.fitter.fit()
        self.count.setText(f"{fmt.count(len(rows))} exception(s)")
        self._enable()
        self.loaded()

    def selected(self) -> ExceptionView | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        chosen = self.selected()
        # A correction applies to the payment an exception belongs to (not to a refund itself).
        correctable = (
            chosen is not None
            and chosen.payment_id is not None
            and chosen.kind not in (ExceptionKind.REFUND, ExceptionKind.VOID)
        )
        set_enabled(self.refund_button, correctable)
        set_enabled(self.void_button, correctable)

    def _correct(self, kind: PaymentKind) -> None:
        chosen = self.selected()
        if chosen is None or chosen.payment_id is None:
            return
        what = (
            f"Payment of {chosen.vehicle_number or 'this stay'} at {chosen.lot_name or '—'}"
            f" ({KIND_LABELS.get(chosen.kind, chosen.kind.value)}, "
            f"{fmt.money_in(chosen.amount, chosen.currency)} given away)."
        )
        dialog = self.dialog = CorrectionDialog(self, kind, what)
        payment_id = chosen.payment_id

        def answered(code: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            if code != QDialog.DialogCode.Accepted.value:
                return
            reason, text = dialog.reason()
            buttons = [self.refund_button, self.void_button]
            if kind is PaymentKind.REFUND:
                self.call(
                    self.app.money.refund,
                    self.actor,
                    payment_id,
                    reason,
                    text,
                    amount=dialog.value(),
                    disable=buttons,
                    on_success=self._done,
                )
            else:
                self.call(
                    self.app.money.void,
                    self.actor,
                    payment_id,
                    reason,
                    text,
                    disable=buttons,
                    on_success=self._done,
                )

        dialog.finished.connect(answered)
        dialog.open()  # window-modal, without a nested event loop

    def _done(self, payment: object) -> None:
        self.show_success("Recorded as a new payment with its reason; the original is kept.")
        self.refresh()
