"""Shifts (managers): every attendant's shift — open, flagged (open longer than SHIFT_MAX_HOURS),
closed, approved — with its payments, the cash count (expected, counted, difference and its
reason) and the Z-report to read or print; the manager comments and approves."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.documents import method_label
from parking_desktop.services.money.documents import shift_document
from parking_desktop.services.money.report_text import report_text
from parking_desktop.services.money.views import PaymentView, ShiftState, ShiftView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.common.table import Column, RowTableModel
from parking_desktop.ui.common.widgets import (
    ColumnFitter,
    DetailGrid,
    SearchBox,
    configure_table,
    tool_button,
)
from parking_desktop.ui.desktop.screen import Screen, SignedIn

FLAGGED = "flagged"
STATES = (
    ("All shifts", None),
    ("Open", ShiftState.OPEN.value),
    ("Flagged: open too long", FLAGGED),
    ("Closed, to review", ShiftState.CLOSED.value),
    ("Approved", ShiftState.APPROVED.value),
)
DETAILS = [
    "Attendant",
    "Kiosk",
    "Opened",
    "Closed",
    "Opening float",
    "Expected cash",
    "Counted cash",
    "Difference",
    "Reason",
    "Approved",
]


def shift_state(s: ShiftView) -> str:
    if s.state is ShiftState.OPEN:
        return "Open — flagged, too long" if s.overlong else "Open"
    if s.state is ShiftState.APPROVED:
        return "Approved"
    return "Closed (was overlong)" if s.overlong else "Closed"


def shift_columns(session: SignedIn) -> list[Column[ShiftView]]:
    tz = session.tz
    return [
        Column("Shift", lambda s: str(s.id), sort_value=lambda s: s.id, numeric=True),
        Column("Attendant", lambda s: s.attendant),
        Column(
            "State",
            lambda s: shift_state(s),
            colour=lambda s: (
                "#b45309"
                if s.overlong and s.state is ShiftState.OPEN
                else "#15803d"
                if s.state is ShiftState.APPROVED
                else None
            ),
        ),
        Column(
            "Opened", lambda s: fmt.date_time(s.opened_at, tz), sort_value=lambda s: s.opened_at
        ),
        Column("Closed", lambda s: fmt.date_time(s.closed_at, tz)),
        Column(
            "Difference",
            lambda s: fmt.money_in(s.difference, s.currency),
            sort_value=lambda s: s.difference or 0,
            numeric=True,
        ),
    ]


def payment_columns(session: SignedIn) -> list[Column[PaymentView]]:
    tz = session.tz
    return [
        Column("Receipt", lambda p: p.receipt_number),
        Column("Time", lambda p: fmt.date_time(p.taken_at, tz), sort_value=lambda p: p.taken_at),
        Column("Kind", lambda p: p.kind.value.capitalize()),
        Column("Method", lambda p: method_label(p.method.value)),
        Column(
            "Amount",
            lambda p: fmt.money_in(p.amount, p.currency),
            sort_value=lambda p: p.amount,
            numeric=True,
        ),
        Column("Reason", lambda p: p.reason_text or ""),
    ]


class ShiftModel(RowTableModel[ShiftView]):
    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.COLUMNS = shift_columns(session)


class PaymentModel(RowTableModel[PaymentView]):
    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.COLUMNS = payment_columns(session)


class ShiftsScreen(Screen):
    TITLE = "Shifts"
    SUBTITLE = "Attendants' shifts: cash counted against expected, Z-reports, review"
    TOPICS = frozenset({"shifts", "payments"})

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.shift: ShiftView | None = None
        self._asked = 0
        filters = QHBoxLayout()
        self.state = QComboBox(self)
        self.state.setAccessibleName("Shift state")
        for text, value in STATES:
            self.state.addItem(text, value)
        filters.addWidget(self.state)
        self.attendant = SearchBox("Attendant", self)
        self.attendant.setMinimumWidth(200)
        filters.addWidget(self.attendant, 1)
        self.body.addLayout(filters)

        split = QSplitter(Qt.Orientation.Vertical, self)
        self.model = ShiftModel(session, self)
        self.table = QTableView(split)
        self.table.setModel(self.model)
        configure_table(self.table, "Shifts")
        self.fitter = ColumnFitter(
            self.table, 1, 120, floors={3: ["2026-03-02 10:00"], 4: ["2026-03-02 10:00"]}
        )
        split.addWidget(self.table)

        detail = QWidget(split)
        stack = QVBoxLayout(detail)
        stack.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        stack.addLayout(row, 1)
        left = QVBoxLayout()
        self.heading = QLabel("Choose a shift to see its payments and cash count.", detail)
        self.heading.setObjectName("sectionTitle")
        left.addWidget(self.heading)
        self.details = DetailGrid(DETAILS, detail)
        left.addWidget(self.details)
        left.addStretch(1)
        row.addLayout(left, 2)
        right = QVBoxLayout()
        self.payments = PaymentModel(session, self)
        self.payment_table = QTableView(detail)
        self.payment_table.setModel(self.payments)
        configure_table(self.payment_table, "Payments of the shift")
        self.payment_fitter = ColumnFitter(
            self.payment_table, 5, 80, shrink=[1], optional=[1, 2], floors={4: ["-€1,000.00"]}
        )
        right.addWidget(self.payment_table, 2)
        self.report = QPlainTextEdit(detail)
        self.report.setReadOnly(True)
        self.report.setAccessibleName("Z-report")
        right.addWidget(self.report, 2)
        self.comment = QLineEdit(detail)
        self.comment.setPlaceholderText("Manager's comment (why a difference is accepted)")
        self.comment.setAccessibleName("Manager's comment")
        self.comment.setMaxLength(1000)
        # The review line spans the detail's width: the buttons keep their captions at 1024.
        review = QHBoxLayout()
        review.addWidget(self.comment, 1)
        self.save_button = tool_button("Save comment", "save", detail)
        self.approve_button = tool_button("Approve", "check", detail, primary=True)
        self.print_button = tool_button("Print Z-report", "export", detail)
        for button in (self.save_button, self.approve_button, self.print_button):
            review.addWidget(button)
        stack.addLayout(review)
        self.review_error = QLabel("", detail)
        self.review_error.setObjectName("fieldError")
        self.review_error.setWordWrap(True)
        self.review_error.hide()
        stack.addWidget(self.review_error)
        row.addLayout(right, 3)
        split.addWidget(detail)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        self.body.addWidget(split, 1)
        self._set_actions(None)

        self.state.currentIndexChanged.connect(lambda *_: self.refresh())
        self.attendant.search.connect(lambda *_: self.refresh())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        self.save_button.clicked.connect(lambda: self._review(approve=False))
        self.approve_button.clicked.connect(lambda: self._review(approve=True))
        self.print_button.clicked.connect(self._print)

    # --- list -----------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        value = self.state.currentData()
        state = None if value in (None, FLAGGED) else ShiftState(value)
        if value == FLAGGED:
            state = ShiftState.OPEN
        # Filters change faster than answers arrive: only the latest question's answer shows.
        self._asked += 1
        asked = self._asked
        self.call(
            self.app.money.list_shifts,
            self.actor,
            state=state,
            limit=500,
            on_success=lambda rows: (
                self._show(rows, value == FLAGGED) if asked == self._asked else None
            ),
        )

    def _show(self, rows: list[ShiftView], flagged_only: bool) -> None:
        needle = self.attendant.text().strip().casefold()
        shown = [
            s
            for s in rows
            if (not flagged_only or s.overlong) and (not needle or needle in s.attendant.casefold())
        ]
        keep = self.shift.id if self.shift else None
        self.model.set_rows(shown)
        self.fitter.fit()
        for i, s in enumerate(shown):
            if s.id == keep:
                self.table.selectRow(i)
                break
        else:
            self._clear_detail()
        self.loaded()

    def _selected(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        shift = self.model.row_at(index.row())
        self.shift = shift
        tz = self.session.tz
        c = shift.currency
        self.heading.setText(f"Shift {shift.id} — {shift_state(shift)}")
        values = {
            "Attendant": shift.attendant,
            "Kiosk": shift.host,
            "Opened": fmt.date_time(shift.opened_at, tz),
            "Closed": fmt.date_time(shift.closed_at, tz, empty="still open"),
            "Opening float": fmt.money_in(shift.opening_float, c),
            "Expected cash": fmt.money_in(shift.expected_cash, c),
            "Counted cash": fmt.money_in(shift.counted_cash, c),
            "Difference": fmt.money_in(shift.difference, c),
            "Reason": shift.difference_reason or "—",
            "Approved": (
                f"{shift.approved_by}, {fmt.date_time(shift.approved_at, tz)}"
                if shift.approved_by
                else "not yet"
            ),
        }
        for key, text in values.items():
            self.details.set(key, text)
        self.comment.setText(shift.manager_comment or "")
        self._set_actions(shift)
        app, actor = self.app, self.actor

        def load() -> tuple[list[PaymentView], str]:
            return (
                app.money.shift_payments(actor, shift.id),
                report_text(app.money.shift_report(actor, shift.id)),
            )

        self.call(load, on_success=self._detail_loaded)

    def _detail_loaded(self, answer: tuple[list[PaymentView], str]) -> None:
        payments, text = answer
        self.payments.set_rows(payments)
        self.payment_fitter.fit()
        self.report.setPlainText(text)

    def _clear_detail(self) -> None:
        self.shift = None
        self.heading.setText("Choose a shift to see its payments and cash count.")
        for key in DETAILS:
            self.details.set(key, "")
        self.payments.set_rows([])
        self.report.clear()
        self.comment.clear()
        self._set_actions(None)

    def _set_actions(self, shift: ShiftView | None) -> None:
        reviewable = shift is not None and shift.state is not ShiftState.OPEN
        # set_enabled: a button held by a running call takes this state when the call ends.
        set_enabled(self.approve_button, shift is not None and shift.state is ShiftState.CLOSED)
        set_enabled(self.save_button, reviewable)
        set_enabled(self.print_button, shift is not None)
        self.comment.setEnabled(reviewable)
        self.review_error.hide()

    # --- review ---------------------------------------------------------------------------
    def _review(self, *, approve: bool) -> None:
        shift = self.shift
        if shift is None:
            return
        comment = self.comment.text().strip()
        if shift.difference and approve and not comment and not shift.manager_comment:
            self._review_failed("Say why the difference is accepted before approving.")
            self.comment.setFocus()
            return
        self.review_error.hide()
        buttons = [self.save_button, self.approve_button]
        self.call(
            self.app.money.review_shift,
            self.actor,
            shift.id,
            comment=comment,
            approve=approve,
            disable=buttons,
            on_error=self._review_failed,
            on_success=lambda view: self._reviewed(view, approve),
        )

    def _review_failed(self, message: str) -> None:
        self.review_error.setText(message)
        self.review_error.show()

    def _reviewed(self, view: ShiftView, approved: bool) -> None:
        self.shift = view
        self.show_success(
            f"Shift {view.id} approved." if approved else f"Comment saved on shift {view.id}."
        )
        self.refresh()

    def _print(self) -> None:
        shift = self.shift
        if shift is None:
            return
        app, actor = self.app, self.actor

        # The PDF maker (fpdf2, fontTools) and Qt's printing load when a report is printed, not
        # with the screen: imported on its first visit, they held the GUI thread 0.4 s.
        def render() -> bytes:
            from parking_desktop.adapters.pdf import render_shift_report_pdf

            report = app.money.shift_report(actor, shift.id)
            return render_shift_report_pdf(
                shift_document(report, time_zone=app.settings.app_timezone)
            )

        def print_it(pdf: bytes) -> None:
            from parking_desktop.ui.common.print_pdf import print_pdf

            print_pdf(self, pdf, f"Z-report of shift {shift.id}")

        self.call(render, on_success=print_it, disable=[self.print_button])
