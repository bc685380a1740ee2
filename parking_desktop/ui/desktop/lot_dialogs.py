"""Create, edit and resize a lot. Fields are checked as you type with the domain's rules; the
service's refusal (a taken name, busy spots when shrinking) is shown in the dialog."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QWidget

from parking_desktop.domain import validation
from parking_desktop.services.views import LotView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.dialogs import FormDialog
from parking_desktop.ui.common.elide import elide
from parking_desktop.ui.common.forms import Field, add_row, line_edit
from parking_desktop.ui.common.numbers import decimal_text
from parking_desktop.ui.desktop.screen import SignedIn


def price_rule(currency: str) -> Callable[[str], Decimal]:
    """The lot's price as typed: the locale's decimal separator, then the service's rule with
    the ceiling of the site's currency (a yen site prices in thousands)."""
    def check(text: str) -> Decimal:
        return validation.lot_price(decimal_text(text), currency)
    return check


class LotDialog(FormDialog):
    """New lot (``lot`` is None) or edit an existing lot's details and price."""

    def __init__(self, session: SignedIn, lot: LotView | None = None,
                 parent: QWidget | None = None) -> None:
        creating = lot is None
        super().__init__(
            parent, "New parking lot" if creating else f"Edit {elide(lot.name)}",  # type: ignore[union-attr]
            "Its spots are numbered P001, P002, … and start available." if creating
            else "A new price applies to new reservations only.",
            "Create lot" if creating else "Save changes")
        self.setObjectName("lotDialog")
        self.session = session
        self.lot = lot
        body = self.body
        currency = session.app.settings.currency
        self.name = self.form.add("name", Field(
            line_edit(body, "Lot name", placeholder="e.g. Central Station", max_length=100,
                      text=lot.name if lot else ""), validation.lot_name))
        self.address = self.form.add("address", Field(
            line_edit(body, "Address", placeholder="street, postcode and town", max_length=500,
                      text=lot.address if lot else ""), validation.address))
        self.pin = self.form.add("pin_code", Field(
            line_edit(body, "Pin code", placeholder="3 to 10 letters or digits", max_length=10,
                      text=lot.pin_code if lot else ""), validation.pin_code))
        self.price = self.form.add("price_per_hour", Field(
            line_edit(body, f"Price per hour ({fmt.site_currency()})",
                      placeholder=f"e.g. 2{QLocale().decimalPoint()}50, less than "
                                  f"{validation.max_price_per_hour(currency)}", max_length=12,
                      text=str(lot.price_per_hour) if lot else ""), price_rule(currency)))
        add_row(self.rows, "Name", self.name)
        add_row(self.rows, "Address", self.address)
        add_row(self.rows, "Pin code", self.pin)
        add_row(self.rows, f"Price per hour ({fmt.site_currency()})", self.price)
        if creating:
            self.spots = self.form.add("number_of_spots", Field(
                line_edit(body, "Number of spots", placeholder=f"1 to {validation.MAX_SPOTS}",
                          max_length=5), validation.number_of_spots))
            add_row(self.rows, "Number of spots", self.spots)
        self.finish_layout()

    def save(self) -> None:
        values = self.form.values()
        lots, actor = self.session.app.lots, self.session.actor
        if self.lot is None:
            self.run(lots.create, actor, **values)
        else:
            self.run(lots.update, actor, self.lot.id, **values)


class ResizeDialog(FormDialog):
    """Grow or shrink a lot; shrinking is refused (by the service) if a removed spot is busy."""

    def __init__(self, session: SignedIn, lot: LotView, parent: QWidget | None = None) -> None:
        super().__init__(
            parent, f"Resize {elide(lot.name)}",
            f"It has {fmt.count(lot.number_of_spots)} spots now: {fmt.count(lot.available)} "
            f"free, {fmt.count(lot.reserved)} reserved, {fmt.count(lot.occupied)} occupied. "
            "Growing adds spots at the end; shrinking removes the highest-numbered spots, "
            "which must be free.", "Resize")
        self.setObjectName("resizeDialog")
        self.session = session
        self.lot = lot
        self.spots = self.form.add("number_of_spots", Field(
            line_edit(self.body, "Number of spots", max_length=5,
                      text=str(lot.number_of_spots)), validation.number_of_spots))
        add_row(self.rows, "Number of spots", self.spots)
        self.finish_layout()
        self.spots.editor.selectAll()

    def save(self) -> None:
        self.run(self.session.app.lots.resize, self.session.actor, self.lot.id,
                 self.spots.value)
