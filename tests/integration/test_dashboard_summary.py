"""The dashboard's summary rows (stats_quarters, stats_lot_totals): after any history of
bookings, check-ins, check-outs, cancellations and force-releases they equal a recomputation
from reservations, the dashboard shows exactly what summing the reservations themselves shows,
and two processes checking out at once lose no count. On SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from parking_desktop.adapters.db import summary
from parking_desktop.adapters.db.models import ParkingSpot, Reservation
from parking_desktop.adapters.db.models_stats import StatsLotTotal, StatsQuarter
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.fee import money
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.parking.stats import CHART_DAYS, StatsService
from parking_desktop.services.views import DashboardStats
from tests.conftest import MakeUser
from tests.integration.test_cli import Cli, refused

# Across the change to summer time in Paris (29 March 2026), so local days of 23 hours count.
HISTORY_START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def dashboard_from_reservations(app: App, now: datetime) -> dict[str, Any]:
    """The history figures of the dashboard, summed from every reservation (the way the
    dashboard computed them before it had summary rows)."""
    tz = app.ctx.tz
    with app.ctx.read() as session:
        rows = session.execute(select(Reservation.status, Reservation.reserved_at,
                                      Reservation.left_at, Reservation.cost)).all()
    local_now = now.astimezone(tz)
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    since = now - timedelta(days=CHART_DAYS)
    completed = [(left, cost) for status, _, left, cost in rows
                 if status == BookingStatus.COMPLETED]
    per_day: dict[str, Decimal] = defaultdict(Decimal)
    for left, cost in completed:
        if left >= since:
            per_day[left.astimezone(tz).date().isoformat()] += cost
    hours = Counter(reserved.astimezone(tz).hour for _, reserved, _, _ in rows
                    if reserved >= since)
    days = [(local_now.date() - timedelta(days=i)).isoformat()
            for i in range(CHART_DAYS - 1, -1, -1)]
    return {
        "reservations_total": len(rows),
        "revenue_total": money(sum((c for _, c in completed), Decimal(0))),
        "revenue_month": money(sum((c for left, c in completed if left >= month_start),
                                   Decimal(0))),
        "revenue_per_day": [(d, money(per_day.get(d, Decimal(0)))) for d in days],
        "bookings_by_hour": [hours.get(h, 0) for h in range(24)],
    }


def history_figures(stats: DashboardStats) -> dict[str, Any]:
    return {key: getattr(stats, key) for key in ("reservations_total", "revenue_total",
                                                 "revenue_month", "revenue_per_day",
                                                 "bookings_by_hour")}


def random_history(app: App, manager: Actor, clock: FixedClock, make_user: MakeUser,
                   rng: random.Random, steps: int) -> list[datetime]:
    """Random bookings, parks, check-ins, check-outs, cancellations and force-releases on two
    lots, minutes to hours apart (at odd seconds, so quarter-hour edges fall inside stays).
    After each step the summary must equal its recomputation. Returns each booking's time."""
    clock.set(HISTORY_START)
    lots = [app.lots.create(manager, name=f"Lot {n}", address="1 Main St", pin_code="75001",
                            price_per_hour=price, number_of_spots=4).id
            for n, price in (("A", "2.50"), ("B", "1.75"))]
    drivers = [make_user(f"driver{n}") for n in range(3)]
    booked: list[datetime] = []
    for step in range(steps):
        clock.advance(minutes=rng.randint(1, 400), seconds=rng.randint(0, 59))
        with app.ctx.read() as session:
            open_rows = session.execute(
                select(Reservation.id, Reservation.status, Reservation.vehicle_number,
                       Reservation.spot_id, Reservation.user_id)
                .where(Reservation.status.in_(["reserved", "active"]))).all()
        action = rng.choice(["check_in", "reserve", "park", "check_out", "cancel", "force"])
        try:
            if action in ("check_in", "reserve"):
                plate = f"P{step}"
                who = rng.choice(drivers)
                if action == "check_in":
                    app.parking.check_in(manager, rng.choice(lots), plate)
                else:
                    app.parking.reserve(who, rng.choice(lots), plate)
                booked.append(clock.now())
            elif open_rows:
                rid, status, plate, spot_id, _ = rng.choice(open_rows)
                if action == "park" and status == "reserved":
                    app.parking.park(manager, rid)
                elif action == "check_out" and status == "active":
                    app.parking.check_out(manager, plate)
                elif action == "cancel" and status == "reserved":
                    app.parking.cancel(manager, rid)
                elif action == "force":
                    app.parking.force_release(manager, spot_id, "Towed away")
        except ConflictError:
            pass  # a full lot or a driver with an open booking: refused, nothing counted
        with app.ctx.read() as session:
            assert summary.drift(session) == [], f"after step {step} ({action})"
    return booked


