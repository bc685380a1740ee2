"""Attendant check-out: type the vehicle number, see duration, price per hour and fee (the
service's quote), confirm, then the receipt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from parking_desktop.services.views import CheckoutQuote, Receipt
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
        self.quote_card = QuoteCard(confirm)
        column.addWidget(self.quote_card)
        column.addStretch(1)
        self.confirm_button = KioskButton("Confirm check-out", confirm, kind="primary")
        self.confirm_button.setObjectName("checkOutConfirm")
        self.not_now_button = KioskButton("Not now", confirm)
        buttons = action_row(self.confirm_button, self.not_now_button)
        column.addLayout(buttons)
        self.pages.addWidget(confirm)
        self.confirm_page = confirm

        self.busy_widgets = [self.vehicle, self.quote_button, self.confirm_button]
        self.vehicle.returnPressed.connect(self.show_fee)
        self.quote_button.clicked.connect(self.show_fee)
        self.cancel_button.clicked.connect(lambda: self.kiosk.go("staff"))
        self.confirm_button.clicked.connect(self.confirm)
        self.not_now_button.clicked.connect(self.back)
        tab_chain(self.vehicle, self.quote_button, self.cancel_button)
        tab_chain(self.confirm_button, self.not_now_button)

    def enter(self, vehicle: str = "", **kwargs: Any) -> None:
        self.reset()
        if vehicle:
            self.vehicle.setText(vehicle)
            self.show_fee()

    def reset(self) -> None:
        super().reset()
        self.vehicle.clear()
        self.quote_card.clear()
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
        self.question.setText(f"Check out {quote.vehicle_number} from {quote.lot_name}, "
                              f"spot {quote.spot_number}?")
        self.pages.setCurrentWidget(self.confirm_page)
        self.focus(self.confirm_button)

    def confirm(self) -> None:
        quote = self.quote_card.quote
        if self.busy or quote is None:
            return
        self.call(self.kiosk.desk.check_out, self.kiosk.actor, quote.vehicle_number,
                  on_success=self._checked_out)

    def _checked_out(self, receipt: Receipt) -> None:
        self.kiosk.go("receipt", receipt=receipt, then="staff")

    def fee_text(self) -> str:
        return self.quote_card.fee_text()
