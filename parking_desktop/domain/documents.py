"""What a printed receipt and a shift's Z-report say, as plain data for the PDF renderer.

Kept apart from how the numbers are worked out (payments, shifts): whoever builds one of these
has already decided every amount; the renderer only lays them out. Times are aware datetimes and
are shown in ``time_zone`` (the site's zone); amounts are Decimals in ``currency`` (ISO 4217)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

PAYMENT_METHODS = {
    "cash": "Cash",
    "card": "Card",
    "account": "Billed to account",
    "waived": "Waived",
}


def method_label(method: str) -> str:
    """How a payment method reads on a receipt, a report or a mail."""
    return PAYMENT_METHODS.get(method, method.replace("_", " ").capitalize())


@dataclass(frozen=True)
class FeeLine:
    """One itemised line of a receipt (e.g. "2.5 h × 4.00", or a discount as a negative)."""

    text: str
    amount: Decimal


@dataclass(frozen=True)
class ReceiptDocument:
    site_name: str
    lot_name: str
    lot_address: str
    receipt_number: str
    vehicle: str
    arrived_at: datetime
    left_at: datetime
    lines: tuple[FeeLine, ...]
    net: Decimal
    vat_rate: Decimal  # percent; 0: no VAT lines on the receipt
    vat: Decimal
    gross: Decimal
    currency: str
    payment_method: str  # cash, card, account, waived
    attendant: str
    issued_at: datetime
    time_zone: str = "UTC"
    locale: str = "en_GB"
    spot: str = ""
    driver: str = ""  # the driver's name, when the stay belongs to an account
    tendered: Decimal | None = None  # cash only
    change: Decimal | None = None  # cash only
    note: str = ""  # e.g. the reason of a waiver


@dataclass(frozen=True)
class MethodTotal:
    method: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class ExceptionLine:
    kind: str  # free exit, discount, refund, void, force-release, ...
    reason: str
    amount: Decimal | None = None
    at: datetime | None = None
    by: str = ""


@dataclass(frozen=True)
class ShiftReportDocument:
    """A shift's Z-report: the money it took by method, its exceptions and its cash count."""

    site_name: str
    shift_id: int
    attendant: str
    kiosk: str
    opened_at: datetime
    closed_at: datetime | None
    opening_float: Decimal
    payments: tuple[MethodTotal, ...]
    refunds: Decimal  # as a positive amount given back
    refund_count: int
    exceptions: tuple[ExceptionLine, ...]
    check_ins: int
    check_outs: int
    expected_cash: Decimal
    counted_cash: Decimal | None
    difference: Decimal | None  # counted - expected
    difference_reason: str
    currency: str
    issued_at: datetime
    time_zone: str = "UTC"
    locale: str = "en_GB"