def test_summary_follows_every_change_and_the_dashboard_matches_the_reservations(
        app: App, manager: Actor, clock: FixedClock, make_user: MakeUser) -> None:
    rng = random.Random(13)
    booked = random_history(app, manager, clock, make_user, rng, steps=120)
    with app.ctx.read() as session:
        assert session.scalar(select(StatsLotTotal.bookings).limit(1)) is not None
        completed = session.scalar(select(Reservation.id).where(
            Reservation.status == BookingStatus.COMPLETED).limit(1))
    assert completed is not None and len(booked) > 20
    stats = StatsService(app.ctx)  # uncached: every "now" is computed afresh
    # "Now" at the end, in the middle of the history, and a few minutes after the chart window
    # starts inside a quarter hour that had a booking (the window's edge read from reservations).
    moments = [clock.now(), HISTORY_START + timedelta(days=20, minutes=7)]
    moments += [t + timedelta(days=CHART_DAYS, seconds=rng.randint(1, 600))
                for t in rng.sample(booked, 5)]
    for now in moments:
        clock.set(now)
        assert history_figures(stats.dashboard(manager)) == dashboard_from_reservations(
            app, now), now.isoformat()


def test_db_check_lists_each_difference_and_repair_rebuilds(
        app: App, manager: Actor, clock: FixedClock, make_user: MakeUser, db_url: str,
        tmp_path: Path) -> None:
    random_history(app, manager, clock, make_user, random.Random(5), steps=30)
    cli = Cli(tmp_path / "cli", db_url)
    clean = cli("db", "check")
    assert clean.code == 0 and "match" in clean.out, (clean.out, clean.err)

    # Drift: a quarter row lost, and a lot's revenue total off by a cent.
    with app.ctx.write() as session:
        lost = session.execute(select(StatsQuarter.bucket, StatsQuarter.lot_id)
                               .where(StatsQuarter.bookings > 0).limit(1)).one()
        session.execute(delete(StatsQuarter).where(StatsQuarter.bucket == lost.bucket,
                                                   StatsQuarter.lot_id == lost.lot_id))
        other = session.scalar(select(StatsLotTotal.lot_id).where(StatsLotTotal.lot_id
                                                                  != lost.lot_id))
        session.execute(update(StatsLotTotal).where(StatsLotTotal.lot_id == other)
                        .values(revenue=StatsLotTotal.revenue + Decimal("0.01")))
    found = cli("db", "check")
    refused(found, "2 summary row(s) differ")
    lines = found.out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"stats_quarters lot {lost.lot_id} quarter {lost.bucket} UTC: "
                               "stored 0 bookings")
    assert lines[1].startswith(f"stats_lot_totals lot {other}: ")

    repaired = cli("db", "check", "--repair")
    assert repaired.code == 0 and "rebuilt" in repaired.out, repaired.err
    assert cli("db", "check").code == 0
    with app.ctx.read() as session:
        assert summary.drift(session) == []


def _check_out_all(url: str, data_dir: str, plates: list[str], go: Any, done: Any) -> None:
    """A kiosk process checking out ``plates`` as fast as it can, from the start line on."""
    from parking_desktop.adapters.passwords import Argon2Hasher
    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.domain.roles import SYSTEM

    settings = load_settings(data_dir=Path(data_dir), database_url=url, environ={},
                             dotenv_path=Path(data_dir) / "none.env")
    app = build_app(settings, hasher=Argon2Hasher(fast=True), upgrade=False)
    try:
        app.lots.search("")  # connected before the start line
        go.wait(60)
        for plate in plates:
            app.parking.check_out(SYSTEM, plate)
        done.put("ok")
    except BaseException as exc:  # reported to the test, which fails with it
        done.put(repr(exc))
    finally:
        app.close()


def test_two_processes_checking_out_at_once_lose_no_count(
        app: App, manager: Actor, clock: FixedClock, db_url: str, tmp_path: Path) -> None:
    # Parked an hour ago by the test's clock; the kiosks use the real clock, so every check-out
    # of both processes lands in the same quarter row and the same lot total.
    clock.set(datetime.now(UTC) - timedelta(hours=1))
    lot = app.lots.create(manager, name="Busy", address="1 Main St", pin_code="75001",
                          price_per_hour="2.00", number_of_spots=40).id
    plates = [f"K{n}" for n in range(40)]
    for plate in plates:
        app.parking.check_in(manager, lot, plate)
    ctx = multiprocessing.get_context("spawn")
    go, done = ctx.Event(), ctx.Queue()
    kiosks = [ctx.Process(target=_check_out_all, daemon=True,
                          args=(db_url, str(tmp_path / f"kiosk{k}"), plates[k::2], go, done))
              for k in range(2)]
    for kiosk in kiosks:
        kiosk.start()
    go.set()
    assert [done.get(timeout=180) for _ in kiosks] == ["ok", "ok"]
    for kiosk in kiosks:
        kiosk.join(60)
    with app.ctx.read() as session:
        revenue = session.scalar(select(StatsLotTotal.revenue).where(StatsLotTotal.lot_id == lot))
        paid = [c for (c,) in session.execute(
            select(Reservation.cost).join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
            .where(ParkingSpot.lot_id == lot)).all()]
        assert summary.drift(session) == []
    assert len(paid) == 40 and all(c is not None and c > 0 for c in paid)
    assert revenue == sum(paid, Decimal(0))
