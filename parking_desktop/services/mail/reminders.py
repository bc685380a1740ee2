"""The daily reminder: nudge drivers who have not been around lately.

Who gets one: active drivers with an e-mail address whose last sign-in is older than 7 days OR
whose last booking is older than 14 days; a missing date counts as old. "Older than" is strict:
a sign-in exactly 7 days ago does not count, one a second earlier does. The mail says how many
lots have free spots right now. Selection is one query for all drivers, whatever their number.
Drivers who turned reminders off (services/privacy/preferences) are left out and counted
(``skipped_opted_out``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, User
from parking_desktop.domain.roles import Role
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.mail.batches import (
    JobMail,
    MailQueue,
    Recipient,
    queue_in_batches,
    recorded_query,
)
from parking_desktop.services.parking.lots import spot_counts_query
from parking_desktop.services.privacy.preferences import opted_out

LOGIN_AFTER = timedelta(days=7)
BOOKING_AFTER = timedelta(days=14)
BATCH_SIZE = 2000
ACTIVITY = "reminder_queued"
# Rows of runs before the outbox reported delivery (they meant "queued").
OLD_ACTIVITY = "reminder_sent"


@dataclass(frozen=True)
class Reminder:
    """What one reminder mail says."""

    lots_with_free_spots: int
    period: date  # the day the reminder belongs to (site time zone)


@dataclass(frozen=True)
class ReminderSummary:
    checked: int  # active drivers with an e-mail address
    due: int  # of those, the ones the rule selects
    queued: int  # reminders queued by this run
    skipped: int  # checked but not queued (recently active, or already reminded this period)
    already_queued: int  # due, but an earlier run of this period had queued theirs
    lots_with_free_spots: int
    skipped_opted_out: int = 0  # due, but they turned reminders off (in ``skipped`` too)

    def as_counts(self) -> dict[str, Any]:
        return {
            "checked": self.checked, "due": self.due, "queued": self.queued,
            "skipped": self.skipped, "already_queued": self.already_queued,
            "lots_with_free_spots": self.lots_with_free_spots,
            "skipped_opted_out": self.skipped_opted_out,
        }

    def text(self, period: date) -> str:
        opted = (f", {self.skipped_opted_out} of them opted out" if self.skipped_opted_out
                 else "")
        return (f"Daily reminders for {period.isoformat()}: {self.checked} drivers checked, "
                f"{self.queued} reminders queued, {self.skipped} skipped{opted} "
                f"({self.lots_with_free_spots} lots with free spots).")


def reminder_key(user_id: int, period: date) -> str:
    return f"reminder:{user_id}:{period.isoformat()}"


def _reachable_drivers() -> list[Any]:
    return [
        User.role == Role.DRIVER.value,
        User.is_active.is_(True),
        User.email.is_not(None),
        User.email != "",
    ]


def due_condition(now: datetime) -> Any:
    return or_(
        User.last_login.is_(None),
        User.last_login < now - LOGIN_AFTER,
        User.last_booking.is_(None),
        User.last_booking < now - BOOKING_AFTER,
    )


def lots_with_free_spots(session: Session) -> int:
    counts = spot_counts_query().subquery()
    return int(session.scalar(
        select(func.count()).select_from(ParkingLot)
        .join(counts, counts.c.lot_id == ParkingLot.id)
        .where(ParkingLot.archived_at.is_(None), counts.c.available > 0)
    ) or 0)


def select_due(session: Session, now: datetime) -> list[Recipient]:
    """The drivers due a reminder at ``now`` who did not turn reminders off, in id order."""
    rows = session.execute(
        select(User.id, User.username, User.email, User.full_name)
        .where(*_reachable_drivers(), due_condition(now),
               User.id.not_in(opted_out(session, "reminders")))
        .order_by(User.id)
    ).all()
    return [Recipient(user_id=i, username=u, email=e, full_name=f or "") for i, u, e, f in rows]


def count_opted_out(session: Session, now: datetime) -> int:
    """Drivers due a reminder who turned reminders off."""
    return int(session.scalar(
        select(func.count(User.id)).where(*_reachable_drivers(), due_condition(now),
                                          User.id.in_(opted_out(session, "reminders")))) or 0)


def count_reachable(session: Session) -> int:
    return int(session.scalar(select(func.count(User.id)).where(*_reachable_drivers())) or 0)


def period_start(ctx: ServiceContext, period: date) -> datetime:
    # Activity rows of this period are at most a day or two older than the period's midnight.
    return datetime.combine(period, time(0), ctx.tz) - timedelta(days=2)


def count_to_remind(ctx: ServiceContext, period: date) -> int:
    """How many drivers a run for ``period`` would e-mail now (due, and not reminded for this
    period yet): what "Run now" asks about before it sends anything."""
    now = ctx.clock.now()
    done = recorded_query((ACTIVITY, OLD_ACTIVITY), "period", period.isoformat(),
                          period_start(ctx, period))
    with ctx.read() as session:
        return int(session.scalar(
            select(func.count(User.id)).where(*_reachable_drivers(), due_condition(now),
                                              User.id.not_in(done.scalar_subquery()),
                                              User.id.not_in(opted_out(session, "reminders")))
        ) or 0)


def run_daily_reminder(
    ctx: ServiceContext,
    queue: MailQueue[Reminder],
    period: date,
    *,
    heartbeat: Callable[[], None] = lambda: None,
    batch_size: int = BATCH_SIZE,
) -> ReminderSummary:
    """Queue the reminders of ``period`` (a local date). Safe to run again for the same period:
    drivers already reminded for it get nothing more."""
    now = ctx.clock.now()
    with ctx.read() as session:
        checked = count_reachable(session)
        due = select_due(session, now)
        opted = count_opted_out(session, now)
        free_lots = lots_with_free_spots(session)
    reminder = Reminder(lots_with_free_spots=free_lots, period=period)

    def mails() -> Iterator[JobMail[Reminder]]:
        for recipient in due:
            yield JobMail(recipient, reminder_key(recipient.user_id, period), reminder)

    since = period_start(ctx, period)
    result = queue_in_batches(
        ctx, mails(), queue,
        activity_type=ACTIVITY, period_field="period", period_value=period.isoformat(),
        activity_since=since,
        activity_data=lambda m: {"lots_with_free_spots": m.payload.lots_with_free_spots},
        heartbeat=heartbeat, batch_size=batch_size, also_recorded_as=(OLD_ACTIVITY,),
    )
    return ReminderSummary(
        checked=checked, due=len(due), queued=result.queued, skipped=checked - result.queued,
        already_queued=result.repeated, lots_with_free_spots=free_lots,
        skipped_opted_out=opted,
    )
