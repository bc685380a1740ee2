"""What the money services take and return: plain frozen data, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from parking_desktop.domain.money import (
    ExceptionKind,
    PaymentKind,
    PaymentMethod,
    ReasonCode,
)


@dataclass(frozen=True)
class ManagerSignIn:
    """A manager's username and password typed on the spot to approve what an attendant may
    not do alone (a waiver above ATTENDANT_WAIVER_LIMIT, a refund, a void)."""

    login: str
    password: str = field(repr=False)


class AdjustmentKind(StrEnum):
    FREE_EXIT = "free_exit"  # nothing to pay
    DISCOUNT_AMOUNT = "discount_amount"  # fee minus an amount
    DISCOUNT_PERCENT = "discount_percent"  # fee minus a percentage
    FEE_OVERRIDE = "fee_override"  # a different fee altogether


@dataclass(frozen=True)
class Adjustment:
    kind: AdjustmentKind
    reason_code: ReasonCode
    reason_text: str
    value: Decimal = Decimal(0)  # the amount, the percent, or the new fee


@dataclass(frozen=True)
class PaymentRequest:
    """How the driver pays at check-out. ``method`` None: the default (``account``).
    ``tendered``: cash handed over (None: the exact amount). ``waived`` needs a reason (its
    ``reason_code``/``reason_text``, or an ``adjustment``)."""

    method: PaymentMethod | None = None
    tendered: Decimal | None = None
    adjustment: Adjustment | None = None
    reason_code: ReasonCode | None = None
    reason_text: str = ""
    manager: ManagerSignIn | None = None
    # Set by MoneyService after checking ``manager`` (outside the write transaction).
    approved_by_id: int | None = None
    approved_by_name: str | None = None


@dataclass(frozen=True)
class PaymentView:
    id: int
    reservation_id: int | None
    lot_id: int
    kind: PaymentKind
    method: PaymentMethod
    amount: Decimal  # negative for a refund or a void
    currency: str
    tendered: Decimal | None
    change: Decimal | None
    taken_by: str
    taken_at: datetime
    shift_id: int | None
    receipt_number: str
    reason_code: str | None = None
    reason_text: str | None = None
    refers_to: int | None = None
    fee: Decimal | None = None  # the fee the release computed, when it differs from amount


class ShiftState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    APPROVED = "approved"


@dataclass(frozen=True)
class ShiftView:
    id: int
    attendant_id: int
    attendant: str
    host: str
    currency: str
    opening_float: Decimal
    opened_at: datetime
    closed_at: datetime | None
    state: ShiftState
    overlong: bool  # open (or was open) longer than SHIFT_MAX_HOURS
    expected_cash: Decimal | None = None  # at the close
    counted_cash: Decimal | None = None
    difference: Decimal | None = None
    difference_reason: str | None = None
    manager_comment: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None


@dataclass(frozen=True)
class CashCount:
    """What the close screen shows before the attendant confirms."""

    shift_id: int
    opening_float: Decimal
    cash_payments: Decimal
    cash_refunds: Decimal  # positive: given back from the drawer
    expected: Decimal
    currency: str


@dataclass(frozen=True)
class ExceptionView:
    id: int
    kind: ExceptionKind
    reason_code: ReasonCode
    reason_text: str
    amount: Decimal | None
    currency: str
    reservation_id: int | None
    payment_id: int | None
    shift_id: int | None
    lot_id: int | None
    lot_name: str | None
    actor: str
    approved_by: str | None
    created_at: datetime
    vehicle_number: str | None = None
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ExceptionFilter:
    kind: ExceptionKind | None = None
    attendant: str | None = None  # username of who did it
    lot_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    limit: int = 500


@dataclass(frozen=True)
class TotalRow:
    """Money taken, from the payments table: one row per day, lot, method and attendant."""

    day: date  # site time zone
    lot_id: int
    lot_name: str
    method: PaymentMethod
    attendant: str
    currency: str
    count: int  # payments (refunds and voids not counted)
    amount: Decimal  # payments minus refunds and voids


@dataclass(frozen=True)
class DigestSummary:
    day: date
    exceptions: int
    mails: int
