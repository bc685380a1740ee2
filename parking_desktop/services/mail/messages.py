"""What the jobs and screens hand the mail service: the shapes of a recipient, a monthly report
and an export job, and the plain-data helpers the mails are built from (a recipient's id, a
month's days and weeks for the charts, a typed address)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from parking_desktop.config import shown_value
from parking_desktop.domain.errors import ValidationError


@dataclass(frozen=True)
class BookingLine:
    lot_name: str
    spot_number: str
    vehicle_number: str
    parked_at: datetime | None
    left_at: datetime | None
    hours: Decimal
    cost: Decimal | None


@dataclass(frozen=True)
class MonthlyReportData:
    """A monthly report as the template reads it (the jobs' MonthlyReport has the same shape)."""

    month: date  # any day of the reported month; or an object whose .key is 'YYYY-MM'
    bookings: int
    total_spent: Decimal
    hours_parked: Decimal
    most_used_lot: str | None = None
    last_bookings: Sequence[BookingLine] = ()  # newest first, usually five
    daily_spending: Sequence[tuple[date, Decimal]] = ()  # days with no spending may be left out
    spending_by_lot: Sequence[tuple[str, Decimal]] = ()  # largest first


class BookingLineLike(Protocol):
    @property
    def lot_name(self) -> str: ...
    @property
    def spot_number(self) -> str: ...
    @property
    def vehicle_number(self) -> str: ...
    @property
    def parked_at(self) -> datetime | None: ...
    @property
    def hours(self) -> Decimal: ...
    @property
    def cost(self) -> Decimal | None: ...


class MonthlyReportLike(Protocol):
    @property
    def month(self) -> object: ...
    @property
    def bookings(self) -> int: ...
    @property
    def total_spent(self) -> Decimal: ...
    @property
    def hours_parked(self) -> Decimal: ...
    @property
    def most_used_lot(self) -> str | None: ...
    @property
    def last_bookings(self) -> Sequence[BookingLineLike]: ...
    @property
    def daily_spending(self) -> Sequence[tuple[date, Decimal]]: ...
    @property
    def spending_by_lot(self) -> Sequence[tuple[str, Decimal]]: ...


class MailUser(Protocol):
    """A recipient: a UserView (``id``) or a job's recipient record (``user_id``)."""

    @property
    def username(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def full_name(self) -> str: ...


class ExportJobInfo(Protocol):
    """What the export-ready mail needs of an export job (exports' ExportJobView has it)."""

    @property
    def job_id(self) -> str: ...
    @property
    def row_count(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def file_path(self) -> str | None: ...


def user_id(user: MailUser) -> int:
    value = getattr(user, "user_id", None)
    if value is None:
        value = getattr(user, "id", None)
    if value is None:
        raise ValidationError(f"{user.username} is not a saved user.")
    return int(value)


def month_start(month: object) -> date:
    if isinstance(month, datetime):
        return month.date().replace(day=1)
    if isinstance(month, date):
        return month.replace(day=1)
    key = str(getattr(month, "key", month))  # e.g. the jobs' Month, 'YYYY-MM'
    try:
        return date(int(key[:4]), int(key[5:7]), 1)
    except ValueError:
        raise ValidationError(f"'{key}' is not a month.") from None


def days_of_month(month: date, spending: Sequence[tuple[date, Decimal]]
                  ) -> list[tuple[date, Decimal]]:
    """Every day of the month with its spending (zero where none), for the chart."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    count = (following - first).days
    start = first.toordinal()
    if [d.toordinal() for d, _ in spending] == list(range(start, start + count)):
        return list(spending)  # already one entry per day in order (the monthly report's own)
    totals: dict[date, Decimal] = {}
    for day, value in spending:
        totals[day] = totals.get(day, Decimal(0)) + Decimal(value)
    days = [first + timedelta(days=i) for i in range(count)]
    return [(d, totals.get(d, Decimal(0))) for d in days]


def weeks(days: list[tuple[date, Decimal]]) -> list[tuple[str, Decimal]]:
    out: list[tuple[str, Decimal]] = []
    for start in range(0, len(days), 7):
        chunk = days[start:start + 7]
        label = _week_label(chunk[0][0], chunk[-1][0])
        out.append((label, sum((v for _, v in chunk), Decimal(0))))
    return out


@functools.lru_cache(maxsize=256)
def _week_label(first: date, last: date) -> str:
    """The same few labels for every driver's report of a month: formatted once."""
    return f"{first:%d}-{last:%d %b}"


def recipient_address(raw: str) -> str:
    """A recipient typed by a person (the test mail): one plain address, or a one-line error
    that repeats at most the start of it, control characters escaped."""
    address = raw.strip()
    local, at, domain = address.rpartition("@")
    if (not at or not local or not domain or len(address) > 254
            or any(c.isspace() or not c.isprintable() or c in ",;<>" for c in address)):
        raise ValidationError(f"'{shown_value(raw)}' is not an e-mail address.")
    return address
