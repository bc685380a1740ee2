"""The demo's money (services/demo/money.py) on both databases: shifts with floats and counted
cash, a payment and a gapless receipt for every stay completed in the last two weeks, the
exceptions, and an open shift in which the kiosk takes the next payment at once."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from parking_desktop.adapters.db.models import Reservation, User
from parking_desktop.adapters.db.models_money import (
    MoneyException,
    Payment,
    Receipt,
    ReceiptCounter,
    Shift,
)
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.money import ExceptionKind, PaymentKind, PaymentMethod
from parking_desktop.domain.roles import Actor
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions, DemoResult
from parking_desktop.services.demo.money import MONEY_DAYS
from parking_desktop.services.money.views import PaymentRequest, ShiftState

PASSWORD = "demo-password-1"
OPTIONS = DemoOptions(drivers=120, lots=3, days=30, seed=5)


def load(app: App) -> DemoResult:
    return DemoLoader(app.ctx, app.users.hasher).load(OPTIONS, PASSWORD)


def sign_in(app: App, username: str) -> Actor:
    return app.users.authenticate(username, PASSWORD)[0]


def test_every_recent_stay_is_paid_once_and_the_totals_add_up(app: App, clock: FixedClock) -> None:
    result = load(app)
    now = clock.now()
    with app.db.read() as s:
        stays = {r.id: r for r in s.scalars(select(Reservation))}
        payments = list(s.scalars(select(Payment).order_by(Payment.id)))
        receipts = dict(s.execute(select(Receipt.id, Receipt.number)).tuples().all())
        counter = s.scalar(select(ReceiptCounter.last_number))
        lots_price = {r.id: r.price_per_hour for r in stays.values()}
    first_shift_open = min(p.taken_at for p in payments if p.shift_id is not None)
    paid = [p for p in payments if p.kind == PaymentKind.PAYMENT]
    assert len({p.reservation_id for p in paid}) == len(paid), "one payment per stay"
    assert len(payments) == result.payments
    since = now - timedelta(days=MONEY_DAYS)
    recent = {r.id for r in stays.values() if r.status == "completed" and r.left_at >= since}
    assert recent <= {p.reservation_id for p in paid}, "every stay of the window is paid"
    for p in paid:
        stay = stays[p.reservation_id]
        assert stay.status == "completed" and p.taken_at == stay.left_at
        assert p.amount == stay.cost and p.currency == "EUR"
        assert p.taken_at >= first_shift_open - timedelta(hours=12)
        if p.method == PaymentMethod.WAIVED:
            assert stay.cost == 0 and p.reason_code and p.reason_text
            assert compute_fee(stay.left_at - stay.parked_at, lots_price[stay.id]).cost > 0
        if p.method == PaymentMethod.CASH:
            assert p.tendered is not None and p.change == p.tendered - p.amount >= 0
        else:
            assert p.tendered is None and p.change is None
        # A driver's own check-out is billed to their account, outside any shift.
        if stay.created_by == stay.user_id:
            assert (p.method, p.shift_id) == (PaymentMethod.ACCOUNT, None)
        else:
            assert p.shift_id is not None
    assert Counter(p.method for p in paid).keys() == {"cash", "card", "account", "waived"}
    # Receipts 1..N in the order the money moved, and the counter where they end.
    in_time = sorted(payments, key=lambda p: (p.taken_at, p.id))
    assert [receipts[p.receipt_id] for p in in_time] == list(range(1, len(payments) + 1))
    assert counter == len(payments)
    # The dashboard's revenue and the demo's figure agree with what was charged.
    manager = sign_in(app, "manager")
    assert app.stats.dashboard(manager).revenue_total == result.revenue_total
    totals = app.money.totals(manager, since - timedelta(days=1), now + timedelta(days=1))
    assert sum(t.amount for t in totals) == sum(p.amount for p in payments)


def test_shifts_are_counted_approved_and_one_is_open(app: App, clock: FixedClock) -> None:
    result = load(app)
    manager = sign_in(app, "manager")
    shifts = app.money.list_shifts(manager, limit=500)
    assert len(shifts) == result.shifts >= 2 * MONEY_DAYS
    states = Counter(s.state for s in shifts)
    assert states[ShiftState.OPEN] == 1 and states[ShiftState.CLOSED] == 1
    assert states[ShiftState.APPROVED] == len(shifts) - 2
    assert not any(s.overlong for s in shifts)
    with app.db.read() as s:
        cash: dict[int, Decimal] = defaultdict(Decimal)
        for shift_id, amount in s.execute(
            select(Payment.shift_id, Payment.amount).where(Payment.method == "cash")
        ).tuples():
            assert shift_id is not None
            cash[shift_id] += amount
        rows = {row.id: row for row in s.scalars(select(Shift))}
    differences = []
    for view in shifts:
        row = rows[view.id]
        if view.state is ShiftState.OPEN:
            continue
        assert row.expected_cash == row.opening_float + cash[view.id]
        if row.counted_cash != row.expected_cash:
            differences.append(
                (row.counted_cash - row.expected_cash, row.difference_reason, view.state)
            )
    assert differences == [(Decimal("-2.00"), differences[0][1], ShiftState.APPROVED)]
    assert differences[0][1]
    report = app.money.shift_report(
        manager, next(v.id for v in shifts if rows[v.id].counted_cash != rows[v.id].expected_cash)
    )
    assert report.difference == Decimal("-2.00")
    assert report.difference_reason


def test_the_exceptions_queue_has_the_demos_reasons(app: App) -> None:
    load(app)
    manager = sign_in(app, "manager")
    found = app.money.exceptions(manager)
    kinds = Counter(e.kind for e in found)
    assert kinds == {
        ExceptionKind.FREE_EXIT: 3,
        ExceptionKind.REFUND: 1,
        ExceptionKind.CASH_DIFFERENCE: 1,
    }
    assert all(e.reason_text and e.currency == "EUR" for e in found)
    refund = next(e for e in found if e.kind is ExceptionKind.REFUND)
    assert refund.actor == "manager" and refund.amount is not None and refund.amount > 0
    assert refund.reservation_id is not None
    history = app.money.payments_of(manager, refund.reservation_id)
    assert [p.kind for p in history] == [PaymentKind.PAYMENT, PaymentKind.REFUND]
    assert history[1].amount == -refund.amount and history[1].refers_to == history[0].id
    assert history[0].amount + history[1].amount > 0  # half given back
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(MoneyException)) == 5


def test_the_kiosk_takes_a_cash_payment_at_once(app: App, clock: FixedClock) -> None:
    load(app)
    attendant = sign_in(app, "attendant1")
    shift = app.money.current_shift(attendant)
    assert shift is not None and shift.state is ShiftState.OPEN
    before = app.money.cash_count(attendant, shift.id)
    with app.db.read() as s:
        counter = s.scalar(select(ReceiptCounter.last_number))
    assert counter is not None and counter > 100
    lot = next(lot for lot in app.lots.search() if lot.available > 0)
    app.parking.check_in(attendant, lot.id, "DEMO42")
    clock.advance(hours=2)
    receipt = app.money.check_out(
        attendant, "DEMO42", PaymentRequest(method=PaymentMethod.CASH, tendered=Decimal("50"))
    )
    assert receipt.payment is not None and receipt.payment.shift_id == shift.id
    assert int(receipt.payment.receipt_number) == counter + 1  # no gap after the demo's
    after = app.money.cash_count(attendant, shift.id)
    assert after.expected == before.expected + receipt.cost


def test_reset_erases_payments_with_their_refunds(app: App) -> None:
    """``demo --reset`` empties a database whose payments have a refund (SQLite checks the
    refund's reference row by row) and the demo loads again, receipts from 1."""
    load(app)
    loader = DemoLoader(app.ctx, app.users.hasher)
    loader.erase_everything()
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.scalar(select(func.count()).select_from(ReceiptCounter)) == 0
    result = loader.load(DemoOptions(drivers=30, lots=2, days=20, seed=2), PASSWORD)
    with app.db.read() as s:
        numbers = sorted(s.scalars(select(Receipt.number)))
    assert numbers == list(range(1, result.payments + 1))


def test_a_drivers_own_payment_names_the_role_not_the_driver(app: App) -> None:
    # Payments are never edited: a driver's name written there would outlive their erasure.
    load(app)
    with app.db.read() as s:
        drivers = set(s.scalars(select(User.username).where(User.role == "driver")))
        takers = Counter(s.scalars(select(Payment.taken_by_name)))
    assert takers["driver, self-service"] > 0
    assert drivers.isdisjoint(takers)
