"""Dashboard figures for managers and a driver's own summary."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, literal_column, select, union_all
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.adapters.db.models_stats import StatsLotTotal, StatsQuarter
from parking_desktop.adapters.db.summary import bucket_of, next_boundary
from parking_desktop.domain.errors import NotFoundError
from parking_desktop.domain.fee import CENT, money
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_self_or_staff, require_staff
from parking_desktop.services.parking.lots import spot_counts_query
from parking_desktop.services.parking.parking import IS_OPEN
from parking_desktop.services.parking.search import recent_reservations
from parking_desktop.services.sqlhelpers import (
    parse_quarter_bucket,
    quarter_bucket,
    seconds_between,
)
from parking_desktop.services.views import (
    ChartHistory,
    DashboardStats,
    DriverSummary,
    LotOccupancy,
)

CHART_DAYS = 30
# The statements of dashboard_queries read together: single figures, then chart rows
# (bucket, bookings, revenue).
HEADLINE = ("drivers", "active", "bookings_total", "revenue_total", "revenue_month",
            "revenue_month_edge")
CHART = ("chart", "revenue_hours_edge", "booking_hours_edge")


def dashboard_queries(
    dialect: str, month_start: datetime, since: datetime, until: datetime | None = None
) -> dict[str, Any]:
    """The dashboard's statements by name (each one's plan is checked in
    tests/integration/test_query_plans.py).

    History comes from the summary rows (``adapters/db/summary.py``), which start at quarter-hour
    boundaries: from a window's first boundary on they answer; the few minutes between the
    window's exact start and that boundary are read from reservations (the ``*_edge``
    statements, an index range of at most a quarter hour), so every figure is the same as
    summing the reservations themselves.

    The chart rows are split at ``until`` (the start of the current quarter hour; the chart
    reads no history without it): ``chart`` reads the quarter hours from there on, which every
    booking and check-out now changes; ``chart_history`` the closed ones before it, which only
    a write into the past changes (see ``closed_check``)."""
    counts = spot_counts_query().subquery()
    left_bucket = quarter_bucket(Reservation.left_at, dialect)
    booked_bucket = quarter_bucket(Reservation.reserved_at, dialect)
    month_edge, since_edge = next_boundary(month_start), next_boundary(since)
    completed = Reservation.status == BookingStatus.COMPLETED
    closed = [StatsQuarter.bucket >= bucket_of(since_edge)]
    if until is not None:
        closed.append(StatsQuarter.bucket < bucket_of(until))
    return {
        "per_lot": select(ParkingLot.id, ParkingLot.name, counts.c.available, counts.c.reserved,
                          counts.c.occupied)
        .outerjoin(counts, counts.c.lot_id == ParkingLot.id)
        .where(ParkingLot.archived_at.is_(None))
        .order_by(ParkingLot.name),
        "drivers": select(func.count(User.id)).where(User.role == Role.DRIVER.value,
                                                     User.is_active),
        "active": select(func.count(Reservation.id)).where(IS_OPEN),
        "bookings_total": select(func.sum(StatsLotTotal.bookings)),
        "revenue_total": select(func.sum(StatsLotTotal.revenue)),
        "revenue_month": select(func.sum(StatsQuarter.revenue))
        .where(StatsQuarter.bucket >= bucket_of(month_edge)),
        "revenue_month_edge": select(func.sum(Reservation.cost))
        .where(completed, Reservation.left_at >= month_start, Reservation.left_at < month_edge),
        # Both charts' quarter hours, then placed in the site's days and hours.
        "chart": select(StatsQuarter.bucket, func.sum(StatsQuarter.bookings),
                        func.sum(StatsQuarter.revenue))
        .where(StatsQuarter.bucket >= bucket_of(since_edge if until is None else until))
        .group_by(StatsQuarter.bucket),
        "chart_history": select(StatsQuarter.bucket, func.sum(StatsQuarter.bookings),
                                func.sum(StatsQuarter.revenue))
        .where(*closed)
        .group_by(StatsQuarter.bucket),
        "revenue_hours_edge": select(left_bucket, literal_column("0"), func.sum(Reservation.cost))
        .where(completed, Reservation.left_at >= since, Reservation.left_at < since_edge)
        .group_by(left_bucket),
        "booking_hours_edge": select(booked_bucket, func.count(Reservation.id),
                                     literal_column("0"))
        .where(Reservation.reserved_at >= since, Reservation.reserved_at < since_edge)
        .group_by(booked_bucket),
    }


class StatsService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def dashboard(self, actor: Actor) -> DashboardStats:
        require_staff(actor, "see the dashboard")
        now = self.ctx.clock.now()
        tz = self.ctx.tz
        local_now = now.astimezone(tz)
        month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        since = now - timedelta(days=CHART_DAYS)
        until = current_quarter(now)
        with self.ctx.read() as session:
            dialect = session.get_bind().dialect.name
            queries = dashboard_queries(dialect, month_start, since, until)
            per_lot = [
                LotOccupancy(lot_id=i, name=n, available=int(a or 0), reserved=int(r or 0),
                             occupied=int(o or 0))
                for i, n, a, r, o in session.execute(queries["per_lot"]).all()
            ]
            # One round trip for the single figures, one for both charts' live rows.
            drivers, active, total, revenue_total, month, month_edge = session.execute(select(
                *(queries[name].scalar_subquery() for name in HEADLINE))).one()
            chart = session.execute(union_all(*(queries[name] for name in CHART))).all()
            recent = recent_reservations(session, limit=5)
        # The closed quarter hours, under a key that changes with any write into them.
        check = closed_check(total, revenue_total, chart, until)
        history = self.chart_history(actor, next_boundary(since), until, check)

        local = _local_times(tz)
        spots = sum(p.available + p.reserved + p.occupied for p in per_lot)
        reserved = sum(p.reserved for p in per_lot)
        occupied = sum(p.occupied for p in per_lot)
        per_day = _revenue_by_day(chart, local, dict(history.revenue_per_day))
        hours = _bookings_by_hour(chart, local, history.bookings_by_hour)
        return DashboardStats(
            lots=len(per_lot), spots=spots, available=spots - reserved - occupied,
            reserved=reserved, occupied=occupied,
            occupancy_pct=round(100.0 * (reserved + occupied) / spots, 1) if spots else 0.0,
            drivers=int(drivers or 0), reservations_total=int(total or 0),
            reservations_active=int(active or 0),
            revenue_total=money(_dec(revenue_total)),
            revenue_month=money(_dec(month) + _dec(month_edge)),
            per_lot=per_lot,
            revenue_per_day=_last_days(per_day, local_now),
            bookings_by_hour=hours,
            recent=recent,
        )

    def chart_history(
        self, actor: Actor, since: datetime, until: datetime, check: str = ""
    ) -> ChartHistory:
        """Both charts over the closed quarter hours from ``since`` to ``until`` (a
        quarter-hour boundary). ``check`` (``closed_check``) only keys the cached copy
        (services/cache/cached.py), so a write into the past is never hidden by it."""
        require_staff(actor, "see the dashboard")
        with self.ctx.read() as session:
            dialect = session.get_bind().dialect.name
            query = dashboard_queries(dialect, since, since, until)["chart_history"]
            rows = session.execute(query).all()
        local = _local_times(self.ctx.tz)
        per_day = _revenue_by_day(rows, local, {})
        return ChartHistory(revenue_per_day=sorted(per_day.items()),
                            bookings_by_hour=_bookings_by_hour(rows, local, [0] * 24))

    def driver_summary(self, actor: Actor, user_id: int | None = None) -> DriverSummary:
        uid = actor.user_id if user_id is None else user_id
        require_self_or_staff(actor, uid, "see a driver's summary")
        now = self.ctx.clock.now()
        with self.ctx.read() as session:
            user = session.get(User, uid)
            if user is None:
                raise NotFoundError(f"There is no user with id {uid}.")
            return driver_summary(session, user, now, self.ctx.tz)


def driver_summary(session: Session, user: User, now: datetime, tz: Any) -> DriverSummary:
    dialect = session.get_bind().dialect.name
    mine = Reservation.user_id == user.id
    bookings = session.scalar(
        select(func.count(Reservation.id))
        .where(mine, Reservation.status != BookingStatus.CANCELLED)
    ) or 0
    spent = session.scalar(select(func.sum(Reservation.cost)).where(mine))
    seconds = session.scalar(
        select(func.sum(seconds_between(Reservation.parked_at, Reservation.left_at, dialect)))
        .where(mine, Reservation.status == BookingStatus.COMPLETED)
    )
    most_used = session.execute(
        select(ParkingLot.name, func.count(Reservation.id).label("n"))
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .where(mine, Reservation.status != BookingStatus.CANCELLED)
        .group_by(ParkingLot.id, ParkingLot.name)  # an archived lot and its namesake differ
        .order_by(func.count(Reservation.id).desc(), ParkingLot.name, ParkingLot.id)
        .limit(1)
    ).first()
    year_ago = now - timedelta(days=366)
    per_month: dict[str, Decimal] = defaultdict(Decimal)
    for left_at, cost in session.execute(
        select(Reservation.left_at, Reservation.cost)
        .where(mine, Reservation.status == BookingStatus.COMPLETED,
               Reservation.left_at >= year_ago)
    ).all():
        per_month[left_at.astimezone(tz).strftime("%Y-%m")] += cost or Decimal(0)
    months = _last_months(now.astimezone(tz), 12)
    return DriverSummary(
        user_id=user.id, username=user.username, bookings=int(bookings),
        total_spent=money(_dec(spent)),
        hours_parked=(Decimal(str(seconds or 0)) / 3600).quantize(CENT, rounding=ROUND_HALF_UP),
        most_used_lot=most_used[0] if most_used else None,
        recent=recent_reservations(session, limit=5, user_id=user.id),
        spend_per_month=[(m, money(per_month.get(m, Decimal(0)))) for m in months],
    )


def _dec(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(0) if value is None else Decimal(str(value))


def _local_times(tz: Any) -> Callable[[str], tuple[str, int]]:
    """Bucket text -> (site-local day, hour), each bucket converted once per dashboard."""
    @functools.cache
    def local(bucket: str) -> tuple[str, int]:
        moment = parse_quarter_bucket(bucket).astimezone(tz)
        return moment.date().isoformat(), moment.hour
    return local


def closed_check(bookings_total: Any, revenue_total: Any, chart: Sequence[Any],
                 until: datetime) -> str:
    """Bookings and revenue of every closed quarter hour: the all-time totals (one summary row
    per lot) less the open quarter hour's rows, read in the same snapshot. A check-in or
    check-out now changes both sides alike; a write into any closed quarter hour (a stay
    recorded late, a repair of the summary rows) changes it, and with it the cache key of
    the closed hours' charts. No extra query: the dashboard reads both already."""
    open_rows = [row for row in chart if row[0] >= bucket_of(until)]  # not the *_edge rows
    bookings = int(bookings_total or 0) - sum(int(row[1] or 0) for row in open_rows)
    revenue = _dec(revenue_total) - sum((_dec(row[2]) for row in open_rows), Decimal(0))
    return f"{bookings}:{revenue.quantize(CENT)}"


