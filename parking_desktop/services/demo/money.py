"""The demo's money: the attendants' shifts of the last two weeks with their floats and
counted cash, a payment and a receipt for every stay completed in them, a few exceptions, and
one open shift, so the kiosk takes payments as soon as attendant1 signs in.

What it looks like (docs/money.md, "Demo data"):

* shifts of 12 hours back to back from 06:00 local today (or 18:00 yesterday, whichever is the
  latest start before now), the attendants taking turns; the shift running now is open and
  attendant1's; the ones before are closed with the cash counted equal to what was expected,
  all approved by the manager except the last one, which waits for review; one shift counted
  2.00 short, with its reason (a ``cash_difference`` exception) and the manager's comment;
* a stay a driver ended themselves is billed to their account (no shift, as the service does);
  a stay an attendant handled is paid in that moment's shift by cash (tendered and change),
  card or, for a registered driver, to the account;
* three free exits with a reason (``waived``, the stay's cost then 0, a ``free_exit``
  exception) and one card payment half refunded by the manager the next day (a negative
  ``refund`` row and its exception);
* receipts numbered 1, 2, 3… in the order the money moved, and the site's counter set to the
  last one, so the next payment continues without a gap.

Its random draws come from a generator of its own (seeded from the demo's seed), so the rest of
the data set is the same with or without it. Rows are written with bulk inserts like the rest
of the demo; the waived stays' costs are the only update (three rows)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, update

from parking_desktop.adapters.db.bulk import StorageFormat, bulk_insert
from parking_desktop.adapters.db.models import Reservation
from parking_desktop.domain.money import ExceptionKind, PaymentKind, PaymentMethod, ReasonCode
from parking_desktop.services.demo.history import Activity, Completed
from parking_desktop.services.demo.people import People
from parking_desktop.services.demo.timeline import DAY, HOUR, Ids, Timeline
from parking_desktop.services.money.exceptions import SELF_SERVICE
from parking_desktop.services.money.receipts import SITE, receipt_label

MONEY_DAYS = 14  # payments and shifts for the stays completed in the last two weeks
SHIFT_LENGTH = 12 * HOUR  # at most SHIFT_MAX_HOURS (12): no demo shift is flagged overlong
FLOATS = (15_000, 10_000, 20_000)  # opening floats in cents
NOTES = (500, 1_000, 2_000, 5_000, 10_000)  # what a driver hands over, in cents
HOSTS = ("kiosk-1", "kiosk-2")  # attendant1's booth, attendant2's
WAIVERS = (
    (ReasonCode.EQUIPMENT_FAULT, "Exit barrier stuck; the driver waited 20 minutes."),
    (ReasonCode.VALIDATION_TICKET, "Ticket stamped by the Hotel du Parc for its guest."),
    (ReasonCode.GOODWILL, "Regular customer charged twice last week; free exit agreed."),
)
WAIVER_LIMIT_CENTS = 1_000  # within ATTENDANT_WAIVER_LIMIT's default: no manager sign-in
REFUND = (
    ReasonCode.CUSTOMER_COMPLAINT,
    "Card charged for the full stay although the barrier held the car 40 minutes.",
)
DIFFERENCE_CENTS = -200
DIFFERENCE = (
    ReasonCode.STAFF_ERROR,
    "Gave 2.00 too much change to a walk-in during the evening rush.",
)
APPROVAL_COMMENT = "Checked with the attendant: the change error is confirmed. Approved."
APPROVED_AFTER = 2 * HOUR

SHIFT_COLUMNS = (
    "id",
    "attendant_id",
    "host",
    "currency",
    "opening_float",
    "opened_at",
    "closed_at",
    "expected_cash",
    "counted_cash",
    "denominations",
    "difference_reason",
    "closed_by",
    "manager_comment",
    "approved_by",
    "approved_at",
)
RECEIPT_COLUMNS = ("id", "number", "issued_at")
PAYMENT_COLUMNS = (
    "id",
    "reservation_id",
    "lot_id",
    "kind",
    "method",
    "amount",
    "currency",
    "tendered",
    "change",
    "taken_by",
    "taken_by_name",
    "taken_at",
    "shift_id",
    "receipt_id",
    "reason_code",
    "reason_text",
    "refers_to",
)
EXCEPTION_COLUMNS = (
    "id",
    "kind",
    "reason_code",
    "reason_text",
    "amount",
    "currency",
    "reservation_id",
    "payment_id",
    "shift_id",
    "lot_id",
    "actor_id",
    "actor_name",
    "approved_by",
    "created_at",
    "details",
)


@dataclass
class DemoShift:
    attendant: int
    host: str
    opened: int
    closed: int | None  # None: the shift open now
    float_cents: int
    id: int = 0
    cash_cents: int = 0  # cash taken (no cash refund in the demo)
    difference_cents: int = 0


@dataclass
class DemoPayment:
    at: int
    stay: Completed | None  # None for a refund (it names its payment in ``refers_to``)
    lot_id: int
    reservation_id: int
    kind: PaymentKind
    method: PaymentMethod
    cents: int
    taken_by: int
    shift: DemoShift | None
    tendered: int | None = None
    change: int | None = None
    reason: tuple[ReasonCode, str] | None = None
    refers_to: DemoPayment | None = None
    id: int = 0
    number: int = 0


@dataclass(frozen=True)
class ShiftPlan:
    """The shifts of the money window, oldest first; the last one is open."""

    shifts: list[DemoShift] = field(default_factory=list)

    @property
    def first_open(self) -> int:
        return self.shifts[0].opened

    @classmethod
    def layout(cls, rng: random.Random, frame: Timeline, attendants: list[int]) -> ShiftPlan:
        start = frame.day_start[-2] + 6 * HOUR  # today, 06:00 local
        while start > frame.now:
            start -= SHIFT_LENGTH
        since = max(frame.day_start[0], frame.now - MONEY_DAYS * DAY)
        opens = [start]
        while opens[-1] > since:
            opens.append(opens[-1] - SHIFT_LENGTH)
        opens.reverse()
        last = len(opens) - 1
        return cls(
            [
                DemoShift(
                    attendant=attendants[(last - n) % len(attendants)],
                    host=HOSTS[(last - n) % len(HOSTS)],
                    opened=at,
                    closed=None if n == last else at + SHIFT_LENGTH,
                    float_cents=FLOATS[0] if n == last else rng.choice(FLOATS),
                )
                for n, at in enumerate(opens)
            ]
        )

    def at(self, moment: int) -> DemoShift:
        index = (moment - self.first_open) // SHIFT_LENGTH
        return self.shifts[min(max(index, 0), len(self.shifts) - 1)]


@dataclass(frozen=True)
class MoneySummary:
    shifts: int
    payments: int
    exceptions: int
    waived_cents: int  # taken off the revenue: the waived stays cost nothing in the end


def money_rng(seed: int) -> random.Random:
    """The money's own draws: the rest of the demo stays what it was for the seed."""
    return random.Random(f"demo-money-{seed}")


