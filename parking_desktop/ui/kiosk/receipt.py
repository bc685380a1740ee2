"""What a stay costs: the quote shown before a check-out or release is confirmed, and the
receipt afterwards. Every figure comes from the service's CheckoutQuote / Receipt (the fee rule
lives in the domain, never here); times are shown in the site's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from parking_desktop.domain.documents import method_label
from parking_desktop.services.documents.receipts import email_receipt
from parking_desktop.services.views import CheckoutQuote, Receipt
from parking_desktop.ui.common.fee_lines import fee_rows
from parking_desktop.ui.common.formatting import duration, money, money_in
from parking_desktop.ui.common.print_pdf import print_pdf
from parking_desktop.ui.kiosk.fee_box import FeeBox
from parking_desktop.ui.kiosk.format import billed_hours, long_time
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import Card, InfoGrid, KioskButton, KioskEdit, label, short

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

FEE = "Fee"
TOTAL = "Total paid"


def _billed(hours: Decimal, parked_at: datetime, until: datetime) -> str:
    text = billed_hours(hours)
    if until - parked_at < timedelta(hours=1):
        text += " (one-hour minimum)"
    return text


def quote_rows(quote: CheckoutQuote, tz: tzinfo) -> list[tuple[str, str]]:
    return [
        ("Vehicle", quote.vehicle_number),
        ("Lot · spot", f"{quote.lot_name} · {quote.spot_number}"),
        ("Parked at", long_time(quote.parked_at, tz)),
        ("Duration", duration(quote.until - quote.parked_at)),
        (FEE, money(quote.cost)),
    ]


def payment_rows(receipt: Receipt) -> list[tuple[str, str]]:
    """How it was paid (services/money): method, and for cash what was handed over and given
    back; a waiver or discount with its reason."""
    p = receipt.payment
    if p is None:
        return []
    paid = method_label(p.method.value)
    if p.tendered is not None:  # one line: the receipt must fit a 768-line screen unshrunk
        paid += (f" · {money_in(p.tendered, p.currency)} given · "
                 f"{money_in(p.change, p.currency)} change")
    rows = [("Paid by", paid)]
    if p.fee is not None and p.fee != p.amount:
        rows.insert(0, ("Fee before discount", money_in(p.fee, p.currency)))
    if p.reason_text:
        rows.append(("Reason", p.reason_text))
    return rows


def fee_lines(fee: CheckoutQuote | Receipt) -> list[tuple[str, str]]:
    """The lines that make the fee; a stay priced before tariffs has one: its billed hours
    at its price ("1.9444 h at 1.17/h", with "(one-hour minimum)" when that applied)."""
    until = fee.until if isinstance(fee, CheckoutQuote) else fee.left_at
    billed = _billed(fee.hours, fee.parked_at, until)
    return fee_rows(fee.lines, cost=fee.cost,
                    single=f"{billed} at {money(fee.price_per_hour)}/h")


def receipt_number(reservation_id: int) -> str:
    """A booking made offline has no server number yet: the journal's (negative) one."""
    return str(reservation_id) if reservation_id > 0 else f"offline {-reservation_id}"


def receipt_rows(receipt: Receipt, tz: tzinfo) -> list[tuple[str, str]]:
    """The figures under the amount (the total itself is shown once, large, above them)."""
    number = (receipt.payment.receipt_number if receipt.payment
              else receipt_number(receipt.reservation_id))
    return [
        *payment_rows(receipt),
        ("Receipt no.", number),
        ("Vehicle", receipt.vehicle_number),
        ("Lot · spot", f"{receipt.lot_name} · {receipt.spot_number}"),
        ("Arrived", long_time(receipt.parked_at, tz)),
        ("Left", long_time(receipt.left_at, tz)),
        ("Duration", duration(receipt.left_at - receipt.parked_at)),
    ]


# Text sizes of the receipt (px at scale 1, as in kiosk.qss) and the steps by which they shrink
# until the whole card fits the window's height: the amount is never clipped.
SIZES = {"amount": 72, "lead": 24, "infoKey": 22, "infoValue": 24, "amountCaption": 22}
STEPS = (1.0, 0.9, 0.8, 0.72, 0.64, 0.56)


