"""The kiosk desk and money (both databases): online, the payment the attendant chose is
recorded in the shift; offline, the journal takes the check-out without one and the replay
records the default payment, as docs/money.md says."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy.exc import OperationalError

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.money import PaymentMethod
from parking_desktop.domain.roles import Actor
from parking_desktop.services.kiosks.desk import KioskDesk
from parking_desktop.services.kiosks.monitor import ConnectionMonitor, KioskIdentity
from parking_desktop.services.money.views import PaymentRequest
from tests.integration.test_offline_journal import desk_for, make_lot


def test_online_the_chosen_payment_offline_the_journal(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    lot = make_lot(app, manager)
    shift = app.money.open_shift(attendant, Decimal("30"))
    offline, sync = desk_for(app, tmp_path, "a")
    sync.sync_now()
    link = ConnectionMonitor(
        lambda _r: app.ctx.clock.now(), KioskIdentity("a" * 36, "h", "", "0"), app.ctx.clock
    )
    desk = KioskDesk(app.parking, app.lots, app.kiosk, offline, link, money=app.money)

    desk.check_in(attendant, lot, "PAY1")
    clock.advance(hours=2)
    paid = desk.check_out(
        attendant, "PAY1", PaymentRequest(method=PaymentMethod.CASH, tendered=Decimal("10"))
    )
    assert paid.payment is not None
    assert (paid.payment.method, paid.payment.amount, paid.payment.change) == (
        PaymentMethod.CASH,
        Decimal("5.00"),
        Decimal("5.00"),
    )
    assert paid.payment.shift_id == shift.id

    desk.check_in(attendant, lot, "OFF1")
    sync.sync_now()  # the journal's picture knows the car
    link.report_failure(OperationalError("SELECT 1", None, Exception("server closed")))
    assert desk.working_offline
    clock.advance(hours=1)
    journal = desk.check_out(attendant, "OFF1", PaymentRequest(method=PaymentMethod.CASH))
    assert journal.payment is None  # the kiosk tells the attendant the method was not kept
    assert app.money.cash_count(attendant, shift.id).cash_payments == Decimal("5.00")
