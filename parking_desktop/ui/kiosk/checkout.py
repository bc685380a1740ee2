"""Attendant check-out: type the vehicle number, see duration, price per hour and fee (the
service's quote), choose how the driver pays (services/money: cash with change, card, account,
or a waiver or discount with its reason), confirm, then the receipt. Payments belong to the
attendant's open shift: without one the page says so and takes none."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from parking_desktop.domain.roles import Role
from parking_desktop.services.money.views import PaymentRequest, ShiftView
from parking_desktop.services.views import CheckoutQuote, Receipt
from parking_desktop.ui.common.formatting import money
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.kiosk.manager_dialog import ManagerApprovalDialog
from parking_desktop.ui.kiosk.payment import PaymentPanel
from parking_desktop.ui.kiosk.receipt import QuoteCard
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    KioskButton,
    VehicleEdit,
    action_row,
    field,
    label,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow


class CheckOutScreen(KioskScreen):
    name = "checkout"
    title = "Check a vehicle out"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.pages = QStackedWidget(self)
        self.body.addWidget(self.pages, 1)

        form = QWidget(self.pages)
        column = QVBoxLayout(form)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(18)
        self.vehicle = VehicleEdit(form)
        column.addWidget(field("Vehicle number", self.vehicle,
                               "The fee is shown before anything is charged."))
        column.addStretch(1)
        self.quote_button = KioskButton("Show the fee", form, kind="primary")
        self.quote_button.setObjectName("checkOutQuote")
        self.cancel_button = KioskButton("Cancel", form)
        buttons = action_row(self.quote_button, self.cancel_button)
        column.addLayout(buttons)
        self.pages.addWidget(form)
        self.form_page = form

        confirm = QWidget(self.pages)
        column = QVBoxLayout(confirm)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(18)
        self.question = label("", "lead", confirm, wrap=True)
        column.addWidget(self.question)
        cards = QHBoxLayout()
        cards.setSpacing(18)
        self.quote_card = QuoteCard(confirm)
        cards.addWidget(self.quote_card, 1)
        self.payment = PaymentPanel(confirm)
        cards.addWidget(self.payment, 1)
        column.addLayout(cards)
        column.addStretch(1)
        self.confirm_button = KioskButton("Take payment and check out", confirm, kind="primary")
        self.confirm_button.setObjectName("checkOutConfirm")
        self.not_now_button = KioskButton("Not now", confirm)
        buttons = action_row(self.confirm_button, self.not_now_button)
        column.addLayout(buttons)
        self.pages.addWidget(confirm)
        self.confirm_page = confirm

        self.shift: ShiftView | None = None
        self.approval: ManagerApprovalDialog | None = None
        self.busy_widgets = [self.vehicle, self.quote_button, self.confirm_button, self.payment]
        self.vehicle.returnPressed.connect(self.show_fee)
        self.quote_button.clicked.connect(self.show_fee)
        self.cancel_button.clicked.connect(lambda: self.kiosk.go("staff"))
        self.confirm_button.clicked.connect(self.confirm)
        self.not_now_button.clicked.connect(self.back)
        tab_chain(self.vehicle, self.quote_button, self.cancel_button)
        tab_chain(self.confirm_button, self.not_now_button)

    def enter(self, vehicle: str = "", **kwargs: Any) -> None:
        self.reset()
        # Quietly: the attendant may type the plate meanwhile (the service refuses a payment
        # outside a shift anyway; this only says so before the fee is even asked for).
        # Unreachable database: the check-out goes to the offline journal; say nothing here.
        self.call(self.kiosk.app.money.current_shift, self.kiosk.actor, quiet=True,
                  on_success=self._shift_known, on_error=lambda _message: None)
        if vehicle:
            self.vehicle.setText(vehicle)
            self.show_fee()

    def _shift_known(self, shift: ShiftView | None) -> None:
        self.shift = shift
        for widget in (self.quote_button, self.vehicle, self.confirm_button):
            set_enabled(widget, shift is not None)  # held by a running call: when it ends
        if shift is None:
            self._drop_calls()
            self.pages.setCurrentWidget(self.form_page)
            self.show_error("No open shift: payments are only taken inside a shift. Go back and "
                            "choose \"Open shift\" with the cash float in the drawer.")
            self.focus(self.cancel_button)

    def reset(self) -> None:
        super().reset()
        self.vehicle.clear()
        self.quote_card.clear()
        self.payment.clear()
        self.shift = None
        if self.approval is not None:  # signed out meanwhile: the next user must not see it
            self.approval.reject()
        for widget in (self.quote_button, self.vehicle, self.confirm_button):
            set_enabled(widget, True)
        self.pages.setCurrentWidget(self.form_page)

    def back(self) -> None:
        if self.pages.currentWidget() is self.confirm_page:
            self._drop_calls()
            self.pages.setCurrentWidget(self.form_page)
            self.vehicle.selectAll()
            self.vehicle.setFocus()
        else:
            self.kiosk.go("staff")

    def first_focus(self) -> QWidget | None:
        if self.pages.currentWidget() is self.confirm_page:
            return self.confirm_button
        return self.vehicle

    def show_fee(self) -> None:
        if self.busy:
            return
        if not self.vehicle.text():
            self.show_error("Enter the vehicle number.")
            self.vehicle.setFocus()
            return
        self.call(self.kiosk.desk.quote_vehicle, self.kiosk.actor, self.vehicle.text(),
                  on_success=self._quoted)

    def _quoted(self, quote: CheckoutQuote) -> None:
        self.quote_card.show_quote(quote, self.kiosk.app.settings.tz)
        self.payment.clear()
        self.payment.set_fee(quote.cost)
        self.question.setText(f"Check out {quote.vehicle_number} from {quote.lot_name}, "
                              f"spot {quote.spot_number}?")
        self.pages.setCurrentWidget(self.confirm_page)
        self.focus(self.confirm_button)

    def confirm(self) -> None:
        quote = self.quote_card.quote
        if self.busy or quote is None:
            return
        request = self.payment.request()
        if request is None:
            self.show_error("Check the payment: see the message under the field.")
            return
        if self._needs_manager():
            self._ask_manager(request)
            return
        self._take(request)

    def _take(self, request: PaymentRequest) -> None:
        quote = self.quote_card.quote
        if quote is None:
            return
        # Through the desk: the server (payment in the shift), or the offline journal.
        self.call(self.kiosk.desk.check_out, self.kiosk.actor, quote.vehicle_number,
                  request, on_success=self._checked_out)

    def _needs_manager(self) -> bool:
        """An attendant gives away more than ATTENDANT_WAIVER_LIMIT (a manager needs no one)."""
        limit = self.kiosk.app.money.policy.waiver_limit
        return self.kiosk.actor.role is Role.ATTENDANT and self.payment.given_away() > limit

    def _ask_manager(self, request: PaymentRequest) -> None:
        limit = self.kiosk.app.money.policy.waiver_limit
        dialog = self.approval = ManagerApprovalDialog(
            f"Giving away {money(self.payment.given_away())} is above the attendant limit of "
            f"{money(limit)}: a manager signs in here to approve it.", self)

        def answered(code: int) -> None:
            self.approval = None
            dialog.deleteLater()
            if code == QDialog.DialogCode.Accepted.value:
                self._take(replace(request, manager=dialog.sign_in()))
            else:
                self.show_error("Not approved: nothing was charged. Change the discount or ask "
                                "a manager.")

        dialog.finished.connect(answered)
        dialog.open()  # window-modal, without a nested event loop

    def _checked_out(self, receipt: Receipt) -> None:
        self.kiosk.go("receipt", receipt=receipt, then="staff")
        if receipt.payment is None:  # the offline journal took it: no payment recorded here
            self.kiosk.current.show_info(
                "Checked out offline: the payment method was not recorded. It is sent when the "
                "link is back, billed as the default and shown to a manager; note cash by hand.")

    def fee_text(self) -> str:
        return self.quote_card.fee_text()
