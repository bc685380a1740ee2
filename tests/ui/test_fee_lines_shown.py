"""Every fee is shown with the lines that make it: the reservation detail on the desktop, the
kiosk's quote before check-out and its receipt."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.common.fee_lines import fee_rows, fee_text, flat_line
from parking_desktop.ui.desktop.reservation_detail import ReservationDetail
from parking_desktop.ui.desktop.reservations import ReservationsScreen
from tests.ui.conftest import Desk, make_lot


def test_the_reservation_detail_explains_the_fee(
    app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager, "Central Station", spots=4, price="2.50")
    app.parking.check_in(attendant, lot.id, "AA111")
    clock.advance(hours=2, minutes=15)
    receipt = app.parking.check_out(attendant, "AA111")
    app.parking.check_in(attendant, lot.id, "BB222")
    clock.advance(minutes=30)
    screen = desk.open(ReservationsScreen, manager)
    qtbot.waitUntil(lambda: screen.model.total == 2)
    assert not screen.details_button.isEnabled()  # nothing selected

    screen.table.selectRow([r.vehicle_number for r in screen.model.rows()].index("AA111"))
    qtbot.mouseClick(screen.details_button, Qt.MouseButton.LeftButton)
    detail = screen.detail
    assert isinstance(detail, ReservationDetail)
    qtbot.waitUntil(lambda: detail.fee is not None)
    rows = detail.fee.rows  # type: ignore[union-attr]
    # The same lines as the receipt at check-out, adding up to what was charged.
    assert rows == fee_rows(
        receipt.lines,
        cost=receipt.cost,
        single=flat_line(receipt.hours, receipt.price_per_hour),
    )
    assert rows[-1][1] == "5.63" or len(rows) > 1
    assert detail.total.text() == "Total: 5.63"
    detail.reject()

    # A car still parked: the fee so far (the one-hour minimum), said so.
    screen.table.selectRow([r.vehicle_number for r in screen.model.rows()].index("BB222"))
    screen.show_details()
    detail = screen.detail
    assert isinstance(detail, ReservationDetail)
    qtbot.waitUntil(lambda: detail.fee is not None)
    assert detail.total.text() == "Fee so far (if the car left now): 2.50"
    assert "2.50" in fee_text(detail.fee.rows)  # type: ignore[union-attr]
    detail.reject()
