"""The monthly activity report, for every driver at once.

A stay belongs to the month (site time zone) in which it ended - when it was charged - so every
completed stay appears in exactly one report with its cost and its hours together. Per driver:
stays, total spent, hours parked (real time between parking and leaving), most-used lot, the last
five stays, and spending per day of the month. Drivers with no stay that month get the short
"no parking this month" version.

The figures for all drivers come from three grouped queries over the month's reservations (plus
one for the recipients), so the number of statements does not grow with the number of drivers.
Day boundaries are computed in Python from the site's time zone and handed to SQL as a CASE over
UTC instants: exact on both SQLite and PostgreSQL, across daylight-saving changes, for any
offset (also half-hour ones)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, case, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.adapters.db.plain import utc_from_db
from parking_desktop.domain.errors import NotFoundError, ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.domain.states import BookingStatus
from parking_desktop.domain.tariffs import TariffVersion
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_self_or_manager
from parking_desktop.services.mail.batches import (
    BatchResult,
    JobMail,
    MailQueue,
    Recipient,
    queue_in_batches,
    recorded_query,
)
from parking_desktop.services.privacy.preferences import opted_out
from parking_desktop.services.sqlhelpers import seconds_between
from parking_desktop.services.tariffs import store as tariffs
from parking_desktop.services.views import FeeLine

LAST_STAYS = 5
BATCH_SIZE = 1000
ACTIVITY = "monthly_report_queued"
# Rows of runs before the outbox reported delivery (they meant "queued").
OLD_ACTIVITY = "monthly_report_sent"
HOURS = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year, month = (int(part) for part in text.strip().split("-"))
            return cls.of(year, month)
        except ValueError:
            raise ValidationError(f"'{text}' is not a month like 2026-02.") from None

    @classmethod
    def of(cls, year: int, month: int) -> Month:
        if not (1 <= month <= 12 and 2000 <= year <= 9999):
            raise ValidationError(f"{year}-{month:02d} is not a month we can report on.")
        return cls(year, month)

    @classmethod
    def previous(cls, moment: datetime, tz: ZoneInfo) -> Month:
        """The calendar month before the one ``moment`` falls in, in ``tz``."""
        local = moment.astimezone(tz)
        return cls(local.year, local.month).shift(-1)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return date(self.year, self.month, 1).strftime("%B %Y")

    def days(self) -> list[date]:
        first = date(self.year, self.month, 1)
        nxt = self.shift(1)
        count = (date(nxt.year, nxt.month, 1) - first).days
        return [first + timedelta(days=i) for i in range(count)]

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in UTC."""
        nxt = self.shift(1)
        start = datetime(self.year, self.month, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(nxt.year, nxt.month, 1, tzinfo=tz).astimezone(UTC)
        return start, end

    def day_starts(self, tz: ZoneInfo) -> list[datetime]:
        """The UTC instant each local day begins (a day can be 23 or 25 hours long)."""
        return [datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC) for d in self.days()]


class StayLine(NamedTuple):  # a tuple: made for five stays of every driver, cheaply
    reservation_id: int
    lot_name: str
    spot_number: str
    vehicle_number: str
    parked_at: datetime
    left_at: datetime
    hours: Decimal
    cost: Decimal
    # Why the fee is what it is, when the tariff says it in more than one line (day and night
    # rates, a daily maximum); empty for a one-line stay, whose row says it already.
    lines: tuple[FeeLine, ...] = ()


@dataclass(frozen=True)
class MonthlyReport:
    user_id: int
    username: str
    full_name: str
    email: str | None
    month: Month
    timezone: str
    bookings: int = 0
    total_spent: Decimal = Decimal("0.00")
    hours_parked: Decimal = Decimal("0.00")
    most_used_lot: str | None = None
    most_used_lot_visits: int = 0
    last_bookings: tuple[StayLine, ...] = ()
    # (lot name, amount), largest first.
    spending_by_lot: tuple[tuple[str, Decimal], ...] = ()
    # One entry per day of the month, in order (zeros included: the chart's x axis).
    daily_spending: tuple[tuple[date, Decimal], ...] = field(default_factory=tuple)

    @property
    def has_activity(self) -> bool:
        return self.bookings > 0

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass
class _Totals:
    bookings: int = 0
    cents: int = 0
    seconds: Any = 0  # float on SQLite, Decimal on PostgreSQL: made a Decimal once, at the end
    per_day: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # cents


