"""The attendant's shift at the booth: open it with the cash float in the drawer, and close it
by counting the cash (as a total or note by note) against what the system expects; a difference
needs a reason. Closing queues the Z-report to the managers (services/money)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from parking_desktop.services.money.views import CashCount, ShiftView
from parking_desktop.ui.common.formatting import money_in
from parking_desktop.ui.kiosk.payment import ReasonPicker, error_label, parse_amount, set_error
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    Card,
    InfoGrid,
    KioskButton,
    KioskEdit,
    action_row,
    field,
    label,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

# Notes and coins offered for a count by denomination (face values common to the currencies
# with two decimals; the total is what counts, and can be typed instead).
DENOMINATIONS = tuple(
    Decimal(v)
    for v in ("200", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05")
)
EXPECTED = "Expected in the drawer"


def _count_of(text: str) -> int:
    text = text.strip()
    if not text:
        return 0
    if not text.isdigit():
        raise ValueError("Counts are whole numbers.")
    return int(text)


class ShiftScreen(KioskScreen):
    name = "shift"
    title = "Shift"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.count: CashCount | None = None
        self.pages = QStackedWidget(self)
        self.body.addWidget(self.pages, 1)

        # --- open -------------------------------------------------------------------------
        opening = self.open_page = QWidget(self.pages)
        column = QVBoxLayout(opening)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(18)
        column.addWidget(
            label(
                "Count the cash in the drawer before the first payment: it is "
                "the float the shift starts with.",
                "lead",
                opening,
                wrap=True,
            )
        )
        self.float_edit = KioskEdit("Opening float", "e.g. 150.00", opening)
        self.float_edit.setObjectName("floatEdit")
        self.float_edit.setProperty("keyboard", "number")
        self.float_edit.setMaxLength(12)
        column.addWidget(field("Opening float", self.float_edit))
        self.float_error = error_label(opening)
        column.addWidget(self.float_error)
        column.addStretch(1)
        self.open_button = KioskButton("Open shift", opening, kind="primary")
        self.open_button.setObjectName("shiftOpen")
        self.open_cancel = KioskButton("Cancel", opening)
        column.addLayout(action_row(self.open_button, self.open_cancel))
        self.pages.addWidget(opening)

        # --- close ------------------------------------------------------------------------
        closing = self.close_page = QWidget(self.pages)
        column = QVBoxLayout(closing)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(14)
        self.close_lead = label("", "lead", closing, wrap=True)
        column.addWidget(self.close_lead)
        card = Card(closing)
        inside = QVBoxLayout(card)
        inside.setContentsMargins(28, 20, 28, 20)
        inside.setSpacing(12)
        self.figures = InfoGrid(card)
        inside.addWidget(self.figures)
        self.counted = KioskEdit("Cash counted", "total in the drawer", card)
        self.counted.setObjectName("countedEdit")
        self.counted.setProperty("keyboard", "number")
        self.counted.setMaxLength(12)
        inside.addWidget(field("Cash counted", self.counted))
        self.by_note_button = KioskButton("Count note by note", card, kind="quiet")
        self.by_note_button.setObjectName("countByNote")
        self.by_note_button.setCheckable(True)
        inside.addWidget(self.by_note_button)
        self.notes = QWidget(card)
        grid = QGridLayout(self.notes)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        self.note_edits: dict[Decimal, KioskEdit] = {}
        self.note_captions: list[QLabel] = []
        for i, value in enumerate(DENOMINATIONS):
            caption = label("", "fieldLabel", self.notes)
            edit = KioskEdit(f"Count of {value}", "0", self.notes)
            edit.setProperty("keyboard", "number")
            edit.setMaxLength(5)
            caption.setBuddy(edit)
            self.note_edits[value] = edit
            self.note_captions.append(caption)
            grid.addWidget(caption, i // 4, (i % 4) * 2)
            grid.addWidget(edit, i // 4, (i % 4) * 2 + 1)
            edit.textChanged.connect(self._notes_changed)
        self.notes.hide()
        inside.addWidget(self.notes)
        self.counted_error = error_label(card)
        inside.addWidget(self.counted_error)
        self.difference = label("", "figure", card)
        self.difference.setObjectName("cashDifference")
        self.difference.setAccessibleName("Difference")
        inside.addWidget(self.difference)
        self.reason = ReasonPicker(card, caption="Reason for the difference")
        self.reason.hide()
        inside.addWidget(self.reason)
        column.addWidget(card)
        column.addStretch(1)
        self.close_button = KioskButton("Close shift", closing, kind="primary")
        self.close_button.setObjectName("shiftClose")
        self.close_cancel = KioskButton("Not now", closing)
        column.addLayout(action_row(self.close_button, self.close_cancel))
        self.pages.addWidget(closing)

        self.busy_widgets = [
            self.float_edit,
            self.open_button,
            self.counted,
            self.close_button,
            self.notes,
            self.by_note_button,
        ]
        self.open_button.clicked.connect(self.open_shift)
        self.float_edit.returnPressed.connect(self.open_shift)
        self.close_button.clicked.connect(self.close_shift)
        self.open_cancel.clicked.connect(self.back)
        self.close_cancel.clicked.connect(self.back)
        self.counted.textChanged.connect(lambda *_: self._update_difference())
        self.by_note_button.toggled.connect(self._by_note)
        tab_chain(self.float_edit, self.open_button, self.open_cancel)
        tab_chain(self.counted, self.by_note_button, self.close_button, self.close_cancel)

    # --- navigation -----------------------------------------------------------------------
    def enter(self, **kwargs: Any) -> None:
        self.reset()
        self.call(
            self.kiosk.app.money.current_shift, self.kiosk.actor, on_success=self._shift_known
        )

    def reset(self) -> None:
        super().reset()
        self.count = None
        self.float_edit.clear()
        self.counted.clear()
        for edit in self.note_edits.values():
            edit.clear()
        self.by_note_button.setChecked(False)
        self.reason.clear()
        self.reason.hide()
        self.difference.clear()
        for target in (self.float_error, self.counted_error):
            set_error(target, "")
        self.pages.setCurrentWidget(self.open_page)

    def back(self) -> None:
        self.kiosk.go("staff")

    def first_focus(self) -> QWidget | None:
        return self.counted if self.pages.currentWidget() is self.close_page else self.float_edit

    def _shift_known(self, shift: ShiftView | None) -> None:
        if shift is None:
            self.title_label.setText("Open a shift")
            self.pages.setCurrentWidget(self.open_page)
            self.focus(self.float_edit)
            return
        self.title_label.setText(f"Close shift {shift.id}")
        self.close_lead.setText(
            f"Count the cash in the drawer. Shift {shift.id} opened with "
            f"{money_in(shift.opening_float, shift.currency)}."
        )
        self.pages.setCurrentWidget(self.close_page)
        self.call(
            self.kiosk.app.money.cash_count, self.kiosk.actor, shift.id, on_success=self._counted
        )

    def _counted(self, count: CashCount) -> None:
        self.count = count
        c = count.currency
        self.figures.set_rows(
            [
                ("Opening float", money_in(count.opening_float, c)),
                ("Cash taken", money_in(count.cash_payments, c)),
                ("Cash refunded", money_in(count.cash_refunds, c)),
                (EXPECTED, money_in(count.expected, c)),
            ],
            emphasise=EXPECTED,
        )
        for value, caption in zip(DENOMINATIONS, self.note_captions, strict=True):
            caption.setText(money_in(value, c))
        self._update_difference()
        self.focus(self.counted)

    # --- open -----------------------------------------------------------------------------
    def open_shift(self) -> None:
        if self.busy:
            return
        try:
            amount = parse_amount(self.float_edit.text())
            if amount is None:
                raise ValueError("Type the cash in the drawer (0 if it is empty).")
        except ValueError as exc:
            set_error(self.float_error, str(exc))
            self.float_edit.setFocus()
            return
        set_error(self.float_error, "")
        self.call(
            self.kiosk.app.money.open_shift,
            self.kiosk.actor,
            amount,
            on_success=self._opened,
            on_error=lambda message: set_error(self.float_error, message),
        )

    def _opened(self, shift: ShiftView) -> None:
        self.kiosk.go(
            "staff",
            message=f"Shift {shift.id} is open with a float of "
            f"{money_in(shift.opening_float, shift.currency)}.",
        )

    # --- close ----------------------------------------------------------------------------
    def _by_note(self, on: bool) -> None:
        self.notes.setVisible(on)
        self.counted.setReadOnly(on)
        if on:
            self._notes_changed()

    def _notes(self) -> dict[Decimal, int]:
        counts = {v: _count_of(e.text()) for v, e in self.note_edits.items()}
        return {v: n for v, n in counts.items() if n}

    def _notes_changed(self) -> None:
        if not self.by_note_button.isChecked():
            return
        try:
            total = sum((v * n for v, n in self._notes().items()), Decimal("0.00"))
        except ValueError as exc:
            set_error(self.counted_error, str(exc))
            return
        self.counted.setText(f"{total:.2f}")

    def _typed_count(self) -> Decimal | None:
        try:
            value = parse_amount(self.counted.text())
        except ValueError as exc:
            set_error(self.counted_error, str(exc))
            return None
        set_error(self.counted_error, "")
        return value

    def _update_difference(self) -> None:
        count = self.count
        typed = self._typed_count()
        if count is None or typed is None:
            self.difference.setText("")
            self.reason.hide()
            return
        gap = typed - count.expected
        if gap == 0:
            self.difference.setText("Difference: none")
        else:
            word = "over" if gap > 0 else "short"
            self.difference.setText(f"Difference: {money_in(gap, count.currency)} ({word})")
        self.reason.setVisible(gap != 0)

    def close_shift(self) -> None:
        count = self.count
        if self.busy or count is None:
            return
        typed = self._typed_count()
        if typed is None:
            if not self.counted_error.isVisible():
                set_error(self.counted_error, "Type the cash counted in the drawer.")
            self.counted.setFocus()
            return
        code, text = None, ""
        if typed != count.expected:
            try:
                code, text = self.reason.value()
                set_error(self.reason.error, "")
            except ValueError as exc:
                set_error(self.reason.error, str(exc))
                return
        notes = self._notes() if self.by_note_button.isChecked() else None
        self.call(
            self.kiosk.app.money.close_shift,
            self.kiosk.actor,
            count.shift_id,
            None if notes else typed,
            denominations=notes,
            reason=text,
            code=code,
            on_success=self._closed,
            on_error=lambda message: set_error(self.counted_error, message),
        )

    def _closed(self, shift: ShiftView) -> None:
        gap = shift.difference or Decimal(0)
        said = "no difference" if gap == 0 else f"a difference of {money_in(gap, shift.currency)}"
        self.kiosk.go(
            "staff",
            message=f"Shift {shift.id} closed with {said}. The Z-report "
            "has been sent to the managers.",
        )
