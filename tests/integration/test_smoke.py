from decimal import Decimal

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor


def test_check_in_and_out_charges_the_fee_rule(app: App, manager: Actor, clock: FixedClock) -> None:
    lot = app.lots.create(manager, name="City Center", address="1 Main St", pin_code="75001",
                          price_per_hour="2.50", number_of_spots=3)
    booking = app.parking.check_in(manager, lot.id, "ab-12 cd")
    assert (booking.spot_number, booking.vehicle_number) == ("P001", "AB12CD")
    clock.advance(minutes=90)
    receipt = app.parking.check_out(manager, "AB12CD")
    assert receipt.cost == Decimal("3.75")
    assert app.lots.get(lot.id).available == 3