class QuoteCard(Card):
    """The fee if the car left now, with the figures that make it up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quoteCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(36, 28, 36, 28)
        layout.setSpacing(16)
        self.grid = InfoGrid(self)
        layout.addWidget(self.grid)
        self.lines = FeeBox(self)
        layout.addWidget(self.lines)
        self.quote: CheckoutQuote | None = None

    def show_quote(self, quote: CheckoutQuote, tz: tzinfo) -> None:
        self.quote = quote
        self.grid.set_rows(quote_rows(quote, tz), emphasise=FEE)
        self.lines.set_rows(fee_lines(quote))

    def clear(self) -> None:
        self.quote = None
        self.grid.set_rows([])
        self.lines.set_rows([])

    def fee_text(self) -> str:
        return self.grid.text(FEE)


class ReceiptScreen(KioskScreen):
    name = "receipt"
    title = "Receipt"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.then = "home"
        self.receipt: Receipt | None = None
        self.factor = 1.0  # the text size step in use (see SIZES)
        self.fit_timer = QTimer(self)
        self.fit_timer.setSingleShot(True)
        self.fit_timer.setInterval(0)
        self.fit_timer.timeout.connect(self.fit)
        card = self.card = Card(self)
        card.setObjectName("receiptCard")
        card.setMaximumWidth(900)
        column = QVBoxLayout(card)
        column.setContentsMargins(44, 30, 44, 34)
        column.setSpacing(12)
        self.headline = label("", "lead", card, wrap=True)
        column.addWidget(self.headline)
        self.total_caption = label(TOTAL, "amountCaption", card)
        column.addWidget(self.total_caption)
        self.total = label("", "amount", card, align=Qt.AlignmentFlag.AlignLeft)
        self.total.setAccessibleName("Total paid")
        column.addWidget(self.total)
        self.grid = InfoGrid(card)
        column.addWidget(self.grid)
        self.lines = FeeBox(card)
        column.addWidget(self.lines)
        self.done_button = KioskButton("Done", card, kind="primary")
        self.done_button.setObjectName("receiptDone")
        self.done_button.clicked.connect(self.back)
        self.print_button = KioskButton("Print", card)
        self.print_button.setObjectName("receiptPrint")
        self.print_button.clicked.connect(self.print_receipt)
        self.mail_button = KioskButton("E-mail", card)
        self.mail_button.setObjectName("receiptMail")
        self.mail_button.clicked.connect(self.ask_address)
        self.mail_box = QWidget(card)
        mail_row = QHBoxLayout(self.mail_box)
        mail_row.setContentsMargins(0, 0, 0, 0)
        mail_row.setSpacing(12)
        self.address = KioskEdit("Driver's e-mail address", "driver@example.com", self.mail_box)
        self.address.setObjectName("receiptAddress")
        self.address.setMaxLength(254)
        self.address.returnPressed.connect(self.send_mail)
        mail_row.addWidget(self.address, 1)
        self.send_button = KioskButton("Send", self.mail_box, kind="primary")
        self.send_button.setObjectName("receiptSend")
        self.send_button.clicked.connect(self.send_mail)
        mail_row.addWidget(self.send_button)
        self.mail_box.hide()
        self.address_error = label("", "fieldError", card, wrap=True)
        self.address_error.hide()
        column.addSpacing(8)
        buttons = QHBoxLayout()
        buttons.setSpacing(18)
        buttons.addWidget(self.done_button, 2)
        buttons.addWidget(self.print_button, 1)
        buttons.addWidget(self.mail_button, 1)
        column.addWidget(self.mail_box)
        column.addWidget(self.address_error)
        column.addLayout(buttons)
        self.busy_widgets = [self.print_button, self.mail_button, self.send_button]
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(card, 4)
        centre.addStretch(1)
        self.body.addLayout(centre)
        self.body.addStretch(1)

    def enter(self, receipt: Receipt | None = None, then: str = "home",
              headline: str = "", **kwargs: Any) -> None:
        self.then = then
        if receipt is None:
            return
        self.receipt = receipt
        tz = self.kiosk.app.settings.tz
        self.headline.setText(headline or f"Vehicle {receipt.vehicle_number} has left "
                              f"{short(receipt.lot_name)}. Thank you!")
        self.total.setText(money_in(receipt.cost, receipt.payment.currency) if receipt.payment
                           else money(receipt.cost))
        self.grid.set_rows(receipt_rows(receipt, tz))
        self.lines.set_rows(fee_lines(receipt))
        has_payment = receipt.payment is not None
        self.print_button.setVisible(has_payment)
        self.mail_button.setVisible(has_payment)
        self.mail_box.hide()
        self.fit()
        self._fit_soon()

    def reset(self) -> None:
        super().reset()
        self.receipt = None
        self.headline.clear()
        self.total.clear()
        self.grid.set_rows([])
        self.lines.set_rows([])
        self.address.clear()
        self.mail_box.hide()
        self.address_error.hide()

    # --- print and e-mail (the PDF of services/money's receipt) ---------------------------
    def _document(self) -> bytes:
        """The receipt's PDF (worker thread)."""
        payment = self.receipt.payment if self.receipt else None
        if payment is None:
            raise ValueError("This stay has no payment to print.")
        return self.kiosk.app.money.receipt_pdf(self.kiosk.actor, payment.id)

    def print_receipt(self) -> None:
        if self.busy or self.receipt is None:
            return
        number = self.receipt.payment.receipt_number if self.receipt.payment else ""

        def print_it(pdf: bytes) -> None:
            print_pdf(self, pdf, f"Receipt {number}")

        self.call(self._document, on_success=print_it)

    def ask_address(self) -> None:
        self.mail_box.show()
        self.focus(self.address)

    def send_mail(self) -> None:
        payment = self.receipt.payment if self.receipt else None
        if self.busy or payment is None:
            return
        address = self.address.text().strip()
        if "@" not in address:
            self.address_error.setText("Type the driver's e-mail address, e.g. "
                                       "name@example.com.")
            self.address_error.show()
            self.address.setFocus()
            return
        self.address_error.hide()
        app, actor = self.kiosk.app, self.kiosk.actor

        def send() -> str:
            document = app.money.receipt_document(actor, payment.id)
            email_receipt(app.email, actor, document, address=address)
            return address

        self.call(send, on_success=self._sent, on_error=self._not_sent)

    def _sent(self, address: str) -> None:
        self.mail_box.hide()
        self.show_info(f"The receipt is on its way to {address}.")

    def _not_sent(self, message: str) -> None:
        self.address_error.setText(message)
        self.address_error.show()

    def back(self) -> None:
        self.kiosk.go(self.then)

    def first_focus(self) -> QWidget | None:
        return self.done_button

    def total_text(self) -> str:
        return self.total.text()

    # --- fitting the height -----------------------------------------------------------------
    def room(self) -> int:
        """The height the card may take without the page scrolling."""
        taken = 20 + 28 + (self.banner.sizeHint().height() + 18 if not self.banner.isHidden()
                           else 0)
        return self.page_scroll.viewport().height() - taken

    def fit(self) -> None:
        """Text sized from the available height: the largest step at which the whole card
        (amount, figures, Done) fits, so nothing is squeezed or clipped at 1024x768."""
        room = self.room()
        if room < 200:  # not laid out yet (the page is fitted again when shown)
            return
        for factor in STEPS:
            self._size_text(factor)
            if self.card_height() <= room:
                return

    def card_height(self) -> int:
        """The card's height at its current width (wrapped lines counted)."""
        card = self.card
        if card.hasHeightForWidth() and card.width() > 0:
            return max(card.heightForWidth(card.width()), card.minimumSizeHint().height())
        return card.sizeHint().height()

    def _size_text(self, factor: float) -> None:
        self.factor = factor
        scale = self.kiosk.scale * factor
        self.card.setStyleSheet("".join(
            f'QLabel[role="{role}"] {{ font-size: {max(12, round(px * scale))}px; }}'
            for role, px in SIZES.items()))
        self.card.ensurePolished()
        for child in self.card.findChildren(QWidget):
            child.ensurePolished()
        layout = self.card.layout()
        if layout is not None:
            # The gaps shrink with the text: a long stay's fee lines fit at 1024x768 too.
            layout.setSpacing(max(4, round(12 * factor)))
            # So do the card's top and bottom margins: a receipt with its payment, number and
            # six fee lines must still fit at 1024x768 without a scroll bar.
            layout.setContentsMargins(44, round(30 * factor), 44, round(34 * factor))
            # A wrapped line's height depends on the width; the box layouts around the card
            # would otherwise give the headline one line. Its height for the card's width:
            margins = layout.contentsMargins()
            width = self.card.width() - margins.left() - margins.right()
            if width > 0:
                self.headline.setMinimumHeight(self.headline.heightForWidth(width))
            layout.invalidate()

    def _fit_soon(self) -> None:
        # Once the scroll area and the card have their new sizes (after this event).
        if self.receipt is not None:
            self.fit_timer.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_soon()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_soon()

    def rescale(self, scale: float) -> None:
        self._fit_soon()
