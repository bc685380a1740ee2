"""The demo data set (services/demo.py) on both databases: it follows every rule the services
enforce, is deterministic for a seed, and refuses a database that already has data."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from parking_desktop.adapters.db.models import (
    ParkingLot,
    ParkingSpot,
    Reservation,
    User,
    UserActivity,
)
from parking_desktop.adapters.db.models_money import Payment
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError, ValidationError
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.roles import SYSTEM, Role
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions, DemoResult
from tests.conftest import START, Unchanged

DEMO_PASSWORD = "demo-password-1"
OPTIONS = DemoOptions(drivers=300, lots=4, days=30, seed=7)


def load(app: App, options: DemoOptions = OPTIONS) -> DemoResult:
    return DemoLoader(app.ctx, app.users.hasher).load(options, DEMO_PASSWORD)


def rows(app: App, *columns: Any) -> list[Any]:
    with app.db.read() as session:
        return list(session.execute(select(*columns)).all())


def test_demo_data_follows_the_rules(app: App, clock: FixedClock) -> None:
    result = load(app)
    now = clock.now()

    users = rows(app, User.id, User.username, User.email, User.role, User.is_active,
                 User.last_login, User.last_booking)
    roles = defaultdict(list)
    for u in users:
        roles[u.role].append(u)
    assert [len(roles[r]) for r in ("manager", "attendant", "driver")] == [1, 2, 300]
    emails = [u.email for u in roles["driver"] if u.email]
    assert 0 < len(emails) < 300, "most drivers have an e-mail address, some have none"
    assert all(e.split("@")[1].startswith("example.") for e in emails), "no real mailboxes"
    assert len({u.username for u in users}) == len(users)

    lots = {lot.id: lot for lot in rows(app, ParkingLot.id, ParkingLot.name,
                                         ParkingLot.price_per_hour, ParkingLot.number_of_spots)}
    assert len(lots) == 4 and len({lot.name for lot in lots.values()}) == 4
    assert len({lot.number_of_spots for lot in lots.values()}) > 1, "lots of varied sizes"
    spots = {s.id: s for s in rows(app, ParkingSpot.id, ParkingSpot.lot_id, ParkingSpot.number,
                                   ParkingSpot.status)}
    assert len(spots) == sum(lot.number_of_spots for lot in lots.values()) == result.spots

    res = rows(app, Reservation)
    res = [r[0] for r in res]
    # A free exit (demo/money.py) charges nothing: the stay's cost is what was charged.
    waived = {rid for rid, method in rows(app, Payment.reservation_id, Payment.method)
              if method == "waived"}
    assert len(waived) == 3
    assert len(res) == result.reservations > 2000
    statuses = defaultdict(int)
    for r in res:
        statuses[r.status] += 1
        price = lots[spots[r.spot_id].lot_id].price_per_hour
        assert r.price_per_hour == price
        assert r.reserved_at <= now
        if r.status == "completed":
            assert r.parked_at is not None and r.left_at is not None
            assert r.reserved_at <= r.parked_at < r.left_at <= now
            fee = compute_fee(r.left_at - r.parked_at, price).cost
            assert r.cost == (Decimal(0) if r.id in waived else fee)
        elif r.status == "cancelled":
            assert r.parked_at is None and r.cost is None and r.left_at is not None
        else:
            assert r.left_at is None and r.cost is None
            assert (r.parked_at is not None) == (r.status == "active")
    assert all(statuses[s] > 0 for s in ("completed", "cancelled", "reserved", "active"))
    assert result.open_reservations == statuses["reserved"] + statuses["active"]
    assert sum(r.cost for r in res if r.cost is not None) == result.revenue_total

    # Spot statuses match the open reservations exactly.
    open_by_spot = {r.spot_id: r.status for r in res if r.status in ("reserved", "active")}
    for spot in spots.values():
        expected = {"reserved": "R", "active": "O"}.get(open_by_spot.get(spot.id, ""), "A")
        assert spot.status == expected, spot

    # Nobody shares a spot, and no driver is in two places at once.
    far = now + timedelta(days=1)

    def no_overlap(groups: dict[Any, list[Reservation]]) -> None:
        for items in groups.values():
            items.sort(key=lambda r: (r.reserved_at, r.id))
            for before, after in pairwise(items):
                assert (before.left_at or far) <= after.reserved_at, (before.id, after.id)

    by_spot: dict[int, list[Reservation]] = defaultdict(list)
    by_driver: dict[int, list[Reservation]] = defaultdict(list)
    for r in res:
        by_spot[r.spot_id].append(r)
        if r.user_id is not None:
            by_driver[r.user_id].append(r)
    no_overlap(by_spot)
    no_overlap(by_driver)
    assert any(r.user_id is None for r in res), "walk-ins checked in by attendants"

    # last_booking is each driver's latest booking; some drivers have been away for weeks.
    latest: dict[int, datetime] = {}
    for r in res:
        if r.user_id is not None:
            latest[r.user_id] = max(latest.get(r.user_id, r.reserved_at), r.reserved_at)
    for u in roles["driver"]:
        assert u.last_booking == latest.get(u.id)
    weeks = now - timedelta(days=14)
    away = [u for u in roles["driver"] if (u.last_login is None or u.last_login < weeks)
            and (u.last_booking is None or u.last_booking < weeks)]
    recent = [u for u in roles["driver"] if u.last_booking and u.last_booking > now - timedelta(
        days=2)]
    assert len(away) >= 20 and len(recent) >= 50
    assert any(not u.is_active for u in roles["driver"])

    # Activity: logins and the booking trail, pointing at real reservations.
    kinds = dict(_activity_counts(app))
    assert kinds["login"] > 100 and kinds["booking_created"] > 100 and kinds["parked"] > 100
    assert kinds["booking_completed"] > 50 and kinds["lot_created"] == 4
    by_id = {r.id: r for r in res}
    for (data,) in rows(app, UserActivity.activity_data)[:500]:
        if "reservation_id" in data:
            assert by_id[data["reservation_id"]].vehicle_number == data["vehicle"]


def _activity_counts(app: App) -> list[tuple[str, int]]:
    with app.db.read() as session:
        return [(k, int(n)) for k, n in session.execute(
            select(UserActivity.activity_type, func.count()).group_by(UserActivity.activity_type)
        ).all()]


def test_the_services_work_on_demo_data(app: App, clock: FixedClock) -> None:
    result = load(app)
    manager, _ = app.users.authenticate("manager", DEMO_PASSWORD)
    assert manager.role is Role.MANAGER
    driver_name = next(s.username for s in result.sign_ins if s.role == "driver")
    assert app.users.authenticate(driver_name, DEMO_PASSWORD)[0].role is Role.DRIVER

    stats = app.stats.dashboard(manager)
    assert stats.reservations_total == result.reservations
    assert stats.reservations_active == result.open_reservations
    assert stats.revenue_total == result.revenue_total
    assert stats.reserved + stats.occupied == result.open_reservations

    # New rows get fresh ids after the demo's explicit ones (PostgreSQL sequences moved on).
    lot = next(lot for lot in app.lots.search() if lot.available > 0)
    booking = app.parking.check_in(manager, lot.id, "ZZ999ZZ")
    assert booking.id == result.reservations + 1
    clock.advance(minutes=90)
    assert app.parking.check_out(manager, "ZZ999ZZ").cost == compute_fee(
        timedelta(minutes=90), lot.price_per_hour).cost
    user = app.users.create(manager, username="new_driver", password=DEMO_PASSWORD,
                            role=Role.DRIVER)
    assert user.id == 3 + OPTIONS.drivers + 1


def _schema_objects(app: App) -> list[tuple[Any, ...]]:
    """Every index and constraint definition, as the database reports it."""
    with app.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
        else:
            query = ("SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
                     "WHERE schemaname = current_schema() UNION ALL "
                     "SELECT 'constraint', conname, conrelid::regclass::text, "
                     "pg_get_constraintdef(oid) FROM pg_constraint "
                     "WHERE connamespace = to_regnamespace(current_schema()) ORDER BY 2, 1")
        return [tuple(r) for r in conn.execute(text(query))]


def test_the_bulk_load_puts_every_index_and_key_back(app: App) -> None:
    before = _schema_objects(app)
    assert any("ix_reservations_user_reserved_at" in str(r) for r in before)
    load(app, DemoOptions(drivers=30, lots=2, days=5, seed=2))
    after = _schema_objects(app)
    if app.db.is_sqlite:  # ANALYZE adds its statistics table; nothing else may change
        after = [r for r in after if not str(r[1]).startswith("sqlite_stat")]
    assert after == before


def _rows_without_hashes(app: App) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with app.db.engine.connect() as conn:
        for model in (User, ParkingLot, ParkingSpot, Reservation, UserActivity):
            table = model.__table__
            columns = [c for c in table.columns if c.name != "password_hash"]
            out[table.name] = [tuple(r) for r in conn.execute(
                select(*columns).order_by(table.c.id))]
    return out


def _sqlite_app(path: Path, clock: FixedClock) -> App:
    settings = load_settings(data_dir=path, database_url=f"sqlite:///{path / 'p.db'}",
                             environ={"APP_TIMEZONE": "Europe/Paris"}, dotenv_path=path / "x")
    return build_app(settings, clock=clock, hasher=Argon2Hasher(fast=True))


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    small = DemoOptions(drivers=60, lots=3, days=20, seed=3)
    apps = [_sqlite_app(tmp_path / name, FixedClock(START)) for name in ("a", "b", "c")]
    try:
        load(apps[0], small)
        load(apps[1], small)
        load(apps[2], DemoOptions(drivers=60, lots=3, days=20, seed=4))
        first, second, other = (_rows_without_hashes(a) for a in apps)
        assert first == second
        assert first["reservations"] != other["reservations"]
        assert first["users"] != other["users"]
    finally:
        for a in apps:
            a.close()


def test_refuses_a_database_with_data_and_reset_starts_over(
    app: App, unchanged: Unchanged
) -> None:
    app.users.create(SYSTEM, username="boss", password=DEMO_PASSWORD, role=Role.MANAGER)
    loader = DemoLoader(app.ctx, app.users.hasher)
    with unchanged(), pytest.raises(ConflictError, match=r"already has data \(1 users\)"):
        loader.load(OPTIONS, DEMO_PASSWORD)
    loader.erase_everything()
    result = loader.load(DemoOptions(drivers=20, lots=2, days=3, seed=1), DEMO_PASSWORD)
    assert result.drivers == 20
    assert app.users.find_by_username(SYSTEM, "manager").id == 1


@pytest.mark.parametrize(("field", "value"), [("drivers", 0), ("lots", 51), ("days", 0),
                                              ("drivers", -5)])
def test_out_of_range_options_are_refused(app: App, unchanged: Unchanged, field: str,
                                          value: int) -> None:
    options = DemoOptions(**{field: value})
    with unchanged(), pytest.raises(ValidationError, match=f"--{field} must be between"):
        load(app, options)


def test_a_tiny_demo_still_has_everyone(tmp_path: Path) -> None:
    app = _sqlite_app(tmp_path, FixedClock(START))
    try:
        result = load(app, DemoOptions(drivers=1, lots=1, days=1, seed=9))
        assert (result.drivers, result.lots) == (1, 1)
        assert [s.role for s in result.sign_ins][:3] == ["manager", "attendant", "attendant"]
    finally:
        app.close()