def _dec(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


@functools.lru_cache(maxsize=65536)
def _amount(cents: int) -> Decimal:
    """Whole cents as a two-place amount (the same amounts recur across many drivers)."""
    return Decimal(cents).scaleb(-2)


def _cents(column: Any) -> Any:
    """SUM-able whole cents of a money column, read without the Money type's per-value
    conversion (a hundred thousand drivers' months are several million values); summed as
    integers, they are exact on both databases."""
    return type_coerce(func.round(column * literal_column("100")), Integer)


def compute_reports(
    session: Session,
    month: Month,
    tz: ZoneInfo,
    recipients: Sequence[Recipient],
    *,
    only_user: int | None = None,
    user_range: tuple[int, int] | None = None,
) -> Iterator[MonthlyReport]:
    """Reports for ``recipients`` (in their order) from three set-based queries. The
    queries run now; the reports are built one by one as they are consumed (a hundred
    thousand of them are never all in memory at once). ``user_range`` (first, last user id)
    narrows the queries to a report worker's share of the drivers."""
    dialect = session.get_bind().dialect.name
    start, end = month.bounds(tz)
    day_starts = month.day_starts(tz)
    days = month.days()
    conditions = [
        # `status || ''` keeps SQLite (which has no statistics) from walking the status index
        # over every completed stay ever; the month's range on left_at is the narrow one.
        Reservation.status.op("||")("") == BookingStatus.COMPLETED,
        Reservation.left_at >= start,
        Reservation.left_at < end,
        Reservation.user_id.is_not(None),
    ]
    if only_user is not None:
        conditions.append(Reservation.user_id == only_user)
    if user_range is not None:
        # `+ 0`: a filter on the rows the month's range gives, not a walk of the user index
        # over every stay those drivers ever made (which SQLite would choose).
        conditions.append((Reservation.user_id + 0).between(*user_range))
    parked_at = func.coalesce(Reservation.parked_at, Reservation.reserved_at)
    # Day index of left_at: the last day whose start is <= left_at.
    day_index = case(
        *[(Reservation.left_at < boundary, i) for i, boundary in enumerate(day_starts[1:])],
        else_=len(day_starts) - 1,
    )

    # Core rows, not the ORM's: a hundred thousand drivers' months are over a million rows.
    connection = session.connection()
    totals: dict[int, _Totals] = defaultdict(_Totals)
    for uid, index, count, cents, seconds in connection.execute(
        select(Reservation.user_id, day_index, func.count(Reservation.id),
               func.sum(_cents(Reservation.cost)),
               func.sum(seconds_between(parked_at, Reservation.left_at, dialect)))
        .where(*conditions)
        .group_by(Reservation.user_id, day_index)
    ).all():  # fetched at once: row by row costs a Python call per row
        t = totals[uid]
        t.bookings += count
        t.cents += int(cents or 0)
        t.seconds += seconds or 0
        t.per_day[index] += int(cents or 0)

    lots: dict[int, tuple[str, int]] = {}
    per_lot: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for uid, name, count, cents in connection.execute(
        select(Reservation.user_id, ParkingLot.name, func.count(Reservation.id),
               func.sum(_cents(Reservation.cost)))
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .where(*conditions)
        .group_by(Reservation.user_id, ParkingLot.name)
    ).all():
        per_lot[uid].append((name, _amount(int(cents or 0))))
        best = lots.get(uid)
        # Most stays wins; a tie goes to the name first in alphabetical order.
        if best is None or (-count, name) < (-best[1], best[0]):
            lots[uid] = (name, count)

    ranked = (
        select(
            Reservation.id.label("rid"),
            Reservation.user_id.label("uid"),
            func.row_number().over(
                partition_by=Reservation.user_id,
                order_by=(Reservation.left_at.desc(), Reservation.id.desc()),
            ).label("rn"),
        )
        .where(*conditions)
        .subquery()
    )
    recent: dict[int, list[StayLine]] = defaultdict(list)
    stays = connection.execute(
        # The times as the driver gives them (text on SQLite): _utc reads them, once each.
        select(ranked.c.rid, ranked.c.uid, Reservation.vehicle_number,
               type_coerce(parked_at, String),
               type_coerce(Reservation.left_at, String), _cents(Reservation.cost),
               ParkingLot.name, ParkingSpot.number, Reservation.tariff_version_id)
        .join(Reservation, Reservation.id == ranked.c.rid)
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .where(ranked.c.rn <= LAST_STAYS)
        .order_by(ranked.c.uid, ranked.c.rn)
    ).all()
    # A few stays per driver: their versions are read once, each stay priced again by its own.
    versions = tariffs.versions_by_id(session, (row[8] for row in stays if row[8] is not None))
    for rid, uid, plate, parked, left, cents, lot_name, spot_number, version_id in stays:
        parked_utc, left_utc = _utc(parked), _utc(left)
        charged = _amount(int(cents or 0))
        lines = (_lines(versions[version_id], parked_utc, left_utc, charged, tz)
                 if version_id in versions else ())
        recent[uid].append(StayLine(
            rid, lot_name, spot_number, plate, parked_utc, left_utc,
            _hours(Decimal((left_utc - parked_utc).total_seconds())), charged, lines))

    no_spending = tuple((d, ZERO) for d in days)  # shared: reports are immutable

    def build() -> Iterator[MonthlyReport]:
        for r in recipients:
            found = totals.get(r.user_id)
            if found is None:
                yield MonthlyReport(
                    user_id=r.user_id, username=r.username, full_name=r.full_name,
                    email=r.email, month=month, timezone=tz.key, daily_spending=no_spending,
                )
                continue
            t, lot = found, lots.get(r.user_id)
            yield MonthlyReport(
                user_id=r.user_id, username=r.username, full_name=r.full_name, email=r.email,
                month=month, timezone=tz.key, bookings=t.bookings,
                total_spent=_amount(t.cents), hours_parked=_hours(_dec(t.seconds)),
                most_used_lot=lot[0] if lot else None,
                most_used_lot_visits=lot[1] if lot else 0,
                last_bookings=tuple(recent.get(r.user_id, ())),
                spending_by_lot=tuple(sorted(per_lot.get(r.user_id, ()),
                                             key=lambda item: (-item[1], item[0]))),
                daily_spending=_by_day(no_spending, t.per_day),
            )

    return build()


def _by_day(none: tuple[tuple[date, Decimal], ...],
            cents: dict[int, int]) -> tuple[tuple[date, Decimal], ...]:
    """Every day of the month with its spending: the empty month with the few days that had
    some filled in."""
    days = list(none)
    for index, amount in cents.items():
        days[index] = (days[index][0], _amount(amount))
    return tuple(days)


def _lines(version: TariffVersion, parked: datetime, left: datetime, charged: Decimal,
           tz: ZoneInfo) -> tuple[FeeLine, ...]:
    """The stay's lines if it takes more than one to explain and they add up to what was
    charged (they always do for a stay priced by its recorded version)."""
    priced = tariffs.price(version, parked, left, tz)
    if len(priced.lines) < 2 or priced.total != charged:
        return ()
    return tariffs.fee_lines(priced)


def _utc(value: Any) -> datetime:
    """A stay's time as the report reads it (text on SQLite), converted as the UTCDateTime
    column converts it; a completed stay's times are never missing."""
    moment = utc_from_db(value)
    assert moment is not None
    return moment


def _hours(seconds: Decimal) -> Decimal:
    return (seconds / 3600).quantize(HOURS)


def monthly_key(user_id: int, month: Month) -> str:
    return f"monthly:{user_id}:{month.key}"


def _reachable() -> list[Any]:
    return [User.role == Role.DRIVER.value, User.is_active.is_(True),
            User.email.is_not(None), User.email != ""]


def count_opted_out(session: Session) -> int:
    """Reachable drivers who turned the monthly report off (services/privacy/preferences)."""
    return int(session.scalar(select(func.count(User.id)).where(
        *_reachable(), User.id.in_(opted_out(session, "reports")))) or 0)


def recipients_of(session: Session, user_id: int | None = None) -> list[Recipient]:
    """Every reachable driver who did not turn the report off; or the one ``user_id``."""
    query = select(User.id, User.username, User.email, User.full_name)
    if user_id is None:
        query = query.where(*_reachable(), User.id.not_in(opted_out(session, "reports")))
    else:
        query = query.where(User.id == user_id)
    rows = session.execute(query.order_by(User.id)).all()
    return [Recipient(user_id=i, username=u, email=e or "", full_name=f or "")
            for i, u, e, f in rows]


@dataclass(frozen=True)
class MonthlySummary:
    month: str
    recipients: int
    with_activity: int
    queued: int
    already_queued: int
    skipped_opted_out: int = 0  # reachable drivers who turned the report off (not recipients)

    def as_counts(self) -> dict[str, Any]:
        return {"month": self.month, "recipients": self.recipients,
                "with_activity": self.with_activity, "queued": self.queued,
                "skipped": self.recipients - self.queued, "already_queued": self.already_queued,
                "skipped_opted_out": self.skipped_opted_out}

    def text(self) -> str:
        text = (f"Monthly reports for {self.month}: {self.queued} queued for "
                f"{self.recipients} drivers ({self.with_activity} parked that month)")
        if self.already_queued:
            text += f"; {self.already_queued} had been queued by an earlier run"
        if self.skipped_opted_out:
            text += f"; {self.skipped_opted_out} opted out"
        return text + "."


def count_to_report(ctx: ServiceContext, month: Month) -> int:
    """How many drivers a run for ``month`` would e-mail now (reachable, and not queued for
    this month yet): what "Run now" asks about before it sends anything."""
    start, _ = month.bounds(ctx.tz)
    done = recorded_query((ACTIVITY, OLD_ACTIVITY), "month", month.key, start)
    with ctx.read() as session:
        return int(session.scalar(
            select(func.count(User.id)).where(
                *_reachable(), User.id.not_in(done.scalar_subquery()),
                User.id.not_in(opted_out(session, "reports")))) or 0)


def queue_reports(
    ctx: ServiceContext,
    queue: MailQueue[MonthlyReport],
    month: Month,
    recipients: Sequence[Recipient],
    *,
    heartbeat: Callable[[], None] = lambda: None,
    batch_size: int = BATCH_SIZE,
    user_range: tuple[int, int] | None = None,
) -> tuple[BatchResult, int]:
    """Compute and queue ``month``'s report for ``recipients`` (all of them, or one report
    worker's share: ``user_range``); the batch result and how many had stays. Queueing a
    report a second time does nothing."""
    with ctx.read() as session:
        reports = compute_reports(session, month, ctx.tz, recipients, user_range=user_range)
    with_activity = 0

    def mails() -> Iterator[JobMail[MonthlyReport]]:
        nonlocal with_activity
        for report, recipient in zip(reports, recipients, strict=True):
            with_activity += report.has_activity
            yield JobMail(recipient, monthly_key(recipient.user_id, month), report)

    start, _ = month.bounds(ctx.tz)
    result = queue_in_batches(
        ctx, mails(), queue,
        activity_type=ACTIVITY, period_field="month", period_value=month.key,
        activity_since=start,
        activity_data=lambda m: {"bookings": m.payload.bookings,
                                 "total_spent": f"{m.payload.total_spent:.2f}"},
        heartbeat=heartbeat, batch_size=batch_size, also_recorded_as=(OLD_ACTIVITY,),
    )
    return result, with_activity


def preview_report(
    ctx: ServiceContext, actor: Actor, user_id: int, month: Month
) -> MonthlyReport:
    """One driver's report for any month (managers: anyone; a driver: their own)."""
    require_self_or_manager(actor, user_id, "see this monthly report")
    with ctx.read() as session:
        recipients = recipients_of(session, user_id)
        if not recipients:
            raise NotFoundError(f"There is no user with id {user_id}.")
        return next(compute_reports(session, month, ctx.tz, recipients, only_user=user_id))