def current_quarter(now: datetime) -> datetime:
    """The start of the quarter hour ``now`` is in (UTC): the first bucket still open."""
    utc = now.astimezone(UTC)
    return utc.replace(minute=utc.minute // 15 * 15, second=0, microsecond=0)


def _revenue_by_day(
    rows: Sequence[Any], local: Callable[[str], tuple[str, int]], per_day: dict[str, Decimal]
) -> dict[str, Decimal]:
    """``per_day`` with each row's revenue added to its site-local day."""
    for bucket, _, amount in rows:
        if amount:  # most quarter hours only had bookings
            day = local(bucket)[0]
            per_day[day] = per_day.get(day, Decimal(0)) + _dec(amount)
    return per_day


def _last_days(per_day: dict[str, Decimal], local_now: datetime) -> list[tuple[str, Decimal]]:
    today = local_now.date()
    days = [(today - timedelta(days=i)).isoformat() for i in range(CHART_DAYS - 1, -1, -1)]
    return [(d, money(per_day.get(d, Decimal(0)))) for d in days]


def _bookings_by_hour(
    rows: Sequence[Any], local: Callable[[str], tuple[str, int]], start: list[int]
) -> list[int]:
    """``start`` (24 counts, not changed) with each row's bookings added to its local hour."""
    hours = list(start)
    for bucket, count, _ in rows:
        if count:
            hours[local(bucket)[1]] += int(count)
    return hours


def _last_months(local_now: datetime, count: int) -> list[str]:
    year, month = local_now.year, local_now.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))
