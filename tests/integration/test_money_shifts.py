"""Shifts: open with a float, close with the cash counted, the Z-report mail, review; the
exceptions digest job. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError, PermissionDeniedError, ValidationError
from parking_desktop.domain.money import ExceptionKind, PaymentMethod, ReasonCode
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.mail.outbox import OutboxView
from parking_desktop.services.money.views import ManagerSignIn, PaymentRequest, ShiftState
from tests.conftest import PASSWORD, MakeUser, Unchanged, uid
from tests.integration.money_support import exceptions, make_lot, stay
from tests.mail_support import wait_for

CASH = PaymentMethod.CASH


def outbox(app: App, manager: Actor, kind: str) -> list[OutboxView]:
    return [m for m in app.email.outbox.list(manager).items if m.kind == kind]


def test_one_open_shift_per_attendant(
    app: App, manager: Actor, attendant: Actor, unchanged: Unchanged
) -> None:
    shift = app.money.open_shift(attendant, Decimal("150"), host="kiosk-1")
    assert (shift.state, shift.attendant, shift.host, shift.opening_float, shift.currency) == (
        ShiftState.OPEN,
        attendant.username,
        "kiosk-1",
        Decimal("150.00"),
        "EUR",
    )
    with unchanged(), pytest.raises(ConflictError, match="already has an open shift"):
        app.money.open_shift(attendant, Decimal("10"), host="kiosk-2")
    with unchanged(), pytest.raises(ValidationError, match="at least 0"):
        app.money.open_shift(manager, Decimal("-1"))
    with unchanged(), pytest.raises(PermissionDeniedError):
        app.money.open_shift(attendant, Decimal("0"), attendant_id=uid(manager))
    assert app.money.current_shift(attendant) == shift


def test_close_compares_counted_cash_with_float_plus_cash_minus_refunds(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, unchanged: Unchanged
) -> None:
    manager_with_mail = manager  # the manager fixture has an e-mail address
    lot = make_lot(app, manager)
    shift = app.money.open_shift(attendant, Decimal("100"))
    paid = stay(
        app,
        clock,
        attendant,
        lot,
        "ZR-1",
        minutes=120,
        request=PaymentRequest(CASH, tendered=Decimal("20")),
    ).payment
    stay(app, clock, attendant, lot, "ZR-2", minutes=60, request=PaymentRequest(PaymentMethod.CARD))
    stay(app, clock, attendant, lot, "ZR-3", minutes=60, request=PaymentRequest(CASH))
    assert paid is not None
    # The refund is given back from this shift's drawer (the manager signs in on the spot).
    app.money.refund(
        attendant,
        paid.id,
        ReasonCode.CUSTOMER_COMPLAINT,
        "gate stuck",
        amount=Decimal("1"),
        manager=ManagerSignIn(manager.username, PASSWORD),
    )
    count = app.money.cash_count(attendant, shift.id)
    assert (count.cash_payments, count.cash_refunds, count.expected) == (
        Decimal("7.50"),
        Decimal("1.00"),
        Decimal("106.50"),
    )
    with unchanged(), pytest.raises(ValidationError, match=r"by -0\.50 EUR: give a reason"):
        app.money.close_shift(attendant, shift.id, Decimal("106.00"))
    with unchanged(), pytest.raises(ValidationError, match=r"add up to 106\.00, not 100\.00"):
        app.money.close_shift(
            attendant,
            shift.id,
            Decimal("100"),
            denominations={Decimal("50"): 2, Decimal("5"): 1, Decimal("0.5"): 2},
        )
    closed = app.money.close_shift(
        attendant,
        shift.id,
        denominations={Decimal("50"): 2, Decimal("5"): 1, Decimal("0.5"): 2},
        reason="a 50 cent coin fell behind the till",
        code=ReasonCode.STAFF_ERROR,
    )
    assert (closed.state, closed.expected_cash, closed.counted_cash, closed.difference) == (
        ShiftState.CLOSED,
        Decimal("106.50"),
        Decimal("106.00"),
        Decimal("-0.50"),
    )
    with unchanged(), pytest.raises(ConflictError, match="already closed"):
        app.money.close_shift(attendant, shift.id, Decimal("106.00"), reason="x")
    difference = [e for e in exceptions(app) if e.kind == ExceptionKind.CASH_DIFFERENCE]
    assert [(e.amount, e.reason_code) for e in difference] == [(Decimal("-0.50"), "staff_error")]

    report = app.money.shift_report(manager, shift.id)
    assert {t.method: (t.count, t.amount) for t in report.by_method} == {
        CASH: (2, Decimal("6.50")),
        PaymentMethod.CARD: (1, Decimal("2.50")),
    }
    assert (report.check_ins, report.check_outs) == (3, 3)
    assert [e.kind for e in report.exceptions] == [
        ExceptionKind.REFUND,
        ExceptionKind.CASH_DIFFERENCE,
    ]
    assert report.denominations == (
        (Decimal("0.50"), 2),
        (Decimal("5.00"), 1),
        (Decimal("50.00"), 2),
    )
    # The Z-report went to the outbox for the managers, the report attached.
    (mail,) = outbox(app, manager_with_mail, "shift_report")
    assert mail.subject.startswith(f"Z-report: shift {shift.id}, {attendant.username}")
    detail = app.email.outbox.detail(manager, mail.id)
    assert "Expected cash:  €106.50" in detail.body_text
    assert "a 50 cent coin fell behind the till" in detail.body_text

    # The manager reviews and approves, once.
    with pytest.raises(PermissionDeniedError):
        app.money.review_shift(attendant, shift.id, approve=True)
    approved = app.money.review_shift(manager, shift.id, comment="coin found", approve=True)
    assert (approved.state, approved.manager_comment, approved.approved_by) == (
        ShiftState.APPROVED,
        "coin found",
        manager.username,
    )
    with pytest.raises(ConflictError, match="already approved"):
        app.money.review_shift(manager, shift.id, approve=True)
    assert [s.id for s in app.money.list_shifts(manager, state=ShiftState.APPROVED)] == [shift.id]


def test_the_z_report_is_delivered_to_the_managers_with_its_attachment(
    mail_app: App,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
    smtp_server,  # type: ignore[no-untyped-def]
) -> None:
    app = mail_app
    lot = make_lot(app, manager)
    shift = app.money.open_shift(attendant, Decimal("20"))
    stay(app, clock, attendant, lot, "ZM-1", request=PaymentRequest(CASH))
    app.money.close_shift(attendant, shift.id, Decimal("23.75"))
    app.email.outbox.dispatch()
    assert wait_for(lambda: len(smtp_server.received) == 1)
    message = smtp_server.received[0].message
    assert message["Subject"].startswith(f"Z-report: shift {shift.id}")
    (part,) = list(message.iter_attachments())
    assert part.get_filename() == f"z-report-{shift.id}.pdf"
    text = pdf_text(part.get_content())
    assert attendant.username in text and "23.75" in text


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_shift_open_too_long_is_flagged(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    shift = app.money.open_shift(attendant, Decimal("0"))
    clock.advance(hours=11)
    assert not app.money.list_shifts(manager)[0].overlong
    clock.advance(hours=2)
    (listed,) = app.money.list_shifts(manager, state=ShiftState.OPEN)
    assert listed.id == shift.id and listed.overlong
    assert app.money.shift_report(manager, shift.id).overlong


def test_attendants_see_only_their_own_shifts(
    app: App, manager: Actor, attendant: Actor, make_user: MakeUser
) -> None:
    other = make_user("carla_att", Role.ATTENDANT)
    mine = app.money.open_shift(attendant, Decimal("0"))
    theirs = app.money.open_shift(manager, Decimal("0"), attendant_id=uid(other))
    assert [s.id for s in app.money.list_shifts(attendant)] == [mine.id]
    assert {s.id for s in app.money.list_shifts(manager)} == {mine.id, theirs.id}
    with pytest.raises(ConflictError, match="another attendant"):
        app.money.close_shift(attendant, theirs.id, Decimal("0"))


operations = st.lists(
    st.tuples(
        st.sampled_from([PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.ACCOUNT]),
        st.integers(1, 600),  # minutes parked
        st.integers(0, 100),  # percent of the payment refunded afterwards
        st.sampled_from([PaymentMethod.CASH, PaymentMethod.CARD]),
    ),  # refunded how
    max_size=6,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(opening=st.integers(0, 50_000).map(lambda cents: Decimal(cents) / 100), ops=operations)
def test_expected_cash_is_float_plus_cash_payments_minus_cash_refunds(
    app: App,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
    opening: Decimal,
    ops: list[tuple[PaymentMethod, int, int, PaymentMethod]],
) -> None:
    found = app.lots.search("Property")
    lot = (
        found[0]
        if found
        else app.lots.create(
            manager,
            name="Property",
            address="1 Test St",
            pin_code="75001",
            price_per_hour="1.35",
            number_of_spots=10,
        )
    )
    if (left := app.money.current_shift(attendant)) is not None:  # an example that failed
        app.money.close_shift(attendant, left.id, app.money.cash_count(attendant, left.id).expected)
    shift = app.money.open_shift(attendant, opening)
    approval = ManagerSignIn(manager.username, PASSWORD)
    cash_in = cash_out = Decimal("0.00")
    for number, (method, minutes, percent, refund_method) in enumerate(ops):
        receipt = stay(
            app,
            clock,
            attendant,
            lot,
            f"HY{shift.id}X{number}",
            minutes=minutes,
            request=PaymentRequest(method),
        )
        assert receipt.payment is not None
        cash_in += receipt.cost if method is CASH else 0
        back = (receipt.cost * percent / 100).quantize(Decimal("0.01"))
        if back <= 0:
            continue
        # From this shift's drawer when in cash (the attendant, a manager approving); never
        # more than the drawer holds.
        if refund_method is CASH and back > opening + cash_in - cash_out:
            with pytest.raises(ConflictError, match="drawer should hold only"):
                app.money.refund(
                    attendant,
                    receipt.payment.id,
                    ReasonCode.GOODWILL,
                    "property",
                    amount=back,
                    method=CASH,
                    manager=approval,
                )
            continue
        app.money.refund(
            attendant,
            receipt.payment.id,
            ReasonCode.GOODWILL,
            "property",
            amount=back,
            method=refund_method,
            manager=approval,
        )
        cash_out += back if refund_method is CASH else 0
    count = app.money.cash_count(attendant, shift.id)
    assert count.expected == opening + cash_in - cash_out
    closed = app.money.close_shift(attendant, shift.id, count.expected)
    assert closed.expected_cash == opening + cash_in - cash_out
    assert closed.difference == 0


def test_the_exceptions_digest_is_queued_once_per_day(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager)
    app.money.open_shift(attendant, Decimal("0"))
    stay(
        app,
        clock,
        attendant,
        lot,
        "DG-1",
        request=PaymentRequest(
            PaymentMethod.WAIVED, reason_code=ReasonCode.GOODWILL, reason_text="first visit"
        ),
    )
    day = clock.now().astimezone(app.settings.tz).date()
    clock.advance(days=1)
    done = app.money.queue_exceptions_digest(day)
    assert (done.exceptions, done.mails) == (1, 1)
    again = app.money.queue_exceptions_digest(day)
    assert again.exceptions == 1
    (mail,) = outbox(app, manager, "exceptions_digest")
    assert "free_exit" in app.email.outbox.detail(manager, mail.id).body_text
    # Through the job framework: the scheduled run claims its period (the day before) once.
    runner = app.jobs.scheduler.runner
    due = clock.now()
    first = runner.run_due("exceptions_digest", due)
    assert first is not None and first.status == "completed"
    assert date.fromisoformat(first.period_key) == (
        due.astimezone(app.settings.tz).date() - timedelta(days=1)
    )
    assert runner.run_due("exceptions_digest", due) is None  # that day is done
