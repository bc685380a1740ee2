"""When a job falls due, in the site's time zone, and which period a due time belongs to.

The same answers drive the APScheduler triggers (what fires next) and the catch-up (the latest
time a job was due, so a period missed while the program was closed is run at the next start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger


class Schedule(Protocol):
    def trigger(self, tz: ZoneInfo) -> BaseTrigger: ...

    def latest_due(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The most recent time (UTC) at or before ``now`` the job was due; None if it has no
        periods (an interval job)."""
        ...

    def describe(self) -> str: ...


def _local(day: datetime, at: time, tz: ZoneInfo) -> datetime:
    # A wall-clock time skipped by a daylight-saving change resolves to the instant after it.
    return datetime(day.year, day.month, day.day, at.hour, at.minute, tzinfo=tz)


@dataclass(frozen=True)
class DailyAt:
    at: time

    def trigger(self, tz: ZoneInfo) -> BaseTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=tz)

    def latest_due(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        local = now.astimezone(tz)
        due = _local(local, self.at, tz)
        if due.astimezone(UTC) > now:
            due = _local(local - timedelta(days=1), self.at, tz)
        return due.astimezone(UTC)

    def describe(self) -> str:
        return f"daily at {self.at:%H:%M}"


@dataclass(frozen=True)
class MonthlyAt:
    day: int  # 1..28, so every month has it
    at: time

    def trigger(self, tz: ZoneInfo) -> BaseTrigger:
        return CronTrigger(day=self.day, hour=self.at.hour, minute=self.at.minute, timezone=tz)

    def latest_due(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        local = now.astimezone(tz)
        due = _local(local.replace(day=self.day), self.at, tz)
        if due.astimezone(UTC) > now:
            year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
            due = _local(datetime(year, month, self.day), self.at, tz)
        return due.astimezone(UTC)

    def describe(self) -> str:
        return f"monthly on day {self.day} at {self.at:%H:%M}"


@dataclass(frozen=True)
class Every:
    seconds: int

    def trigger(self, tz: ZoneInfo) -> BaseTrigger:
        return IntervalTrigger(seconds=self.seconds, timezone=tz)

    def latest_due(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        return None

    def describe(self) -> str:
        if self.seconds % 60 == 0:
            minutes = self.seconds // 60
            return "every minute" if minutes == 1 else f"every {minutes} minutes"
        return f"every {self.seconds} seconds"


@dataclass(frozen=True)
class EveryMinutes:
    """On the clock every ``minutes`` (a divisor of 15: :00, :05, ...). Unlike ``Every``, each
    slot is a period of its own in the ``job_runs`` ledger, so it runs once however many
    machines fire it. Slots are cut in UTC: every zone's offset is a multiple of 15 minutes,
    so they fall on the same local minutes too."""

    minutes: int

    def trigger(self, tz: ZoneInfo) -> BaseTrigger:
        return CronTrigger(minute=f"*/{self.minutes}", timezone=tz)

    def slot(self, at: datetime) -> datetime:
        utc = at.astimezone(UTC)
        return utc.replace(minute=utc.minute - utc.minute % self.minutes, second=0,
                           microsecond=0)

    def latest_due(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        return self.slot(now)

    def period_of(self, due: datetime) -> str:
        return f"{self.slot(due):%Y-%m-%dT%H:%M}Z"

    def describe(self) -> str:
        return f"every {self.minutes} minutes"
