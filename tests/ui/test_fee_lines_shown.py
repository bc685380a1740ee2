"""Every fee is shown with the lines that make it: the reservation detail on the desktop, the
kiosk's quote before check-out and its receipt."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.tariffs import tariff_from_json
from parking_desktop.ui.common.fee_lines import fee_rows, fee_text, flat_line
from parking_desktop.ui.desktop.reservation_detail import ReservationDetail
from parking_desktop.ui.desktop.reservations import ReservationsScreen
from parking_desktop.ui.kiosk.receipt import ReceiptScreen
from tests.ui.conftest import Desk, make_lot
from tests.ui.test_kiosk_layout import _inside, _is_whole, _settle
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, sign_in

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


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
    assert rows[-1][1] == "€5.63" or len(rows) > 1
    assert detail.total.text() == "Total: €5.63"
    detail.reject()

    # A car still parked: the fee so far (the one-hour minimum), said so.
    screen.table.selectRow([r.vehicle_number for r in screen.model.rows()].index("BB222"))
    screen.show_details()
    detail = screen.detail
    assert isinstance(detail, ReservationDetail)
    qtbot.waitUntil(lambda: detail.fee is not None)
    assert detail.total.text() == "Fee so far (if the car left now): €2.50"
    assert "2.50" in fee_text(detail.fee.rows)  # type: ignore[union-attr]
    detail.reject()


DAY_NIGHT_CAP = {
    "increment_minutes": 15,
    "minimum_minutes": 60,
    "grace_minutes": 10,
    "daily_maximum": "20.00",
    "bands": [
        {
            "name": "day rate",
            "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "start": "08:00",
            "end": "20:00",
            "price_per_hour": "3.50",
        },
        {
            "name": "night rate",
            "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "start": "20:00",
            "end": "08:00",
            "price_per_hour": "1.20",
        },
        {
            "name": "night rate",
            "days": ["Sat"],
            "start": "08:00",
            "end": "08:00",
            "price_per_hour": "1.20",
        },
        {
            "name": "night rate",
            "days": ["Sun"],
            "start": "08:00",
            "end": "08:00",
            "price_per_hour": "1.20",
        },
    ],
}


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_a_long_stays_lines_fit_the_kiosk_receipt(
    app: App,
    qtbot: QtBot,
    open_kiosk: OpenKiosk,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
    size: tuple[int, int],
) -> None:
    lot = make_lot(app, manager, "Central Station", price="3.50")
    app.tariffs.save(lot.id, tariff_from_json(DAY_NIGHT_CAP, effective_from=clock.now()), manager)
    app.parking.check_in(attendant, lot.id, "KV548DQ")  # Monday 10:00 in Paris
    clock.advance(hours=33)  # until Tuesday 19:00: day, night, day, and the daily maximum
    window = open_kiosk()
    _settle(qtbot, window, size)
    sign_in(qtbot, window, "staff", "attendant1")
    receipt = app.parking.check_out(attendant, "KV548DQ")
    assert len(receipt.lines) >= 4
    assert any(line.amount < 0 for line in receipt.lines)  # the daily maximum
    window.go("receipt", receipt=receipt)
    page = window.page(ReceiptScreen)
    viewport = page.page_scroll.viewport()
    labels = [w for w in page.lines.labels() if w is not page.lines.caption]
    qtbot.waitUntil(
        lambda: _inside(page.done_button, viewport) and all(_is_whole(label) for label in labels),
        timeout=10_000,
    )
    assert page.lines.rows == fee_rows(receipt.lines)
    assert page.lines.rows[3][1].startswith("−")  # a reduction, with a real minus sign
    assert page.total_text() == f"€{receipt.cost:.2f}"
    assert page.page_scroll.verticalScrollBar().maximum() == 0  # nothing to scroll to
    if os.environ.get("TARIFF_SHOTS"):
        window.grab().save(f"{os.environ['TARIFF_SHOTS']}/kiosk-receipt-real-{size[0]}.png")
