"""The desktop's Shifts and Exceptions screens (managers): a closed shift with a difference is
read and approved; the exceptions queue filters by kind and attendant, and a payment is refunded
from it as a new negative row — on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from parking_desktop.adapters.db.models_money import Payment
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.money import ExceptionKind, PaymentMethod, ReasonCode
from parking_desktop.domain.roles import Actor
from parking_desktop.services.money.views import (
    Adjustment,
    AdjustmentKind,
    PaymentRequest,
    ShiftState,
)
from parking_desktop.ui.desktop.exceptions_screen import ExceptionsScreen
from parking_desktop.ui.desktop.shifts_screen import ShiftsScreen
from tests.ui.conftest import Desk, make_lot, wait_for


def _a_day_at_the_booth(app: App, clock: FixedClock, manager: Actor, attendant: Actor) -> int:
    lot = make_lot(app, manager, price="3.00")
    shift = app.money.open_shift(attendant, Decimal("50"))
    app.parking.check_in(attendant, lot.id, "CASH1")
    clock.advance(hours=2)
    app.money.check_out(attendant, "CASH1", PaymentRequest(method=PaymentMethod.CASH))
    app.parking.check_in(attendant, lot.id, "DISC1")
    clock.advance(hours=1)
    app.money.check_out(
        attendant,
        "DISC1",
        PaymentRequest(
            method=PaymentMethod.CARD,
            adjustment=Adjustment(
                AdjustmentKind.DISCOUNT_AMOUNT,
                ReasonCode.VALIDATION_TICKET,
                "hotel stamp",
                Decimal("1"),
            ),
        ),
    )
    app.money.close_shift(
        attendant, shift.id, Decimal("55"), reason="coin dropped", code=ReasonCode.STAFF_ERROR
    )
    return shift.id


def test_shifts_screen_shows_the_count_and_approves(
    app: App,
    desk: Desk,
    qtbot: QtBot,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
) -> None:
    shift_id = _a_day_at_the_booth(app, clock, manager, attendant)
    screen = desk.open(ShiftsScreen, manager)
    assert screen.model.rowCount() == 1
    screen.table.selectRow(0)
    wait_for(qtbot, lambda: screen.payments.rowCount() == 2)
    desk.wait_idle(screen)
    assert screen.details.get("Expected cash") == "€56.00"  # 50 + 6 cash
    assert screen.details.get("Counted cash") == "€55.00"
    assert screen.details.get("Difference") == "-€1.00"
    assert screen.details.get("Reason") == "coin dropped"
    assert "€2.00" in [screen.payments.index(r, 4).data() for r in range(2)]
    assert "Z-report" in screen.report.toPlainText() or str(shift_id) in screen.report.toPlainText()

    # Approving a difference needs a word from the manager, shown next to the button.
    screen.approve_button.click()
    assert "difference" in screen.review_error.text()
    qtbot.keyClicks(screen.comment, "checked with the attendant")
    screen.approve_button.click()
    wait_for(qtbot, lambda: app.money.list_shifts(manager)[0].state is ShiftState.APPROVED)
    wait_for(qtbot, lambda: screen.details.get("Approved").startswith("manager1"))
    assert app.money.list_shifts(manager)[0].manager_comment == "checked with the attendant"
    assert not screen.approve_button.isEnabled()

    # Filters: approved shows it, open does not.
    screen.state.setCurrentIndex(screen.state.findText("Open"))
    wait_for(qtbot, lambda: screen.model.rowCount() == 0)
    screen.state.setCurrentIndex(screen.state.findText("Approved"))
    wait_for(qtbot, lambda: screen.model.rowCount() == 1)


def test_exceptions_filter_and_refund(
    app: App,
    desk: Desk,
    qtbot: QtBot,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
) -> None:
    _a_day_at_the_booth(app, clock, manager, attendant)
    screen = desk.open(ExceptionsScreen, manager)
    kinds = {screen.model.index(r, 1).data() for r in range(screen.model.rowCount())}
    assert kinds == {"Discount", "Cash difference"}

    screen.kind.setCurrentIndex(screen.kind.findData(ExceptionKind.DISCOUNT.value))
    wait_for(qtbot, lambda: screen.model.rowCount() == 1)
    assert screen.model.index(0, 2).data() == "€1.00"
    assert screen.model.index(0, 4).data() == "DISC1"
    screen.attendant.setText("nobody")
    screen.attendant.returnPressed.emit()
    wait_for(qtbot, lambda: screen.model.rowCount() == 0)
    screen.attendant.setText("attendant1")
    screen.attendant.returnPressed.emit()
    wait_for(qtbot, lambda: screen.model.rowCount() == 1)

    # A manager refunds the discounted card payment: a new negative row, the original kept.
    screen.table.selectRow(0)
    assert screen.refund_button.isEnabled()
    screen.refund_button.click()
    dialog = screen.dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.amount, "5")
    dialog.ok.click()
    assert dialog.error.text() == "Choose a reason from the list."
    dialog.code.setCurrentIndex(dialog.code.findData(ReasonCode.CUSTOMER_COMPLAINT))
    qtbot.keyClicks(dialog.text, "charged twice")
    dialog.ok.click()  # 5.00 is more than the 2.00 paid: the service refuses
    wait_for(qtbot, lambda: "2.00" in screen.banner.label.text())
    screen.refund_button.click()
    dialog = screen.dialog
    assert dialog is not None
    dialog.code.setCurrentIndex(dialog.code.findData(ReasonCode.CUSTOMER_COMPLAINT))
    qtbot.keyClicks(dialog.text, "charged twice")
    dialog.ok.click()  # no amount: all that is left
    wait_for(qtbot, lambda: "original is kept" in screen.banner.label.text())
    with app.db.read() as s:
        amounts = list(s.scalars(select(Payment.amount).order_by(Payment.id)))
    assert amounts == [Decimal("6.00"), Decimal("2.00"), Decimal("-2.00")]
    screen.attendant.setText("manager1")  # who made the refund
    screen.attendant.returnPressed.emit()
    screen.kind.setCurrentIndex(screen.kind.findData(ExceptionKind.REFUND.value))
    desk.wait_idle(screen)
    wait_for(qtbot, lambda: screen.model.index(0, 1).data() == "Refund")
    screen.table.selectRow(0)
    assert not screen.refund_button.isEnabled()  # nothing to refund on a refund


def test_a_shift_open_too_long_is_flagged(
    app: App,
    desk: Desk,
    qtbot: QtBot,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
) -> None:
    app.money.open_shift(attendant, Decimal("10"))
    clock.advance(hours=13)  # SHIFT_MAX_HOURS is 12
    app.money.open_shift(manager, Decimal("10"))  # a fresh one
    screen = desk.open(ShiftsScreen, manager)
    states = [screen.model.index(r, 2).data() for r in range(screen.model.rowCount())]
    assert states == ["Open", "Open — flagged, too long"]
    screen.state.setCurrentIndex(screen.state.findData("flagged"))
    desk.wait_idle(screen)
    wait_for(qtbot, lambda: screen.model.rowCount() == 1)
    assert screen.model.index(0, 1).data() == "attendant1"
    screen.table.selectRow(0)
    desk.wait_idle(screen)
    # An open shift is not reviewed yet: nothing to approve or comment.
    assert not screen.approve_button.isEnabled() and not screen.comment.isEnabled()
