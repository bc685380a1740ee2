"""Attendant check-in: choose the lot, type the vehicle number, optionally name the driver;
the service reserves and parks in one step and the assigned spot is shown large."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from parking_desktop.services.kiosks.journal import PROVISIONAL
from parking_desktop.services.views import LotView, ReservationView
from parking_desktop.ui.common.formatting import price_per_hour
from parking_desktop.ui.kiosk.format import clock_time
from parking_desktop.ui.kiosk.lot_picker import LotPicker, chosen_lot
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    KioskButton,
    KioskEdit,
    SpotCard,
    VehicleEdit,
    action_row,
    field,
    label,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow


class CheckInScreen(KioskScreen):
    name = "checkin"
    title = "Check a vehicle in"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.pages = QStackedWidget(self)
        self.body.addWidget(self.pages, 1)
        self.result: ReservationView | None = None

        # Form page
        form = QWidget(self.pages)
        column = QVBoxLayout(form)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(18)
        column.addWidget(label("Lot", "fieldLabel", form))
        self.lots = LotPicker(form)
        column.addWidget(self.lots)
        row = QHBoxLayout()
        row.setSpacing(24)
        self.vehicle = VehicleEdit(form)
        self.driver = KioskEdit("Driver's username (optional)", "Optional", form)
        self.driver.setMaxLength(80)
        row.addWidget(field("Vehicle number", self.vehicle,
                            "Letters and digits; spaces and dashes are dropped."), 3)
        row.addWidget(field("Driver's username", self.driver,
                            "Only if the driver has an account."), 2)
        column.addLayout(row)
        column.addStretch(1)
        self.submit_button = KioskButton("Check in", form, kind="primary")
        self.submit_button.setObjectName("checkInSubmit")
        self.cancel_button = KioskButton("Cancel", form)
        buttons = action_row(self.submit_button, self.cancel_button)
        column.addLayout(buttons)
        self.pages.addWidget(form)
        self.form_page = form

        # Result page: the spot, large
        done = QWidget(self.pages)
        column = QVBoxLayout(done)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(18)
        self.spot = SpotCard(done)
        column.addWidget(self.spot, 1)
        self.next_button = KioskButton("Next vehicle", done, kind="primary")
        self.next_button.setObjectName("checkInNext")
        self.done_button = KioskButton("Done", done)
        buttons = action_row(self.next_button, self.done_button)
        column.addLayout(buttons)
        self.pages.addWidget(done)
        self.result_page = done

        self.busy_widgets = [self.lots, self.vehicle, self.driver, self.submit_button]
        self.vehicle.returnPressed.connect(self.submit)
        self.driver.returnPressed.connect(self.submit)
        self.submit_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.new_vehicle)
        self.done_button.clicked.connect(lambda: self.kiosk.go("staff"))
        tab_chain(self.vehicle, self.driver, self.submit_button, self.cancel_button)

    # --- navigation -------------------------------------------------------------------------
    def enter(self, **kwargs: Any) -> None:
        self.new_vehicle()

    def reset(self) -> None:
        super().reset()
        self.vehicle.clear()
        self.driver.clear()
        self.lots.clear()
        self.spot.clear()
        self.result = None
        self.pages.setCurrentWidget(self.form_page)

    def back(self) -> None:
        if self.pages.currentWidget() is self.result_page:
            self.new_vehicle()
        else:
            self.kiosk.go("staff")

    def first_focus(self) -> QWidget | None:
        return self.vehicle

    def new_vehicle(self) -> None:
        self.vehicle.clear()
        self.driver.clear()
        self.result = None
        self.pages.setCurrentWidget(self.form_page)
        self.vehicle.setFocus()
        self.lots.set_loading()
        # Quiet: the attendant can start typing while the lots load.
        self.call(self.kiosk.desk.lots, on_success=self._lots_loaded, quiet=True)

    def _lots_loaded(self, lots: list[LotView]) -> None:
        self.lots.set_lots(lots)
        self.lots.chain_tab_order(self.vehicle, self.driver, self.submit_button,
                                  self.cancel_button)
        if lots and not any(lot.free for lot in lots):
            self.show_error("Every lot is full: no vehicle can be checked in right now.")

    # --- action -----------------------------------------------------------------------------
    def submit(self) -> None:
        if self.busy:
            return
        lot = chosen_lot(self, self.lots, self.vehicle, "Enter the vehicle number.")
        if lot is None:
            return
        self.call(self.kiosk.desk.check_in, self.kiosk.actor, lot.id,
                  self.vehicle.text(), self.driver.text(), on_success=self._checked_in)

    def _checked_in(self, booking: ReservationView) -> None:
        self.result = booking
        tz = self.kiosk.app.settings.tz
        when = clock_time(booking.parked_at or booking.reserved_at, tz)
        detail = (f"Vehicle {booking.vehicle_number}  ·  in at {when}  ·  "
                  f"{price_per_hour(booking.price_per_hour)}")
        if booking.username:
            detail += f"  ·  driver {booking.username}"
        # Offline the spot is this kiosk's belief: the replay may move the car's record.
        heading = "Park in spot (provisional)" if booking.note == PROVISIONAL else "Park in spot"
        self.spot.show_spot(heading, booking.spot_number, booking.lot_name, detail)
        self.pages.setCurrentWidget(self.result_page)
        self.focus(self.next_button)
