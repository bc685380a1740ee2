"""Driver self-service: book the first free spot of a lot, say "I have parked", release with the
fee shown first, or cancel a booking not yet parked. History and summary are one tap away."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.views import CheckoutQuote, DriverState, Receipt, ReservationView
from parking_desktop.ui.common.formatting import duration, money, price_per_hour
from parking_desktop.ui.kiosk.format import clock_time
from parking_desktop.ui.kiosk.icons import kiosk_icon
from parking_desktop.ui.kiosk.lot_picker import LotPicker, chosen_lot
from parking_desktop.ui.kiosk.receipt import QuoteCard
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    Card,
    KioskButton,
    SpotCard,
    VehicleEdit,
    action_row,
    field,
    label,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow


def _page(parent: QWidget) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget(parent)
    column = QVBoxLayout(page)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(18)
    return page, column


class DriverScreen(KioskScreen):
    name = "driver"
    title = "My parking"
    has_back = False

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.state: DriverState | None = None
        self.history_button = KioskButton(" My history", self.header, kind="quiet",
                                          accessible="My history")
        self.history_button.setObjectName("driverHistory")
        self.history_button.setIcon(kiosk_icon("reservations"))
        self.history_button.setIconSize(QSize(26, 26))
        self.history_button.clicked.connect(lambda: self.kiosk.go("history"))
        self.header_layout.insertWidget(self.header_layout.indexOf(self.user_label),
                                        self.history_button)
        self.pages = QStackedWidget(self)
        self.body.addWidget(self.pages, 1)
        self.loading_page, _ = _page(self.pages)
        self.pages.addWidget(self.loading_page)

        # Book
        self.book_page, column = _page(self.pages)
        column.addWidget(label("Choose a lot: you get its first free spot.", "lead",
                               self.book_page, wrap=True))
        self.lots = LotPicker(self.book_page)
        column.addWidget(self.lots)
        self.vehicle = VehicleEdit(self.book_page)
        column.addWidget(field("Vehicle number", self.vehicle,
                               "Letters and digits; spaces and dashes are dropped."))
        column.addStretch(1)
        self.book_button = KioskButton("Book the first free spot", self.book_page,
                                       kind="primary")
        self.book_button.setObjectName("driverBook")
        column.addWidget(self.book_button)
        self.pages.addWidget(self.book_page)

        # An open booking (reserved or parked)
        self.booking_page, column = _page(self.pages)
        self.spot = SpotCard(self.booking_page)
        column.addWidget(self.spot, 1)
        self.action_row = QWidget(self.booking_page)
        row = QHBoxLayout(self.action_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(18)
        self.parked_button = KioskButton("I have parked", self.action_row, kind="primary")
        self.parked_button.setObjectName("driverParked")
        self.release_button = KioskButton("Release my spot", self.action_row, kind="primary")
        self.release_button.setObjectName("driverRelease")
        self.cancel_button = KioskButton("Cancel booking", self.action_row, kind="danger")
        self.cancel_button.setObjectName("driverCancel")
        row.addWidget(self.parked_button, 2)
        row.addWidget(self.release_button, 2)
        row.addWidget(self.cancel_button, 1)
        column.addWidget(self.action_row)
        self.confirm_cancel = Card(self.booking_page, kind="warning")
        row = QHBoxLayout(self.confirm_cancel)
        row.setContentsMargins(28, 16, 16, 16)
        row.setSpacing(18)
        self.cancel_question = label("", "lead", self.confirm_cancel, wrap=True)
        row.addWidget(self.cancel_question, 1)
        self.cancel_yes = KioskButton("Yes, cancel it", self.confirm_cancel, kind="danger")
        self.cancel_yes.setObjectName("driverCancelYes")
        self.cancel_no = KioskButton("Keep it", self.confirm_cancel)
        row.addWidget(self.cancel_yes)
        row.addWidget(self.cancel_no)
        self.confirm_cancel.hide()
        column.addWidget(self.confirm_cancel)
        self.pages.addWidget(self.booking_page)

        # Release: the fee first, then confirm
        self.release_page, column = _page(self.pages)
        self.release_question = label("", "lead", self.release_page, wrap=True)
        column.addWidget(self.release_question)
        self.quote_card = QuoteCard(self.release_page)
        column.addWidget(self.quote_card)
        column.addStretch(1)
        self.release_yes = KioskButton("Release and pay", self.release_page, kind="primary")
        self.release_yes.setObjectName("driverReleaseConfirm")
        self.release_no = KioskButton("Not yet", self.release_page)
        row = action_row(self.release_yes, self.release_no)
        column.addLayout(row)
        self.pages.addWidget(self.release_page)

        self.busy_widgets = [self.lots, self.vehicle, self.book_button, self.action_row,
                             self.cancel_yes, self.release_yes]
        self.vehicle.returnPressed.connect(self.book)
        self.book_button.clicked.connect(self.book)
        self.parked_button.clicked.connect(self.parked)
        self.release_button.clicked.connect(self.ask_release)
        self.cancel_button.clicked.connect(self.ask_cancel)
        self.cancel_yes.clicked.connect(self.cancel)
        self.cancel_no.clicked.connect(self._hide_cancel)
        self.release_yes.clicked.connect(self.release)
        self.release_no.clicked.connect(self.back)
        tab_chain(self.vehicle, self.book_button)
        tab_chain(self.parked_button, self.release_button, self.cancel_button)
        tab_chain(self.cancel_yes, self.cancel_no)
        tab_chain(self.release_yes, self.release_no)

    # --- navigation -------------------------------------------------------------------------
    def enter(self, message: str = "", **kwargs: Any) -> None:
        user = self.kiosk.user
        self.title_label.setText(f"Hello {user.full_name or user.username}" if user else "")
        self.reload(message)

    def reset(self) -> None:
        super().reset()
        self.state = None
        self.vehicle.clear()
        self.lots.clear()
        self.spot.clear()
        self.quote_card.clear()
        self._hide_cancel()
        self.pages.setCurrentWidget(self.loading_page)

    def back(self) -> None:
        if self.pages.currentWidget() is self.release_page:
            self.pages.setCurrentWidget(self.booking_page)
            self._drop_calls()
            self.focus(self.release_button)
        elif self.confirm_cancel.isVisible():
            self._hide_cancel()
        else:
            self.kiosk.sign_out()

    def first_focus(self) -> QWidget | None:
        return self._focus_for_page()

    # --- loading ----------------------------------------------------------------------------
    def reload(self, message: str = "") -> None:
        self.call(self.kiosk.desk.driver_state, self.kiosk.actor,
                  on_success=lambda state: self._show_state(state, message))

    def _show_state(self, state: DriverState, message: str = "") -> None:
        self.state = state
        self._hide_cancel()
        booking = state.booking
        if booking is None:
            self.lots.set_lots(state.lots)
            self.lots.chain_tab_order(self.vehicle, self.book_button)
            if not self.vehicle.text():
                self.vehicle.setText(state.last_vehicle)
            self.pages.setCurrentWidget(self.book_page)
            if state.lots and not any(lot.free for lot in state.lots):
                self.show_error("Every lot is full right now; please try again later.")
        else:
            self._show_booking(booking, state.quote)
            self.pages.setCurrentWidget(self.booking_page)
        if message:
            self.show_info(message)
        target = self._focus_for_page()
        if target is not None:
            self.focus(target)

    def _show_booking(self, booking: ReservationView, quote: CheckoutQuote | None) -> None:
        tz = self.kiosk.app.settings.tz
        parked = booking.status == BookingStatus.ACTIVE
        if parked and booking.parked_at is not None:
            so_far = f"  ·  fee so far {money(quote.cost)}" if quote is not None else ""
            since = quote.until if quote is not None else booking.parked_at
            detail = (f"Vehicle {booking.vehicle_number}  ·  parked since "
                      f"{clock_time(booking.parked_at, tz)} "
                      f"({duration(since - booking.parked_at)}){so_far}")
            caption = "You are parked in spot"
        else:
            detail = (f"Vehicle {booking.vehicle_number}  ·  booked at "
                      f"{clock_time(booking.reserved_at, tz)}  ·  "
                      f"{price_per_hour(booking.price_per_hour)}, charged from when you park")
            caption = "Your spot"
        self.spot.show_spot(caption, booking.spot_number,
                            f"{booking.lot_name} — {booking.lot_address}", detail)
        self.parked_button.setVisible(not parked)
        self.cancel_button.setVisible(not parked)
        self.release_button.setVisible(parked)

    def _focus_for_page(self) -> QWidget | None:
        page = self.pages.currentWidget()
        if page is self.book_page:
            return self.vehicle if not self.vehicle.text() else self.book_button
        if page is self.booking_page:
            return self.release_button if self.release_button.isVisibleTo(self) \
                else self.parked_button
        if page is self.release_page:
            return self.release_yes
        return None

    # --- actions ----------------------------------------------------------------------------
    def book(self) -> None:
        if self.busy:
            return
        lot = chosen_lot(self, self.lots, self.vehicle, "Enter your vehicle number.")
        if lot is None:
            return
        self.call(self.kiosk.desk.reserve, self.kiosk.actor, lot.id, self.vehicle.text(),
                  on_success=self._booked)

    def _booked(self, booking: ReservationView) -> None:
        self.reload(f"Spot {booking.spot_number} in {booking.lot_name} is yours. Drive to it, "
                    "then press “I have parked”.")

    def parked(self) -> None:
        booking = self._booking()
        if booking is None or self.busy:
            return
        self.call(self.kiosk.app.parking.park, self.kiosk.actor, booking.id,
                  on_success=lambda _r: self.reload(
                      "Thank you. Your parking time has started; release the spot here when "
                      "you leave."))

    def ask_cancel(self) -> None:
        booking = self._booking()
        if booking is None:
            return
        self.cancel_question.setText(f"Cancel your booking of spot {booking.spot_number}? "
                                     "There is no charge.")
        self.action_row.hide()
        self.confirm_cancel.show()
        self.cancel_no.setFocus()

    def _hide_cancel(self) -> None:
        focused = self.focusWidget()
        had_focus = focused is not None and self.confirm_cancel.isAncestorOf(focused)
        self.confirm_cancel.hide()
        self.action_row.show()
        if had_focus:
            self.cancel_button.setFocus()

    def cancel(self) -> None:
        booking = self._booking()
        if booking is None or self.busy:
            return
        self.call(self.kiosk.app.parking.cancel, self.kiosk.actor, booking.id,
                  on_success=lambda _r: self.reload("Your booking is cancelled. No charge."))

    def ask_release(self) -> None:
        booking = self._booking()
        if booking is None or self.busy:
            return
        self.call(self.kiosk.app.parking.quote, self.kiosk.actor, booking.id,
                  on_success=self._quoted)

    def _quoted(self, quote: CheckoutQuote) -> None:
        self.quote_card.show_quote(quote, self.kiosk.app.settings.tz)
        self.release_question.setText(f"Release spot {quote.spot_number} and pay "
                                      f"{money(quote.cost)}?")
        self.pages.setCurrentWidget(self.release_page)
        self.focus(self.release_yes)

    def release(self) -> None:
        quote = self.quote_card.quote
        if quote is None or self.busy:
            return
        self.call(self.kiosk.app.parking.release, self.kiosk.actor, quote.reservation_id,
                  on_success=self._released)

    def _released(self, receipt: Receipt) -> None:
        self.kiosk.go("receipt", receipt=receipt, then="driver",
                      headline=f"Spot {receipt.spot_number} is released. Thank you!")

    def _booking(self) -> ReservationView | None:
        return self.state.booking if self.state is not None else None

    def fee_text(self) -> str:
        return self.quote_card.fee_text()
