"""Which reservations an export contains: the filter the scope becomes, handed to the CSV writer
(``adapters/csv_export.py``), which only turns it into SQL and writes the file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# The activities that close a reservation: an attendant's shift includes what they closed.
SHIFT_CLOSE_ACTIVITIES = ("booking_completed", "force_released", "check_out")


@dataclass(frozen=True)
class ExportFilter:
    """Which reservations go into the file. All conditions are combined with AND."""

    user_id: int | None = None  # one driver's history
    lot_id: int | None = None  # one lot
    since: datetime | None = None  # reserved_at >= since (UTC)
    until: datetime | None = None  # reserved_at < until (UTC)
    # An attendant's shift: reservations this staff member checked in (created_by) or closed
    # (one of ``staff_closing`` in their activity) at or after ``staff_since``.
    staff_id: int | None = None
    staff_since: datetime | None = None
    staff_closing: tuple[str, ...] = SHIFT_CLOSE_ACTIVITIES


def local_date_range(day_from: date | None, day_to: date | None,
                     tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Inclusive local dates to a half-open UTC range [since, until)."""
    since = (datetime.combine(day_from, datetime.min.time(), tz).astimezone(UTC)
             if day_from else None)
    until = (datetime.combine(day_to + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
             if day_to else None)
    return since, until
