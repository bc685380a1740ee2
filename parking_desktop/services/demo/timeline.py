"""The demo's time frame: whole local days ending today, as UTC seconds, and the id counters.

Times are whole seconds since 1970 (ints are much cheaper than datetimes for a million rows);
days are the site's local days, so "this morning" and weekends fall where people expect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import Connection, text

DAY = 86_400
HOUR = 3600
ACTIVITY_DAYS = 30  # activity rows are written for this many days before now only
ID_TABLES = ("users", "parking_lots", "parking_spots", "reservations", "user_activity",
             "shifts", "receipts", "payments", "exceptions")


@dataclass(frozen=True)
class Timeline:
    now: int
    day_start: list[int]  # local midnight of every day of the window, plus the day after
    weekend: list[bool]  # per day of the window
    activity_from: int

    @classmethod
    def ending(cls, now: datetime, tz: Any, days: int) -> Timeline:
        """``days`` local days, the last one today."""
        first = now.astimezone(tz).date() - timedelta(days=days - 1)
        seconds = int(now.timestamp())
        return cls(
            now=seconds,
            day_start=[local_midnight(first + timedelta(days=k), tz) for k in range(days + 1)],
            weekend=[(first + timedelta(days=k)).weekday() >= 5 for k in range(days)],
            activity_from=seconds - ACTIVITY_DAYS * DAY,
        )


class Ids:
    """Ids are given here, not by the database: activity rows refer to them."""

    def __init__(self, conn: Connection) -> None:
        self.next = {table: _max_id(conn, table) + 1 for table in ID_TABLES}

    def take(self, table: str, count: int) -> int:
        """The first of ``count`` new ids of ``table``."""
        first = self.next[table]
        self.next[table] = first + count
        return first


def _max_id(conn: Connection, table: str) -> int:
    return int(conn.scalar(text(f'SELECT MAX(id) FROM "{table}"')) or 0)  # noqa: S608


def local_midnight(day: date, tz: Any) -> int:
    return int(datetime.combine(day, dtime(0), tzinfo=tz).timestamp())


def utc(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
