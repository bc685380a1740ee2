"""Money at the kiosk: an attendant opens a shift with a float, checks a car in and out for cash
with the change shown as typed, gives a waiver with a reason (a manager signs in on the spot
above the attendant's limit), and closes the shift with a counted difference and its reason —
on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.adapters.db.models_money import Payment
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.money import ExceptionKind, ReasonCode
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.kiosk.checkout import CheckOutScreen
from parking_desktop.ui.kiosk.shift import ShiftScreen
from parking_desktop.ui.kiosk.window import KioskWindow
from tests.conftest import PASSWORD
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, make_lot, sign_in, wait_idle

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def _check_in(qtbot: QtBot, window: KioskWindow, plate: str) -> None:
    window.go("checkin")
    checkin = window.screens["checkin"]
    qtbot.waitUntil(lambda: checkin.lots.selected() is not None)
    qtbot.keyClicks(checkin.vehicle, plate)
    qtbot.keyClick(checkin.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: checkin.result is not None)
    wait_idle(qtbot, window)


def _quote(qtbot: QtBot, window: KioskWindow, plate: str) -> CheckOutScreen:
    window.go("checkout")
    checkout = window.page(CheckOutScreen)
    qtbot.waitUntil(lambda: checkout.quote_button.isEnabled())
    qtbot.keyClicks(checkout.vehicle, plate)
    qtbot.keyClick(checkout.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: checkout.pages.currentWidget() is checkout.confirm_page)
    wait_idle(qtbot, window)
    return checkout


def _choose_reason(picker: object, code: ReasonCode, text: str, qtbot: QtBot) -> None:
    combo = picker.code  # type: ignore[attr-defined]
    combo.setCurrentIndex(combo.findData(code))
    qtbot.keyClicks(picker.text, text)  # type: ignore[attr-defined]


def test_a_full_shift_at_the_booth(
    app: App,
    qtbot: QtBot,
    open_kiosk: OpenKiosk,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
) -> None:
    lot = make_lot(app, manager, price="4.00")
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    staff = window.screens["staff"]
    qtbot.waitUntil(lambda: staff.shift_button.title.text() == "Open shift")

    # Without a shift the check-out explains why and takes nothing.
    window.go("checkout")
    checkout = window.page(CheckOutScreen)
    qtbot.waitUntil(lambda: not checkout.banner.isHidden())
    assert "No open shift" in checkout.banner.label.text()
    assert not checkout.quote_button.isEnabled()

    # Open the shift: a bad float is refused under the field, then 100.
    qtbot.mouseClick(checkout.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(staff.shift_button, Qt.MouseButton.LeftButton)
    shift_page = window.page(ShiftScreen)
    qtbot.waitUntil(lambda: shift_page.title_label.text() == "Open a shift")
    qtbot.keyClicks(shift_page.float_edit, "lots")
    qtbot.mouseClick(shift_page.open_button, Qt.MouseButton.LeftButton)
    assert "amount" in shift_page.float_error.text()
    shift_page.float_edit.clear()
    qtbot.keyClicks(shift_page.float_edit, "100")
    qtbot.mouseClick(shift_page.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current is staff)
    assert "float of €100.00" in staff.banner.label.text()
    qtbot.waitUntil(lambda: staff.shift_button.title.text() == "Close shift")
    shift = app.money.current_shift(attendant)
    assert shift is not None and shift.opening_float == Decimal("100.00")

    # Cash: 2 h at 4.00 = 8.00; 20 handed over, 12 back, shown as typed.
    _check_in(qtbot, window, "CASH1")
    clock.advance(hours=2)
    checkout = _quote(qtbot, window, "CASH1")
    assert checkout.fee_text() == "€8.00"
    panel = checkout.payment
    assert panel.due.text() == "€8.00"
    qtbot.keyClicks(panel.tendered, "5")
    assert "Less than the €8.00 due" in panel.tendered_error.text()
    qtbot.keyClicks(panel.tendered, "0")  # 50
    assert panel.change.text() == "€42.00"
    panel.tendered.clear()
    qtbot.keyClicks(panel.tendered, "20")
    assert panel.change.text() == "€12.00"
    assert panel.tendered_error.isHidden()
    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    receipt = window.screens["receipt"]
    qtbot.waitUntil(lambda: window.current is receipt)
    wait_idle(qtbot, window)
    assert receipt.total_text() == "€8.00"
    assert receipt.grid.text("Paid by") == "Cash · €20.00 given · €12.00 change"
    assert receipt.grid.text("Receipt no.") == "000001"
    assert receipt.print_button.isVisible() and receipt.mail_button.isVisible()
    qtbot.mouseClick(receipt.done_button, Qt.MouseButton.LeftButton)

    # A waiver needs a reason from the list and a few words.
    _check_in(qtbot, window, "FREE1")
    clock.advance(hours=1)
    checkout = _quote(qtbot, window, "FREE1")
    panel = checkout.payment
    qtbot.mouseClick(panel.method_buttons[panel.method.WAIVED], Qt.MouseButton.LeftButton)
    assert panel.due.text() == "€0.00" and panel.reason.isVisible()
    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    assert panel.reason.error.text() == "Choose a reason from the list."
    assert window.current is checkout
    _choose_reason(panel.reason, ReasonCode.EQUIPMENT_FAULT, "barrier stuck", qtbot)
    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current is receipt)
    wait_idle(qtbot, window)
    assert receipt.total_text() == "€0.00"
    assert receipt.grid.text("Paid by") == "Waived"
    qtbot.mouseClick(receipt.done_button, Qt.MouseButton.LeftButton)

    # A free exit of a 12-hour stay (48.00) is above the limit (10): a manager signs in.
    _check_in(qtbot, window, "BIG1")
    clock.advance(hours=12)
    checkout = _quote(qtbot, window, "BIG1")
    panel = checkout.payment
    panel.adjustment.setCurrentIndex(panel.adjustment.findText("Free exit"))
    _choose_reason(panel.reason, ReasonCode.GOODWILL, "regular customer", qtbot)
    assert panel.due.text() == "€0.00"
    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: checkout.approval is not None and checkout.approval.isVisible())
    dialog = checkout.approval
    assert dialog is not None and "€48.00" in dialog.why.text()
    qtbot.keyClicks(dialog.login, "manager1")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.mouseClick(dialog.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current is receipt)
    wait_idle(qtbot, window)
    assert receipt.total_text() == "€0.00"
    found = app.money.exceptions(manager)
    free = [e for e in found if e.kind is ExceptionKind.FREE_EXIT and e.vehicle_number == "BIG1"]
    assert len(free) == 1 and free[0].approved_by == "manager1"
    assert free[0].amount == Decimal("48.00")
    qtbot.mouseClick(receipt.done_button, Qt.MouseButton.LeftButton)

    # Close: expected 108.00; 105 counted is 3.00 short and needs a reason.
    qtbot.waitUntil(lambda: staff.shift_button.title.text() == "Close shift")
    qtbot.mouseClick(staff.shift_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shift_page.count is not None)
    wait_idle(qtbot, window)
    assert shift_page.figures.text("Expected in the drawer") == "€108.00"
    assert shift_page.figures.text("Cash taken") == "€8.00"
    qtbot.keyClicks(shift_page.counted, "105")
    assert shift_page.difference.text() == "Difference: -€3.00 (short)"
    assert shift_page.reason.isVisible()
    qtbot.mouseClick(shift_page.close_button, Qt.MouseButton.LeftButton)
    assert shift_page.reason.error.text() == "Choose a reason from the list."
    _choose_reason(shift_page.reason, ReasonCode.STAFF_ERROR, "wrong change given", qtbot)
    qtbot.mouseClick(shift_page.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current is staff)
    assert "difference of -€3.00" in staff.banner.label.text()
    closed = app.money.list_shifts(manager)[0]
    assert closed.counted_cash == Decimal("105.00") and closed.difference == Decimal("-3.00")
    assert closed.difference_reason == "wrong change given"
    with app.db.read() as s:
        paid = list(s.scalars(select(Payment.amount).order_by(Payment.id)))
        z_mails = list(s.scalars(select(EmailOutbox).where(EmailOutbox.kind == "shift_report")))
        assert paid == [Decimal("8.00"), Decimal("0.00"), Decimal("0.00")]
        assert len(z_mails) == 1  # to manager1, with the PDF Z-report
    assert lot.id > 0


def test_count_note_by_note(
    app: App,
    qtbot: QtBot,
    open_kiosk: OpenKiosk,
    manager: Actor,
    attendant: Actor,
) -> None:
    make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("50"))
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("shift")
    page = window.page(ShiftScreen)
    qtbot.waitUntil(lambda: page.count is not None)
    qtbot.mouseClick(page.by_note_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(page.note_edits[Decimal("20")], "2")
    qtbot.keyClicks(page.note_edits[Decimal("10")], "1")
    assert page.counted.text() == "50.00"
    assert page.difference.text() == "Difference: none"
    assert page.reason.isHidden()
    qtbot.mouseClick(page.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current.name == "staff")
    report = app.money.shift_report(manager, app.money.list_shifts(manager)[0].id)
    assert dict(report.denominations) == {Decimal("20.00"): 2, Decimal("10.00"): 1}


def test_wrong_manager_password_charges_nothing_and_receipt_is_mailed(
    app: App,
    qtbot: QtBot,
    open_kiosk: OpenKiosk,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
) -> None:
    make_lot(app, manager, price="4.00")
    app.money.open_shift(attendant, Decimal("20"))
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    _check_in(qtbot, window, "LONG1")
    clock.advance(hours=5)  # 20.00, a 50 % discount gives away 10.00: within the limit
    checkout = _quote(qtbot, window, "LONG1")
    panel = checkout.payment
    panel.adjustment.setCurrentIndex(panel.adjustment.findText("Discount (%)"))
    qtbot.keyClicks(panel.value, "60")  # 12.00 given away: above the limit of 10
    _choose_reason(panel.reason, ReasonCode.CUSTOMER_COMPLAINT, "waited at the barrier", qtbot)
    assert panel.due.text() == "€8.00"
    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: checkout.approval is not None and checkout.approval.isVisible())
    dialog = checkout.approval
    assert dialog is not None
    qtbot.mouseClick(dialog.approve_button, Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "Type the manager's username."  # next to the fields
    qtbot.keyClicks(dialog.login, "manager1")
    qtbot.keyClicks(dialog.password, "not-the-password")
    qtbot.mouseClick(dialog.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Manager approval refused" in checkout.banner.label.text())
    assert window.current is checkout
    assert app.money.shift_payments(attendant, app.money.current_shift(attendant).id) == []
    # Still parked, still owing the whole fee:
    assert app.parking.quote_vehicle(attendant, "LONG1").cost == Decimal("20.00")

    # 50 % stays within the limit: no manager needed; paid by card.
    panel.value.clear()
    qtbot.keyClicks(panel.value, "50")
    qtbot.mouseClick(panel.method_buttons[panel.method.CARD], Qt.MouseButton.LeftButton)
    assert not panel.cash_box.isVisible()
    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    receipt = window.screens["receipt"]
    qtbot.waitUntil(lambda: window.current is receipt)
    wait_idle(qtbot, window)
    assert receipt.total_text() == "€10.00"
    assert receipt.grid.text("Fee before discount") == "€20.00"

    # E-mail: a bad address is refused under the field, then the PDF is queued.
    qtbot.mouseClick(receipt.mail_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(receipt.address, "nobody")
    qtbot.mouseClick(receipt.send_button, Qt.MouseButton.LeftButton)
    assert "e-mail address" in receipt.address_error.text()
    receipt.address.clear()
    qtbot.keyClicks(receipt.address, "walkin@example.com")
    qtbot.mouseClick(receipt.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "walkin@example.com" in receipt.banner.label.text())
    with app.db.read() as s:
        mails = list(s.scalars(select(EmailOutbox).where(EmailOutbox.kind == "receipt")))
        assert [m.recipient for m in mails] == ["walkin@example.com"]
        assert "Your parking receipt" in mails[0].subject


def test_signing_out_closes_the_manager_dialog(
    app: App,
    qtbot: QtBot,
    open_kiosk: OpenKiosk,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
) -> None:
    make_lot(app, manager, price="4.00")
    app.money.open_shift(attendant, Decimal("0"))
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    _check_in(qtbot, window, "GONE1")
    clock.advance(hours=12)
    checkout = _quote(qtbot, window, "GONE1")
    qtbot.mouseClick(
        checkout.payment.method_buttons[checkout.payment.method.WAIVED], Qt.MouseButton.LeftButton
    )
    _choose_reason(checkout.payment.reason, ReasonCode.GOODWILL, "regular", qtbot)
    qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: checkout.approval is not None and checkout.approval.isVisible())
    dialog = checkout.approval
    window.sign_out()
    assert dialog is not None and not dialog.isVisible()
    assert checkout.approval is None
    assert window.current.name == "home"
