"""Find a vehicle: where it is parked (or booked), since when, for whom, and the fee so far.
Part of the plate is enough: several matches are offered as big buttons to choose from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.views import FoundVehicle, ReservationView, VehicleMatches
from parking_desktop.ui.common.formatting import duration, money, price_per_hour, status
from parking_desktop.ui.kiosk.format import long_time
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    Card,
    InfoGrid,
    KioskButton,
    SpotCard,
    VehicleEdit,
    action_row,
    field,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow


class FindVehicleScreen(KioskScreen):
    name = "find"
    title = "Find a vehicle"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.found: FoundVehicle | None = None
        row = QHBoxLayout()
        row.setSpacing(18)
        self.vehicle = VehicleEdit(self)
        row.addWidget(field("Vehicle number", self.vehicle), 1)
        self.find_button = KioskButton("Find", self, kind="primary")
        self.find_button.setObjectName("findSubmit")
        self.find_button.setMinimumWidth(220)
        row.addWidget(self.find_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.body.addLayout(row)

        self.result = QWidget(self)
        result_row = QHBoxLayout(self.result)
        result_row.setContentsMargins(0, 0, 0, 0)
        result_row.setSpacing(24)
        self.spot = SpotCard(self.result)
        result_row.addWidget(self.spot, 2)
        details = Card(self.result)
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(32, 24, 32, 24)
        self.details = InfoGrid(details)
        details_layout.addWidget(self.details)
        details_layout.addStretch(1)
        result_row.addWidget(details, 3)
        self.result.hide()
        self.body.addWidget(self.result, 1)

        self.choices = QScrollArea(self)
        self.choices.setObjectName("choiceScroll")
        self.choices.setWidgetResizable(True)
        self.choices.setFrameShape(QFrame.Shape.NoFrame)
        self.choices.setAccessibleName("Matching vehicles")
        QScroller.grabGesture(self.choices.viewport(),
                              QScroller.ScrollerGestureType.TouchGesture)
        self.choice_host = QWidget()
        self.choice_grid = QGridLayout(self.choice_host)
        self.choice_grid.setContentsMargins(0, 0, 0, 0)
        self.choice_grid.setSpacing(14)
        self.choices.setWidget(self.choice_host)
        self.choice_buttons: list[KioskButton] = []
        self.choices.hide()
        self.body.addWidget(self.choices, 1)
        self.body.addStretch(0)

        self.check_out_button = KioskButton("Check this vehicle out", self, kind="primary")
        self.check_out_button.setObjectName("findCheckOut")
        self.check_out_button.hide()
        self.done_button = KioskButton("Done", self)
        buttons = action_row(self.check_out_button, self.done_button)
        self.body.addStretch(1)
        self.body.addLayout(buttons)

        self.busy_widgets = [self.vehicle, self.find_button]
        self.vehicle.returnPressed.connect(self.look_up)
        self.find_button.clicked.connect(self.look_up)
        self.check_out_button.clicked.connect(self._check_out)
        self.done_button.clicked.connect(lambda: self.kiosk.go("staff"))
        tab_chain(self.vehicle, self.find_button, self.check_out_button, self.done_button)

    def enter(self, **kwargs: Any) -> None:
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.vehicle.clear()
        self._show(None)

    def back(self) -> None:
        self.kiosk.go("staff")

    def first_focus(self) -> QWidget | None:
        return self.vehicle

    def look_up(self) -> None:
        if self.busy:
            return
        if not self.vehicle.text():
            self.show_error("Enter the vehicle number.")
            self.vehicle.setFocus()
            return
        self._show(None)
        self.call(self.kiosk.desk.find, self.kiosk.actor, self.vehicle.text(),
                  on_success=self._matched)

    def _matched(self, matches: VehicleMatches) -> None:
        if matches.found is not None:
            self._show(matches.found)
            return
        self._show_choices(matches.choices)

    def _show_choices(self, choices: list[ReservationView]) -> None:
        self.show_info(f"{len(choices)} vehicles match: choose one.")
        for index, booking in enumerate(choices):
            button = KioskButton(f"{booking.vehicle_number}\n{booking.lot_name} · spot "
                                 f"{booking.spot_number}".replace("&", "&&"),
                                 self.choice_host, kind="choice",
                                 accessible=f"{booking.vehicle_number} in {booking.lot_name}, "
                                            f"spot {booking.spot_number}")
            button.setObjectName("vehicleChoice")
            button.clicked.connect(lambda _c=False, plate=booking.vehicle_number:
                                   self._choose(plate))
            self.choice_grid.addWidget(button, index // 2, index % 2)
            self.choice_buttons.append(button)
        self.choices.show()
        tab_chain(self.vehicle, self.find_button, *self.choice_buttons, self.done_button)
        if self.choice_buttons:
            self.focus(self.choice_buttons[0])

    def _choose(self, plate: str) -> None:
        if self.busy:
            return
        self.vehicle.setText(plate)
        self._show(None)
        self.call(self.kiosk.desk.find_vehicle, self.kiosk.actor, plate,
                  on_success=self._show)

    def _clear_choices(self) -> None:
        for button in self.choice_buttons:
            button.deleteLater()
        self.choice_buttons = []
        self.choices.hide()

    def _show(self, found: FoundVehicle | None) -> None:
        self.found = found
        self._clear_choices()
        self.result.setVisible(found is not None)
        self.check_out_button.setVisible(found is not None and found.quote is not None)
        if found is None:
            self.spot.clear()
            self.details.set_rows([])
            return
        booking, quote = found.booking, found.quote
        tz = self.kiosk.app.settings.tz
        parked = booking.status == BookingStatus.ACTIVE
        self.spot.show_spot("Parked in spot" if parked else "Booked spot", booking.spot_number,
                            booking.lot_name, booking.lot_address)
        since = booking.parked_at if parked and booking.parked_at else booking.reserved_at
        rows = [
            ("Vehicle", booking.vehicle_number),
            ("Status", status(booking.status)),
            ("Parked since" if parked else "Booked at", long_time(since, tz)),
            ("Driver", booking.username or "Walk-in (no account)"),
            ("Price per hour", price_per_hour(booking.price_per_hour)),
        ]
        if quote is not None:
            rows.insert(3, ("Time so far", duration(quote.until - quote.parked_at)))
            rows.append(("Fee so far", money(quote.cost)))
        self.details.set_rows(rows, emphasise="Fee so far")
        self.focus(self.check_out_button if quote is not None else self.vehicle)

    def _check_out(self) -> None:
        if self.found is not None:
            self.kiosk.go("checkout", vehicle=self.found.booking.vehicle_number)
