"""Money at the booth: an amount with its currency, the VAT split, and the plain data a receipt
and a shift's Z-report are made from (rendered to PDF in adapters/, shown in ui/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    ACCOUNT = "account"  # billed to the driver's account
    WAIVED = "waived"  # nothing taken; needs a reason (an exception row)


class PaymentKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"  # money given back: a negative row referring to the payment
    VOID = "void"  # the payment never happened (keyed by mistake): a negative row


class ExceptionKind(StrEnum):
    FREE_EXIT = "free_exit"
    DISCOUNT = "discount"
    FEE_OVERRIDE = "fee_override"
    REFUND = "refund"
    VOID = "void"
    FORCE_RELEASE = "force_release"
    ADMIN_PAYMENT = "admin_payment"  # taken outside a shift (CLI, administrator)
    CASH_DIFFERENCE = "cash_difference"  # a shift closed with counted != expected


class ReasonCode(StrEnum):
    """The short list every exception picks from (plus free text)."""

    CUSTOMER_COMPLAINT = "customer_complaint"
    EQUIPMENT_FAULT = "equipment_fault"
    STAFF_ERROR = "staff_error"
    GOODWILL = "goodwill"
    EMERGENCY_VEHICLE = "emergency_vehicle"
    VALIDATION_TICKET = "validation_ticket"  # a shop/hotel stamped the ticket
    LOST_TICKET = "lost_ticket"
    ADMINISTRATIVE = "administrative"
    OTHER = "other"


@dataclass(frozen=True)
class Money:
    """An amount and the ISO 4217 code it is in. Two amounts add only in the same currency."""

    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self) -> Money:
        return Money(self.amount.quantize(CENT, rounding=ROUND_HALF_UP), self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")


@dataclass(frozen=True)
class VatSplit:
    net: Decimal
    vat: Decimal
    gross: Decimal
    rate: Decimal  # percent


def split_vat(gross: Decimal, rate_percent: Decimal) -> VatSplit:
    """Prices are VAT-inclusive: the VAT part of a receipt's gross, rounded half-up once per
    receipt (not per line), and net = gross - VAT so the three always add up."""
    gross = gross.quantize(CENT, rounding=ROUND_HALF_UP)
    if rate_percent <= 0:
        return VatSplit(net=gross, vat=Decimal("0.00"), gross=gross, rate=Decimal(0))
    vat = (gross * rate_percent / (HUNDRED + rate_percent)).quantize(CENT, rounding=ROUND_HALF_UP)
    return VatSplit(net=gross - vat, vat=vat, gross=gross, rate=rate_percent)


def expected_cash(opening_float: Decimal, cash_in: Decimal, cash_out: Decimal) -> Decimal:
    """What the drawer should hold: float + cash payments - cash refunds (cash_out >= 0)."""
    return opening_float + cash_in - cash_out


def count_denominations(denominations: dict[Decimal, int]) -> Decimal:
    """Cash counted note by note: sum of face value x count. Negative counts are refused."""
    total = Decimal(0)
    for value, count in denominations.items():
        if count < 0 or value <= 0:
            raise ValueError("a denomination and its count must be positive")
        total += value * count
    return total


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on a receipt (the PDF in adapters/ renders exactly this)."""

    receipt_number: str  # e.g. "000123", sequential per site, no gaps
    site_name: str
    lot_name: str
    lot_address: str
    spot_number: str
    vehicle_number: str
    parked_at: datetime  # site time zone
    left_at: datetime
    hours: Decimal
    price_per_hour: Decimal
    lines: tuple[tuple[str, Decimal], ...]  # itemised fee: (label, amount), e.g. discounts
    vat: VatSplit
    currency: str
    locale: str
    method: PaymentMethod
    tendered: Decimal | None  # cash only
    change: Decimal | None
    taken_by: str
    taken_at: datetime
    kind: PaymentKind = PaymentKind.PAYMENT
    reason: str | None = None  # waived / refund / void


@dataclass(frozen=True)
class MethodTotal:
    method: PaymentMethod
    count: int
    amount: Decimal  # payments minus refunds/voids of this method


@dataclass(frozen=True)
class ExceptionLine:
    kind: ExceptionKind
    reason_code: ReasonCode
    reason_text: str
    amount: Decimal | None
    actor: str
    approved_by: str | None
    created_at: datetime
    vehicle_number: str | None = None


@dataclass(frozen=True)
class ShiftReport:
    """A shift's Z-report: who, where, when, money by method, exceptions, cash count."""

    shift_id: int
    site_name: str
    attendant: str
    host: str
    opened_at: datetime  # site time zone
    closed_at: datetime | None
    currency: str
    locale: str
    opening_float: Decimal
    by_method: tuple[MethodTotal, ...]
    cash_payments: Decimal
    cash_refunds: Decimal  # positive: money that left the drawer
    expected_cash: Decimal
    counted_cash: Decimal | None
    difference: Decimal | None  # counted - expected
    difference_reason: str | None
    denominations: tuple[tuple[Decimal, int], ...] = ()
    check_ins: int = 0
    check_outs: int = 0
    exceptions: tuple[ExceptionLine, ...] = field(default_factory=tuple)
    overlong: bool = False  # open longer than SHIFT_MAX_HOURS
    manager_comment: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    refunds: Decimal = Decimal(0)  # refunds and voids of the shift, every method, positive
    refund_count: int = 0