def write_money(
    conn: Connection,
    fmt: StorageFormat,
    rng: random.Random,
    frame: Timeline,
    ids: Ids,
    people: People,
    plan: ShiftPlan,
    completed: list[Completed],
    activity: list[Activity],
    currency: str,
) -> MoneySummary:
    names = {s.user_id: s.username for s in people.staff}
    # A driver's own payment names the role, not the person: payments are never edited, so a
    # name written here would outlive the driver's erasure.
    names.update((d.user_id, SELF_SERVICE) for d in people.drivers)
    manager = people.manager_id
    payments = [_payment(rng, plan, stay) for stay in sorted(completed, key=lambda c: c.left_at)]
    waived = _waive(rng, payments)
    refund = _refund(rng, payments, manager, frame.now)
    events = sorted([*payments, *([refund] if refund else [])], key=lambda p: p.at)
    first_payment = ids.take("payments", len(events))
    first_receipt = ids.take("receipts", len(events))
    for n, event in enumerate(events):
        event.id, event.number = first_payment + n, first_receipt + n
    closed = [s for s in plan.shifts if s.closed is not None]
    short = closed[len(closed) // 2] if closed else None  # the shift counted 2.00 short
    if short is not None:
        short.difference_cents = DIFFERENCE_CENTS
    first_shift = ids.take("shifts", len(plan.shifts))
    for n, shift in enumerate(plan.shifts):
        shift.id = first_shift + n
    for p in payments:
        if p.method is PaymentMethod.CASH and p.shift is not None:
            p.shift.cash_cents += p.cents

    exceptions = _exceptions(payments, refund, short, names, manager)
    bulk_insert(conn, "shifts", SHIFT_COLUMNS, _shift_rows(fmt, plan, closed, currency, manager))
    # A receipt's id is its number: both start after the (empty) table's last.
    bulk_insert(
        conn,
        "receipts",
        RECEIPT_COLUMNS,
        ((e.number, e.number, fmt.timestamp(e.at)) for e in events),
    )
    bulk_insert(
        conn,
        "payments",
        PAYMENT_COLUMNS,
        (
            (
                e.id,
                e.reservation_id,
                e.lot_id,
                e.kind.value,
                e.method.value,
                fmt.money(e.cents),
                currency,
                fmt.money(e.tendered),
                fmt.money(e.change),
                e.taken_by,
                names[e.taken_by],
                fmt.timestamp(e.at),
                e.shift.id if e.shift else None,
                e.number,
                e.reason[0].value if e.reason else None,
                e.reason[1] if e.reason else None,
                e.refers_to.id if e.refers_to else None,
            )
            for e in events
        ),
    )
    first_exception = ids.take("exceptions", len(exceptions))
    bulk_insert(
        conn,
        "exceptions",
        EXCEPTION_COLUMNS,
        (
            (
                first_exception + n,
                kind.value,
                code.value,
                text,
                fmt.money(cents),
                currency,
                reservation,
                payment,
                shift,
                lot,
                actor,
                names[actor],
                None,
                fmt.timestamp(at),
                fmt.json(details),
            )
            for n, (
                at,
                kind,
                code,
                text,
                cents,
                reservation,
                payment,
                shift,
                lot,
                actor,
                details,
            ) in enumerate(exceptions)
        ),
    )
    if events:
        bulk_insert(conn, "receipt_counters", ("site", "last_number"), [(SITE, events[-1].number)])
    if waived:
        conn.execute(
            update(Reservation).where(Reservation.id == bindparam("rid")).values(cost=0),
            [{"rid": p.reservation_id} for p in waived],
        )
    _activity(activity, frame, plan, closed, payments, refund, names, manager, currency)
    return MoneySummary(
        len(plan.shifts),
        len(events),
        len(exceptions),
        sum(p.stay.cost_cents for p in waived if p.stay),
    )


def _payment(rng: random.Random, plan: ShiftPlan, stay: Completed) -> DemoPayment:
    if stay.creator == stay.user_id:  # the driver ended it: billed to their account
        return DemoPayment(
            stay.left_at,
            stay,
            stay.lot_id,
            stay.reservation_id,
            PaymentKind.PAYMENT,
            PaymentMethod.ACCOUNT,
            stay.cost_cents,
            stay.creator,
            None,
        )
    shift = plan.at(stay.left_at)
    draw = rng.random()
    if stay.user_id is not None and draw < 0.3:
        method = PaymentMethod.ACCOUNT
    else:
        method = PaymentMethod.CASH if draw < 0.65 else PaymentMethod.CARD
    payment = DemoPayment(
        stay.left_at,
        stay,
        stay.lot_id,
        stay.reservation_id,
        PaymentKind.PAYMENT,
        method,
        stay.cost_cents,
        shift.attendant,
        shift,
    )
    if method is PaymentMethod.CASH:
        cents = stay.cost_cents
        exact = rng.random() < 0.3
        note = next((n for n in NOTES if n >= cents), -(-cents // 1000) * 1000)
        payment.tendered = cents if exact else note
        payment.change = payment.tendered - cents
    return payment


def _waive(rng: random.Random, payments: list[DemoPayment]) -> list[DemoPayment]:
    """Three free exits an attendant gave, with their reasons, in closed shifts."""
    candidates = [
        p
        for p in payments
        if p.shift is not None and p.shift.closed is not None and p.cents <= WAIVER_LIMIT_CENTS
    ]
    chosen = sorted(rng.sample(candidates, min(len(WAIVERS), len(candidates))), key=lambda p: p.at)
    for payment, reason in zip(chosen, WAIVERS, strict=False):
        payment.method, payment.cents, payment.reason = PaymentMethod.WAIVED, 0, reason
        payment.tendered = payment.change = None
    return chosen


def _refund(
    rng: random.Random, payments: list[DemoPayment], manager: int, now: int
) -> DemoPayment | None:
    """Half of a card payment given back by the manager the next day."""
    cards = [
        p
        for p in payments
        if p.method is PaymentMethod.CARD and p.cents >= 200 and p.at + DAY <= now
    ]
    if not cards:
        return None
    original = rng.choice(cards)
    half = original.cents // 2
    return DemoPayment(
        original.at + DAY,
        None,
        original.lot_id,
        original.reservation_id,
        PaymentKind.REFUND,
        PaymentMethod.CARD,
        -half,
        manager,
        None,
        reason=REFUND,
        refers_to=original,
    )


# (at, kind, code, text, cents, reservation, payment, shift, lot, actor, details)
ExceptionRow = tuple[
    int,
    ExceptionKind,
    ReasonCode,
    str,
    int,
    int | None,
    int | None,
    int | None,
    int | None,
    int,
    dict[str, Any],
]


def _exceptions(
    payments: list[DemoPayment],
    refund: DemoPayment | None,
    short: DemoShift | None,
    names: dict[int, str],
    manager: int,
) -> list[ExceptionRow]:
    rows: list[ExceptionRow] = []
    for p in payments:
        if p.method is PaymentMethod.WAIVED and p.stay is not None and p.reason is not None:
            fee = p.stay.cost_cents
            rows.append(
                (
                    p.at,
                    ExceptionKind.FREE_EXIT,
                    p.reason[0],
                    p.reason[1],
                    fee,
                    p.reservation_id,
                    p.id,
                    p.shift.id if p.shift else None,
                    p.lot_id,
                    p.taken_by,
                    {
                        "fee": _text(fee),
                        "charged": "0.00",
                        "vehicle": p.stay.plate,
                        "method": "waived",
                    },
                )
            )
    if refund is not None and refund.refers_to is not None and refund.reason is not None:
        rows.append(
            (
                refund.at,
                ExceptionKind.REFUND,
                refund.reason[0],
                refund.reason[1],
                -refund.cents,
                refund.reservation_id,
                refund.id,
                None,
                refund.lot_id,
                manager,
                {"refers_to": refund.refers_to.id, "method": "card"},
            )
        )
    if short is not None and short.closed is not None:
        expected = short.float_cents + short.cash_cents
        rows.append(
            (
                short.closed,
                ExceptionKind.CASH_DIFFERENCE,
                DIFFERENCE[0],
                DIFFERENCE[1],
                short.difference_cents,
                None,
                None,
                short.id,
                None,
                short.attendant,
                {"expected": _text(expected), "counted": _text(expected + short.difference_cents)},
            )
        )
    rows.sort(key=lambda row: row[0])
    return rows


def _shift_rows(
    fmt: StorageFormat, plan: ShiftPlan, closed: list[DemoShift], currency: str, manager: int
) -> list[tuple[Any, ...]]:
    pending = closed[-1] if closed else None  # the last closed shift waits for its review
    rows = []
    for s in plan.shifts:
        expected = counted = approved_at = None
        reason = comment = None
        closed_by = approved_by = None
        if s.closed is not None:
            expected = s.float_cents + s.cash_cents
            counted = expected + s.difference_cents
            closed_by = s.attendant
            if s.difference_cents:
                reason, comment = DIFFERENCE[1], APPROVAL_COMMENT
            if s is not pending:
                approved_by, approved_at = manager, s.closed + APPROVED_AFTER
        rows.append(
            (
                s.id,
                s.attendant,
                s.host,
                currency,
                fmt.money(s.float_cents),
                fmt.timestamp(s.opened),
                fmt.timestamp(s.closed),
                fmt.money(expected),
                fmt.money(counted),
                None,
                reason,
                closed_by,
                comment,
                approved_by,
                fmt.timestamp(approved_at),
            )
        )
    return rows


def _activity(
    activity: list[Activity],
    frame: Timeline,
    plan: ShiftPlan,
    closed: list[DemoShift],
    payments: list[DemoPayment],
    refund: DemoPayment | None,
    names: dict[int, str],
    manager: int,
    currency: str,
) -> None:
    """The shifts' and the refund's activity, and each check-out's payment in its
    booking_completed entry, as the services write them."""
    for p in payments:
        if p.stay is not None and p.stay.activity is not None:
            p.stay.activity.update(
                payment_id=p.id,
                method=p.method.value,
                currency=currency,
                receipt=receipt_label(p.number),
                shift_id=p.shift.id if p.shift else None,
            )
            if p.method is PaymentMethod.WAIVED:
                p.stay.activity["cost"] = "0.00"
    pending = closed[-1] if closed else None
    for s in plan.shifts:
        if s.opened < frame.activity_from:
            continue
        activity.append(
            (
                s.opened,
                s.attendant,
                "shift_opened",
                {
                    "shift_id": s.id,
                    "attendant": names[s.attendant],
                    "host": s.host,
                    "float": _text(s.float_cents),
                    "currency": currency,
                },
            )
        )
        if s.closed is None:
            continue
        expected = s.float_cents + s.cash_cents
        activity.append(
            (
                s.closed,
                s.attendant,
                "shift_closed",
                {
                    "shift_id": s.id,
                    "expected": _text(expected),
                    "counted": _text(expected + s.difference_cents),
                    "difference": _text(s.difference_cents),
                    "currency": currency,
                },
            )
        )
        if s is not pending:
            activity.append(
                (
                    s.closed + APPROVED_AFTER,
                    manager,
                    "shift_approved",
                    {"shift_id": s.id, "comment": APPROVAL_COMMENT if s.difference_cents else ""},
                )
            )
    if refund is not None and refund.refers_to is not None:
        activity.append(
            (
                refund.at,
                manager,
                "payment_refunded",
                {
                    "payment_id": refund.id,
                    "refers_to": refund.refers_to.id,
                    "amount": _text(refund.cents),
                    "currency": currency,
                },
            )
        )


def _text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
