"""Payments at check-out, refunds and voids, receipt numbers, the waiver limit: on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from parking_desktop.adapters.db.models import Reservation
from parking_desktop.adapters.db.models_money import Payment
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import (
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.money import ExceptionKind, PaymentKind, PaymentMethod, ReasonCode
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.money.views import (
    Adjustment,
    AdjustmentKind,
    ExceptionFilter,
    ManagerSignIn,
    PaymentRequest,
)
from tests.conftest import PASSWORD, START, MakeUser, Unchanged
from tests.integration.money_support import (
    exceptions,
    fees_charged,
    make_lot,
    payments,
    receipt_numbers,
    stay,
)

CASH = PaymentMethod.CASH
CARD = PaymentMethod.CARD


def test_every_check_out_has_a_payment_and_the_totals_equal_the_fees_charged(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("100"))
    first = stay(
        app,
        clock,
        attendant,
        lot,
        "AA-1",
        minutes=90,
        request=PaymentRequest(CASH, tendered=Decimal("10")),
    )
    assert first.cost == Decimal("3.75")
    assert first.payment is not None
    assert (first.payment.method, first.payment.amount, first.payment.currency) == (
        CASH,
        Decimal("3.75"),
        "EUR",
    )
    assert (first.payment.tendered, first.payment.change) == (Decimal("10.00"), Decimal("6.25"))
    stay(app, clock, attendant, lot, "AA-2", minutes=30, request=PaymentRequest(CARD))
    stay(
        app,
        clock,
        attendant,
        lot,
        "AA-3",
        minutes=200,
        request=PaymentRequest(PaymentMethod.ACCOUNT),
    )
    discounted = stay(
        app,
        clock,
        attendant,
        lot,
        "AA-4",
        minutes=120,
        request=PaymentRequest(
            CASH,
            adjustment=Adjustment(
                AdjustmentKind.DISCOUNT_PERCENT,
                ReasonCode.GOODWILL,
                "regular customer",
                Decimal("50"),
            ),
        ),
    )
    assert discounted.cost == Decimal("2.50")  # 5.00 less half

    rows = payments(app)
    assert len(rows) == 4
    assert sum(p.amount for p in rows) == fees_charged(app) == Decimal("17.08")
    totals = app.money.totals(manager, clock.now().replace(hour=0), clock.now().replace(hour=23))
    assert sum(t.amount for t in totals) == fees_charged(app)
    by_method = {t.method: t.amount for t in totals}
    assert by_method == {
        CASH: Decimal("6.25"),
        CARD: Decimal("2.50"),
        PaymentMethod.ACCOUNT: Decimal("8.33"),
    }
    assert {t.attendant for t in totals} == {attendant.username}
    assert {t.lot_name for t in totals} == {"City Center"}
    # The discount is an exception with its reason and the amount given away.
    (discount,) = exceptions(app)
    assert (discount.kind, discount.amount, discount.reason_text) == (
        "discount",
        Decimal("2.50"),
        "regular customer",
    )


def test_refunds_and_voids_are_new_rows_and_never_edit_history(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, unchanged: Unchanged
) -> None:
    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("50"))
    paid = stay(
        app, clock, attendant, lot, "RF-1", minutes=240, request=PaymentRequest(CARD)
    ).payment
    assert paid is not None and paid.amount == Decimal("10.00")
    before = payments(app)[0]

    with unchanged(), pytest.raises(PermissionDeniedError, match="manager"):
        app.money.refund(attendant, paid.id, ReasonCode.CUSTOMER_COMPLAINT, "barrier broken")
    with unchanged(), pytest.raises(ValidationError, match="why"):
        app.money.refund(manager, paid.id, ReasonCode.CUSTOMER_COMPLAINT, " ")

    refund = app.money.refund(
        manager, paid.id, ReasonCode.CUSTOMER_COMPLAINT, "barrier broken", amount=Decimal("4")
    )
    assert (refund.kind, refund.amount, refund.refers_to, refund.method) == (
        PaymentKind.REFUND,
        Decimal("-4.00"),
        paid.id,
        CARD,
    )
    with unchanged(), pytest.raises(ConflictError, match=r"At most 6\.00"):
        app.money.refund(
            manager, paid.id, ReasonCode.CUSTOMER_COMPLAINT, "again", amount=Decimal("7")
        )
    # An attendant with a manager signing in on the spot.
    void = app.money.void(
        attendant,
        paid.id,
        ReasonCode.STAFF_ERROR,
        "keyed twice",
        manager=ManagerSignIn(manager.username, PASSWORD),
    )
    assert (void.kind, void.amount) == (PaymentKind.VOID, Decimal("-6.00"))
    with unchanged(), pytest.raises(ConflictError, match="nothing left"):
        app.money.void(manager, paid.id, ReasonCode.STAFF_ERROR, "again")

    rows = payments(app)
    assert [(p.kind, p.amount) for p in rows] == [
        ("payment", Decimal("10.00")),
        ("refund", Decimal("-4.00")),
        ("void", Decimal("-6.00")),
    ]
    original = rows[0]
    assert {c.name: getattr(original, c.name) for c in Payment.__table__.columns} == {
        c.name: getattr(before, c.name) for c in Payment.__table__.columns
    }
    assert [e.kind for e in exceptions(app)] == ["refund", "void"]
    assert exceptions(app)[1].approved_by == manager.user_id
    # The stay's cost is history too: it still says what was charged at the time.
    with app.db.read() as s:
        assert s.scalar(select(Reservation.cost)) == Decimal("10.00")
    assert (
        sum(
            t.amount
            for t in app.money.totals(
                manager, clock.now().replace(hour=0), clock.now().replace(hour=23)
            )
        )
        == 0
    )


def test_the_database_itself_refuses_to_update_or_delete_a_payment(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("0"))
    stay(app, clock, attendant, lot, "DB-1", request=PaymentRequest(CASH))
    for statement in (update(Payment).values(amount=Decimal("0.01")), delete(Payment)):
        with pytest.raises(DBAPIError, match="never changed"), app.db.write() as s:
            s.execute(statement)
    assert payments(app)[0].amount == Decimal("3.75")


def test_no_code_updates_or_deletes_payments() -> None:
    """Beside the triggers: nothing in the program even tries (the demo's --reset on SQLite
    drops the triggers for its wipe of every table, then puts them back)."""
    package = Path(__file__).resolve().parents[2] / "parking_desktop"
    bad = re.compile(
        r"(update|delete)\(\s*Payment\b|(UPDATE|DELETE FROM)\s+payments", re.IGNORECASE
    )
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if bad.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_receipt_numbers_are_sequential_without_gaps_even_after_refusals(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("20"))
    first = stay(app, clock, attendant, lot, "RC-1", request=PaymentRequest(CASH))
    # A refused check-out (too little cash) rolls back with the number it took.
    app.parking.check_in(attendant, lot.id, "RC-2")
    clock.advance(hours=2)
    with pytest.raises(ValidationError, match="less than"):
        app.money.check_out(attendant, "RC-2", PaymentRequest(CASH, tendered=Decimal("1")))
    second = app.money.check_out(attendant, "RC-2", PaymentRequest(CARD))
    assert first.payment is not None and second.payment is not None
    refund = app.money.refund(manager, second.payment.id, ReasonCode.GOODWILL, "sorry")
    assert [first.payment.receipt_number, second.payment.receipt_number, refund.receipt_number] == [
        "000001",
        "000002",
        "000003",
    ]
    assert receipt_numbers(app) == [1, 2, 3]


def test_a_number_taken_by_a_transaction_that_rolls_back_is_given_back(app: App) -> None:
    from parking_desktop.services.money.receipts import next_receipt

    class Boom(Exception):
        pass

    with app.db.write() as s:
        assert next_receipt(s, START).number == 1
    with pytest.raises(Boom), app.db.write() as s:
        assert next_receipt(s, START).number == 2
        raise Boom  # e.g. the payment's INSERT failed after the number was taken
    with app.db.write() as s:
        assert next_receipt(s, START).number == 2
    assert receipt_numbers(app) == [1, 2]


def test_a_payment_outside_a_shift_is_refused(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, unchanged: Unchanged
) -> None:
    lot = make_lot(app, manager)
    app.parking.check_in(attendant, lot.id, "NS-1")
    clock.advance(hours=1)
    for method in (CASH, CARD, PaymentMethod.ACCOUNT):
        with unchanged(), pytest.raises(ConflictError, match="shift"):
            app.money.check_out(attendant, "NS-1", PaymentRequest(method))
    # The command line (the site's administrator) may record an account payment: flagged.
    with unchanged(), pytest.raises(ConflictError, match="shift"):
        app.money.check_out(SYSTEM, "NS-1", PaymentRequest(CASH))
    done = app.money.check_out(SYSTEM, "NS-1", PaymentRequest(PaymentMethod.ACCOUNT))
    assert done.payment is not None and done.payment.shift_id is None
    (flag,) = exceptions(app)
    assert (flag.kind, flag.reason_code, flag.amount) == (
        "admin_payment",
        "administrative",
        Decimal("2.50"),
    )
    # Once the shift is open, the same check-out goes through and belongs to it.
    shift = app.money.open_shift(attendant, Decimal("0"))
    taken = stay(app, clock, attendant, lot, "NS-2", request=PaymentRequest(CASH))
    assert taken.payment is not None and taken.payment.shift_id == shift.id
    # After the close, no more.
    app.money.close_shift(attendant, shift.id, Decimal("3.75"))
    app.parking.check_in(attendant, lot.id, "NS-3")
    with unchanged(), pytest.raises(ConflictError, match="shift"):
        app.money.check_out(attendant, "NS-3", PaymentRequest(CASH))


def test_a_driver_releasing_their_own_stay_is_billed_to_their_account(
    app: App, manager: Actor, driver: Actor, clock: FixedClock, unchanged: Unchanged
) -> None:
    lot = make_lot(app, manager)
    booking = app.parking.reserve(driver, lot.id, "DR-1")
    app.parking.park(driver, booking.id)
    clock.advance(hours=3)
    with unchanged(), pytest.raises(PermissionDeniedError, match="account"):
        app.money.release(driver, booking.id, PaymentRequest(CASH))
    receipt = app.parking.release(driver, booking.id)
    assert receipt.payment is not None
    assert (receipt.payment.method, receipt.payment.amount) == (
        PaymentMethod.ACCOUNT,
        Decimal("7.50"),
    )
    assert exceptions(app) == []  # self-service billing is not an exception


def test_the_attendant_waiver_limit_needs_a_manager_on_the_spot(
    app: App,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
    unchanged: Unchanged,
    make_user: MakeUser,
) -> None:
    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("0"))
    # Below the limit (10 EUR): the attendant alone.
    small = stay(
        app,
        clock,
        attendant,
        lot,
        "WV-1",
        minutes=180,
        request=PaymentRequest(
            PaymentMethod.WAIVED,
            reason_code=ReasonCode.EQUIPMENT_FAULT,
            reason_text="ticket machine down",
        ),
    )
    assert (small.cost, small.payment and small.payment.method) == (
        Decimal("0.00"),
        PaymentMethod.WAIVED,
    )
    # 6 hours = 15 EUR: above it.
    app.parking.check_in(attendant, lot.id, "WV-2")
    clock.advance(hours=6)
    free = PaymentRequest(
        PaymentMethod.WAIVED, reason_code=ReasonCode.EMERGENCY_VEHICLE, reason_text="ambulance"
    )
    with unchanged(), pytest.raises(PermissionDeniedError, match="above the attendant limit"):
        app.money.check_out(attendant, "WV-2", free)
    # (A wrong password counts as a failed sign-in of that manager: the lock-out applies.)
    with pytest.raises(PermissionDeniedError, match="refused"):
        app.money.check_out(
            attendant,
            "WV-2",
            PaymentRequest(
                PaymentMethod.WAIVED,
                reason_code=ReasonCode.EMERGENCY_VEHICLE,
                reason_text="ambulance",
                manager=ManagerSignIn(manager.username, "wrong"),
            ),
        )
    other = make_user("other_att", Role.ATTENDANT)
    with pytest.raises(PermissionDeniedError, match="not a manager"):
        app.money.check_out(
            attendant,
            "WV-2",
            PaymentRequest(
                PaymentMethod.WAIVED,
                reason_code=ReasonCode.EMERGENCY_VEHICLE,
                reason_text="ambulance",
                manager=ManagerSignIn(other.username, PASSWORD),
            ),
        )
    # A waiver needs its reason.
    with pytest.raises(ValidationError, match="reason"):
        app.money.check_out(attendant, "WV-2", PaymentRequest(PaymentMethod.WAIVED))
    approved = app.money.check_out(
        attendant,
        "WV-2",
        PaymentRequest(
            PaymentMethod.WAIVED,
            reason_code=ReasonCode.EMERGENCY_VEHICLE,
            reason_text="ambulance",
            manager=ManagerSignIn(manager.username, PASSWORD),
        ),
    )
    assert approved.cost == Decimal("0.00")
    flagged = app.money.exceptions(manager, ExceptionFilter(kind=ExceptionKind.FREE_EXIT))
    assert [(e.vehicle_number, e.amount, e.approved_by) for e in flagged] == [
        ("WV2", Decimal("15.00"), manager.username),
        ("WV1", Decimal("7.50"), None),
    ]
    # A fee override below the fee counts what it gives away, too.
    app.parking.check_in(attendant, lot.id, "WV-3")
    clock.advance(hours=8)
    with pytest.raises(PermissionDeniedError, match="limit"):
        app.money.check_out(
            attendant,
            "WV-3",
            PaymentRequest(
                CASH,
                adjustment=Adjustment(
                    AdjustmentKind.FEE_OVERRIDE, ReasonCode.LOST_TICKET, "flat rate", Decimal("5")
                ),
            ),
        )
    # A manager is not limited.
    app.money.open_shift(manager, Decimal("0"))
    done = app.money.check_out(
        manager,
        "WV-3",
        PaymentRequest(
            CASH,
            adjustment=Adjustment(
                AdjustmentKind.FEE_OVERRIDE, ReasonCode.LOST_TICKET, "flat rate", Decimal("5")
            ),
        ),
    )
    assert done.cost == Decimal("5.00")


def test_exceptions_queue_filters_by_type_attendant_lot_and_date(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, make_user: MakeUser
) -> None:
    lot = make_lot(app, manager)
    other_lot = app.lots.create(
        manager,
        name="Airport",
        address="2 Runway",
        pin_code="95700",
        price_per_hour="1.00",
        number_of_spots=5,
    )
    second = make_user("bob_att", Role.ATTENDANT)
    app.money.open_shift(attendant, Decimal("0"))
    app.money.open_shift(second, Decimal("0"))
    waive = PaymentRequest(
        PaymentMethod.WAIVED, reason_code=ReasonCode.GOODWILL, reason_text="first visit"
    )
    stay(app, clock, attendant, lot, "EX-1", request=waive)
    day_two = clock.advance(days=1)
    stay(app, clock, second, other_lot, "EX-2", request=waive)
    paid = stay(app, clock, second, lot, "EX-3", request=PaymentRequest(CARD)).payment
    assert paid is not None
    app.money.refund(manager, paid.id, ReasonCode.CUSTOMER_COMPLAINT, "charged twice")

    def kinds(**filters: object) -> list[str]:
        return [
            e.vehicle_number or ""
            for e in app.money.exceptions(manager, ExceptionFilter(**filters))
        ]  # type: ignore[arg-type]

    assert kinds() == ["EX3", "EX2", "EX1"]
    assert kinds(kind=ExceptionKind.REFUND) == ["EX3"]
    assert kinds(attendant=second.username) == ["EX2"]
    assert kinds(lot_id=other_lot.id) == ["EX2"]
    assert kinds(start=day_two.replace(hour=0)) == ["EX3", "EX2"]
    assert kinds(end=day_two.replace(hour=0)) == ["EX1"]
    with pytest.raises(PermissionDeniedError):
        app.money.exceptions(attendant)


def test_receipt_data_has_the_lot_times_fee_vat_and_method(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, db_url: str
) -> None:
    app.money.policy = app.money.policy.__class__(vat_rate=Decimal("20"))
    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("0"))
    paid = stay(
        app,
        clock,
        attendant,
        lot,
        "RD-1",
        minutes=120,
        request=PaymentRequest(CASH, tendered=Decimal("20")),
    ).payment
    assert paid is not None
    data = app.money.receipt(attendant, paid.id)
    assert (data.receipt_number, data.lot_name, data.lot_address, data.vehicle_number) == (
        "000001",
        "City Center",
        "1 Main St",
        "RD1",
    )
    assert (data.vat.gross, data.vat.vat, data.vat.net) == (
        Decimal("5.00"),
        Decimal("0.83"),
        Decimal("4.17"),
    )
    assert (data.method, data.tendered, data.change) == (CASH, Decimal("20.00"), Decimal("15.00"))
    # The tariff's lines (the lot's flat version): the same as the check-out's Receipt.
    assert data.lines == (("Mon 10:00–12:00, standard rate, 2.0000 h at 2.50/h", Decimal("5.00")),)
    assert data.parked_at.utcoffset() is not None and str(data.left_at.tzinfo) == "Europe/Paris"
    assert app.money.format(Decimal("1234.5")) == "€1,234.50"
    if db_url.startswith("sqlite"):
        with app.db.read() as s:  # the money column really holds two places
            assert s.execute(text("SELECT amount FROM payments")).scalar() == 5


def test_the_receipt_pdf_says_what_a_person_keeps(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    import io

    from pypdf import PdfReader

    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("0"))
    paid = stay(
        app,
        clock,
        attendant,
        lot,
        "PDF-1",
        minutes=150,
        request=PaymentRequest(CASH, tendered=Decimal("10")),
    ).payment
    assert paid is not None
    document = app.money.receipt_document(attendant, paid.id)
    assert (document.receipt_number, document.gross, document.payment_method) == (
        "000001",
        Decimal("6.25"),
        "cash",
    )
    reader = PdfReader(io.BytesIO(app.money.receipt_pdf(attendant, paid.id)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for words in ("000001", "City Center", "1 Main St", "PDF1", "6.25", "3.75"):
        assert words in text, words
