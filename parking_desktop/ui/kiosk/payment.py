"""How the driver pays at the check-out: method (cash, card, account, waived), cash tendered with
the change due shown as it is typed, and an exception (free exit, discount by amount or percent,
fee override) with its reason from the short list plus free text. The figures shown here are
the service's own rules (services/money/rules.py) applied to the quoted fee; the service applies
them again to the fee at the moment of the check-out and has the last word."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.money import PaymentMethod, ReasonCode
from parking_desktop.services.money.rules import Charge, change_due, charge
from parking_desktop.services.money.views import Adjustment, AdjustmentKind, PaymentRequest
from parking_desktop.ui.common.formatting import money
from parking_desktop.ui.common.numbers import decimal_text
from parking_desktop.ui.kiosk.widgets import Card, KioskButton, KioskEdit, label

METHODS = (
    (PaymentMethod.CASH, "Cash"),
    (PaymentMethod.CARD, "Card"),
    (PaymentMethod.ACCOUNT, "Account"),
    (PaymentMethod.WAIVED, "Waive"),
)
ADJUSTMENTS = (
    (None, "No discount"),
    (AdjustmentKind.FREE_EXIT, "Free exit"),
    (AdjustmentKind.DISCOUNT_AMOUNT, "Discount (amount)"),
    (AdjustmentKind.DISCOUNT_PERCENT, "Discount (%)"),
    (AdjustmentKind.FEE_OVERRIDE, "Different fee"),
)
REASONS = {
    ReasonCode.CUSTOMER_COMPLAINT: "Customer complaint",
    ReasonCode.EQUIPMENT_FAULT: "Equipment fault",
    ReasonCode.STAFF_ERROR: "Staff error",
    ReasonCode.GOODWILL: "Goodwill",
    ReasonCode.EMERGENCY_VEHICLE: "Emergency vehicle",
    ReasonCode.VALIDATION_TICKET: "Validated ticket",
    ReasonCode.LOST_TICKET: "Lost ticket",
    ReasonCode.ADMINISTRATIVE: "Administrative",
    ReasonCode.OTHER: "Other",
}


def parse_amount(text: str) -> Decimal | None:
    """A typed amount ("12,50" or "12.50"), None when empty; ValueError when not a number."""
    cleaned = decimal_text(text)
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Type an amount such as 12.50.") from None
    if not value.is_finite() or value < 0:
        raise ValueError("Type a positive amount such as 12.50.")
    return value


def error_label(parent: QWidget) -> QLabel:
    """The message shown under a field when what was typed is refused."""
    shown = label("", "fieldError", parent, wrap=True)
    shown.hide()
    return shown


def set_error(target: QLabel, message: str) -> None:
    target.setText(message)
    target.setVisible(bool(message))


class ReasonPicker(QWidget):
    """A reason from the short list plus free text (both required)."""

    def __init__(
        self, parent: QWidget | None = None, *, caption: str = "Reason", stacked: bool = False
    ) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        self.caption = label(caption, "fieldLabel", self)
        # Stacked (a narrow card): the list says what it is for instead of a caption line.
        self.caption.setVisible(not stacked)
        column.addWidget(self.caption)
        row = QVBoxLayout() if stacked else QHBoxLayout()
        row.setSpacing(8 if stacked else 12)
        self.code = QComboBox(self)
        self.code.setAccessibleName(f"{caption}: kind")
        self.code.view().setAccessibleName(f"{caption}: the list")
        self.code.addItem(f"{caption}: choose…" if stacked else "Choose…", None)
        for code, text in REASONS.items():
            self.code.addItem(text, code)
        row.addWidget(self.code, 1)
        self.text = KioskEdit(f"{caption}: details", "What happened", self)
        self.text.setMaxLength(500)
        row.addWidget(self.text, 2)
        column.addLayout(row)
        self.error = error_label(self)
        column.addWidget(self.error)

    def value(self) -> tuple[ReasonCode, str]:
        """The reason, or ValueError with what is missing (shown under the field)."""
        code = self.code.currentData()
        if code is None:
            raise ValueError("Choose a reason from the list.")
        text = self.text.text().strip()
        if not text:
            raise ValueError("Say in a few words what happened.")
        return ReasonCode(code), text

    def clear(self) -> None:
        self.code.setCurrentIndex(0)
        self.text.clear()
        set_error(self.error, "")


class PaymentPanel(Card):
    """The payment part of the check-out page. ``changed`` fires whenever what is due moves."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentCard")
        self.fee = Decimal("0.00")
        column = QVBoxLayout(self)
        column.setContentsMargins(28, 22, 28, 22)
        column.setSpacing(12)

        column.addWidget(label("Payment method", "fieldLabel", self))
        methods = QHBoxLayout()
        methods.setSpacing(10)
        self.method_group = QButtonGroup(self)
        self.method_buttons: dict[PaymentMethod, KioskButton] = {}
        for method, text in METHODS:
            button = KioskButton(text, self, kind="choice", accessible=f"Pay by {text.lower()}")
            button.setProperty("method", True)
            button.setObjectName(f"method_{method.value}")
            button.setCheckable(True)
            self.method_group.addButton(button)
            self.method_buttons[method] = button
            methods.addWidget(button, 1)
        self.method_buttons[PaymentMethod.CASH].setChecked(True)
        column.addLayout(methods)

        self.cash_box = QWidget(self)
        cash = QGridLayout(self.cash_box)
        cash.setContentsMargins(0, 0, 0, 0)
        cash.setHorizontalSpacing(16)
        cash.setVerticalSpacing(4)
        tendered_caption = label("Cash tendered", "fieldLabel", self.cash_box)
        self.tendered = KioskEdit("Cash tendered", "exact amount", self.cash_box)
        self.tendered.setObjectName("tenderedEdit")
        self.tendered.setProperty("keyboard", "number")
        self.tendered.setMaxLength(12)
        tendered_caption.setBuddy(self.tendered)
        cash.addWidget(tendered_caption, 0, 0)
        cash.addWidget(self.tendered, 1, 0)
        cash.addWidget(label("Change due", "fieldLabel", self.cash_box), 0, 1)
        self.change = label("", "figure", self.cash_box)
        self.change.setObjectName("changeDue")
        self.change.setAccessibleName("Change due")
        cash.addWidget(self.change, 1, 1)
        cash.setColumnStretch(0, 1)
        cash.setColumnStretch(1, 1)
        self.tendered_error = error_label(self.cash_box)
        cash.addWidget(self.tendered_error, 2, 0, 1, 2)
        column.addWidget(self.cash_box)

        adjust = QHBoxLayout()
        adjust.setSpacing(12)
        self.adjustment = QComboBox(self)
        self.adjustment.setObjectName("adjustmentKind")
        self.adjustment.setAccessibleName("Discount or free exit")
        self.adjustment.view().setAccessibleName("Discounts and free exit")
        for kind, text in ADJUSTMENTS:
            self.adjustment.addItem(text, kind)
        adjust.addWidget(self.adjustment, 1)
        self.value = KioskEdit("Discount value", "amount", self)
        self.value.setObjectName("adjustmentValue")
        self.value.setProperty("keyboard", "number")
        self.value.setMaxLength(12)
        adjust.addWidget(self.value, 1)
        column.addLayout(adjust)
        self.value_error = error_label(self)
        column.addWidget(self.value_error)
        self.reason = ReasonPicker(self, stacked=True)
        column.addWidget(self.reason)

        due = QHBoxLayout()
        due.addWidget(label("To pay", "fieldLabel", self))
        due.addStretch(1)
        self.due = label("", "infoTotal", self, align=Qt.AlignmentFlag.AlignRight)
        self.due.setObjectName("amountDue")
        self.due.setAccessibleName("To pay")
        due.addWidget(self.due)
        column.addLayout(due)

        self.method_group.buttonToggled.connect(lambda *_: self._update())
        self.adjustment.currentIndexChanged.connect(lambda *_: self._update())
        self.tendered.textChanged.connect(lambda *_: self._update())
        self.value.textChanged.connect(lambda *_: self._update())
        self._update()

    # --- what was chosen -----------------------------------------------------------------
    @property
    def method(self) -> PaymentMethod:
        for method, button in self.method_buttons.items():
            if button.isChecked():
                return method
        return PaymentMethod.CASH

    def set_method(self, method: PaymentMethod) -> None:
        self.method_buttons[method].setChecked(True)

    def adjustment_kind(self) -> AdjustmentKind | None:
        data = self.adjustment.currentData()
        return None if data is None else AdjustmentKind(data)

    def set_fee(self, fee: Decimal) -> None:
        self.fee = fee
        self._update()

    def clear(self) -> None:
        self.set_method(PaymentMethod.CASH)
        self.adjustment.setCurrentIndex(0)
        self.tendered.clear()
        self.value.clear()
        self.reason.clear()
        for target in (self.tendered_error, self.value_error):
            set_error(target, "")
        self.set_fee(Decimal("0.00"))

    def needs_reason(self) -> bool:
        return self.method is PaymentMethod.WAIVED or self.adjustment_kind() is not None

    def preview(self) -> Charge | None:
        """What the driver pays with the choices so far (None while a value does not parse)."""
        try:
            return charge(self.fee, self._adjustment_of(*self._reason_or_blank()), self.method)
        except (ValueError, ValidationError):
            return None

    def given_away(self) -> Decimal:
        shown = self.preview()
        return Decimal(0) if shown is None else shown.given_away

    def request(self) -> PaymentRequest | None:
        """The PaymentRequest for the service; None (with the messages under the fields) when
        something is missing or wrong."""
        ok = True
        code_text: tuple[ReasonCode, str] | None = None
        if self.needs_reason():
            try:
                code_text = self.reason.value()
                set_error(self.reason.error, "")
            except ValueError as exc:
                set_error(self.reason.error, str(exc))
                ok = False
        adjustment = None
        try:
            adjustment = self._adjustment_of(*(code_text or self._reason_or_blank()))
            shown = charge(self.fee, adjustment, self.method)
            set_error(self.value_error, "")
        except (ValueError, ValidationError) as exc:
            set_error(self.value_error, str(exc))
            return None
        tendered = None
        if self.method is PaymentMethod.CASH:
            try:
                tendered = parse_amount(self.tendered.text())
                change_due(shown.charged, tendered)
                set_error(self.tendered_error, "")
            except (ValueError, ValidationError) as exc:
                set_error(self.tendered_error, self._tendered_message(exc, shown.charged))
                ok = False
        if not ok:
            return None
        if self.method is PaymentMethod.WAIVED and code_text is not None and adjustment is None:
            return PaymentRequest(
                method=self.method, reason_code=code_text[0], reason_text=code_text[1]
            )
        return PaymentRequest(
            method=self.method,
            tendered=tendered,
            adjustment=adjustment,
            reason_code=code_text[0] if code_text else None,
            reason_text=code_text[1] if code_text else "",
        )

    # --- inside --------------------------------------------------------------------------
    def _reason_or_blank(self) -> tuple[ReasonCode, str]:
        data = self.reason.code.currentData()
        return (ReasonCode(data) if data else ReasonCode.OTHER), self.reason.text.text().strip()

    def _adjustment_of(self, code: ReasonCode, text: str) -> Adjustment | None:
        kind = self.adjustment_kind()
        if kind is None or self.method is PaymentMethod.WAIVED:
            return None
        value = Decimal(0)
        if kind is not AdjustmentKind.FREE_EXIT:
            typed = parse_amount(self.value.text())
            if typed is None:
                raise ValueError("Type the discount or the fee.")
            value = typed
        return Adjustment(kind, code, text, value)

    @staticmethod
    def _tendered_message(exc: Exception, due: Decimal) -> str:
        if isinstance(exc, ValidationError) and "less than" in str(exc):
            return f"Less than the {money(due)} due."
        return str(exc)

    def _update(self) -> None:
        method = self.method
        kind = self.adjustment_kind()
        self.cash_box.setVisible(method is PaymentMethod.CASH)
        waived = method is PaymentMethod.WAIVED
        self.adjustment.setEnabled(not waived)
        self.value.setVisible(not waived and kind not in (None, AdjustmentKind.FREE_EXIT))
        self.value.setPlaceholderText(
            "percent"
            if kind is AdjustmentKind.DISCOUNT_PERCENT
            else "new fee"
            if kind is AdjustmentKind.FEE_OVERRIDE
            else "amount"
        )
        self.reason.setVisible(self.needs_reason())
        shown = self.preview()
        self.due.setText("—" if shown is None else money(shown.charged))
        change = "—"
        if shown is not None and method is PaymentMethod.CASH:
            try:
                typed = parse_amount(self.tendered.text())
                change = money(change_due(shown.charged, typed)[1])
                set_error(self.tendered_error, "")
            except (ValueError, ValidationError) as exc:
                set_error(self.tendered_error, self._tendered_message(exc, shown.charged))
        self.change.setText(change)
        self.changed.emit()
