"""Reads through the cache: lifetimes on the service clock, invalidation after every kind of
write, keys that respect who asks, hit/miss counters, stampede protection (both databases)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from parking_desktop.adapters.db import summary
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import PermissionDeniedError
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.cache.caching import (
    DASHBOARD,
    CacheService,
    _without_password,
    namespace_for,
)
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.parking.search import ReservationFilter, SearchService
from parking_desktop.services.parking.stats import StatsService
from parking_desktop.services.views import LotView
from tests.conftest import MakeUser, uid


def behind_the_cache(app: App, sql: str, **params: Any) -> None:
    """Change the database without telling anyone (as if the lifetime were the only guard)."""
    with app.db.write() as session:
        session.execute(text(sql), params)


def calls(app: App, name: str) -> int:
    rows = {row.name: row.count for row in app.timings.snapshot()}
    return rows.get(name, 0)


@pytest.fixture
def lot(app: App, manager: Actor) -> LotView:
    return app.lots.create(manager, name="Central", address="1 Main St", pin_code="CEN01",
                           price_per_hour="2.50", number_of_spots=4)


# --- lifetimes -----------------------------------------------------------------------------------
def test_lot_list_lives_five_minutes_on_the_service_clock(
    app: App, lot: LotView, clock: FixedClock
) -> None:
    assert app.lots.search()[0].address == "1 Main St"
    behind_the_cache(app, "UPDATE parking_lots SET address = 'Moved' WHERE id = :i", i=lot.id)
    clock.advance(minutes=4, seconds=59)
    assert app.lots.search()[0].address == "1 Main St"  # served from the cache
    clock.advance(seconds=1)
    assert app.lots.search()[0].address == "Moved"
    assert calls(app, "lots.search:uncached") == 2


def test_a_users_reservations_live_two_minutes(
    app: App, lot: LotView, driver: Actor, clock: FixedClock
) -> None:
    booking = app.parking.reserve(driver, lot.id, "AB123")
    mine = ReservationFilter(user_id=uid(driver))
    assert app.parking.open_reservation(driver).vehicle_number == "AB123"  # type: ignore[union-attr]
    assert app.search.reservations(driver, mine).items[0].vehicle_number == "AB123"
    behind_the_cache(app, "UPDATE reservations SET vehicle_number = 'ZZ999' WHERE id = :i",
                     i=booking.id)
    clock.advance(minutes=1, seconds=59)
    assert app.parking.open_reservation(driver).vehicle_number == "AB123"  # type: ignore[union-attr]
    assert app.search.reservations(driver, mine).items[0].vehicle_number == "AB123"
    clock.advance(seconds=1)
    assert app.parking.open_reservation(driver).vehicle_number == "ZZ999"  # type: ignore[union-attr]
    assert app.search.reservations(driver, mine).items[0].vehicle_number == "ZZ999"


def test_dashboards_live_five_minutes(
    app: App, lot: LotView, manager: Actor, driver: Actor, clock: FixedClock
) -> None:
    assert app.stats.dashboard(manager).drivers == 1
    assert app.stats.driver_summary(driver).username == "driver1"
    behind_the_cache(app, "UPDATE users SET is_active = false, username = 'renamed' "
                          "WHERE id = :i", i=uid(driver))
    clock.advance(minutes=4, seconds=59)
    assert app.stats.dashboard(manager).drivers == 1
    assert app.stats.driver_summary(driver).username == "driver1"
    clock.advance(seconds=1)
    assert app.stats.dashboard(manager).drivers == 0
    assert app.stats.driver_summary(driver).username == "renamed"


def test_searches_not_narrowed_to_one_user_are_not_cached(
    app: App, lot: LotView, manager: Actor, driver: Actor
) -> None:
    booking = app.parking.reserve(driver, lot.id, "AB123")
    everyone = ReservationFilter()
    assert app.search.reservations(manager, everyone).items[0].vehicle_number == "AB123"
    behind_the_cache(app, "UPDATE reservations SET vehicle_number = 'ZZ999' WHERE id = :i",
                     i=booking.id)
    assert app.search.reservations(manager, everyone).items[0].vehicle_number == "ZZ999"


# --- invalidation after each kind of write -------------------------------------------------------
def _world(app: App, make_user: MakeUser) -> dict[str, Any]:
    manager = make_user("boss", Role.MANAGER)
    attendant = make_user("gate", Role.ATTENDANT)
    driver = make_user("dora", Role.DRIVER, "dora@example.com")
    lot = app.lots.create(manager, name="Central", address="1 Main St", pin_code="CEN01",
                          price_per_hour="2.00", number_of_spots=3)
    return {"manager": manager, "attendant": attendant, "driver": driver, "lot": lot}


def uncached(app: App) -> Any:
    """Fresh service objects on the same database: what the cached reads must agree with."""
    ctx = app.ctx
    return SimpleNamespace(lots=LotService(ctx), stats=StatsService(ctx),
                           parking=ParkingService(ctx), search=SearchService(ctx))


def _read_everything(app: Any, w: dict[str, Any]) -> dict[str, Any]:
    driver, manager = w["driver"], w["manager"]
    return {
        "lots": app.lots.search(),
        "all_lots": app.lots.search(include_archived=True),
        "dashboard": app.stats.dashboard(manager),
        "summary": app.stats.driver_summary(manager, uid(driver)),
        "own_summary": app.stats.driver_summary(driver),
        "open": app.parking.open_reservation(driver),
        "history": app.search.reservations(driver, ReservationFilter(user_id=uid(driver))),
    }


WRITES: dict[str, tuple[Callable[[App, dict[str, Any]], None],
                        Callable[[dict[str, Any]], object]]] = {
    # name: (the write, what a fresh read must show afterwards)
    "create lot": (
        lambda app, w: app.lots.create(w["manager"], name="Harbour", address="2 Quay",
                                       pin_code="HAR02", price_per_hour="1.00",
                                       number_of_spots=2),
        lambda r: ([lot.name for lot in r["lots"]], r["dashboard"].lots),
    ),
    "change price": (
        lambda app, w: app.lots.set_price(w["manager"], w["lot"].id, "3.75"),
        lambda r: r["lots"][0].price_per_hour,
    ),
    "rename lot": (
        lambda app, w: app.lots.update(w["manager"], w["lot"].id, name="Centre"),
        lambda r: (r["lots"][0].name, [p.name for p in r["dashboard"].per_lot]),
    ),
    "resize lot": (
        lambda app, w: app.lots.resize(w["manager"], w["lot"].id, 7),
        lambda r: (r["lots"][0].available, r["dashboard"].spots),
    ),
    "archive lot": (
        lambda app, w: app.lots.archive(w["manager"], w["lot"].id),
        lambda r: (len(r["lots"]), r["all_lots"][0].archived_at is None, r["dashboard"].lots),
    ),
    "reserve": (
        lambda app, w: app.parking.reserve(w["driver"], w["lot"].id, "AB123"),
        lambda r: (r["lots"][0].reserved, r["open"] is None, r["history"].total,
                   r["dashboard"].reservations_active),
    ),
    "check in": (
        lambda app, w: app.parking.check_in(w["attendant"], w["lot"].id, "WALK1",
                                            driver_id=uid(w["driver"])),
        lambda r: (r["lots"][0].occupied, r["open"] is None, r["dashboard"].occupied),
    ),
    "create user": (
        lambda app, w: app.users.create(SYSTEM, username="newbie", password="correct-horse-1",
                                        role=Role.DRIVER),
        lambda r: r["dashboard"].drivers,
    ),
    "deactivate user": (
        lambda app, w: app.users.set_active(w["manager"], uid(w["driver"]), False),
        lambda r: r["dashboard"].drivers,
    ),
}


@pytest.mark.parametrize("kind", list(WRITES))
def test_each_kind_of_write_shows_at_once(app: App, make_user: MakeUser, kind: str) -> None:
    world = _world(app, make_user)
    write, visible = WRITES[kind]
    before = visible(_read_everything(app, world))
    assert visible(_read_everything(app, world)) == before  # second read: from the cache
    write(app, world)
    after = visible(_read_everything(app, world))
    assert after != before, f"{kind}: the cached reads did not change"
    # And what they show is what the database says (services without the cache).
    assert visible(_read_everything(uncached(app), world)) == after


@pytest.mark.parametrize("kind", ["park", "release", "cancel", "check out", "force release"])
def test_reservation_steps_show_at_once(
    app: App, make_user: MakeUser, clock: FixedClock, kind: str
) -> None:
    w = _world(app, make_user)
    driver, attendant = w["driver"], w["attendant"]
    booking = app.parking.reserve(driver, w["lot"].id, "AB123")
    if kind in ("release", "check out", "force release"):
        app.parking.park(driver, booking.id)
        clock.advance(hours=2)
    before = _read_everything(app, w)
    assert _read_everything(app, w) == before
    if kind == "park":
        app.parking.park(driver, booking.id)
    elif kind == "release":
        app.parking.release(driver, booking.id)
    elif kind == "cancel":
        app.parking.cancel(driver, booking.id)
    elif kind == "check out":
        app.parking.check_out(attendant, "AB123")
    else:
        app.parking.force_release(attendant, booking.spot_id, "car abandoned")
    after = _read_everything(app, w)
    assert after == _read_everything(uncached(app), w)
    assert after["open"] != before["open"]
    assert after["history"].items[0].status != before["history"].items[0].status
    assert (after["lots"][0].reserved, after["lots"][0].occupied) != (
        before["lots"][0].reserved, before["lots"][0].occupied)
    assert after["dashboard"] != before["dashboard"]
    if kind != "park" and kind != "cancel":
        assert after["summary"].total_spent > before["summary"].total_spent
        assert after["own_summary"].total_spent == after["summary"].total_spent


def test_activity_only_writes_keep_the_cache(app: App, lot: LotView, manager: Actor) -> None:
    app.lots.search()
    app.activity.record(manager, "csv_export_requested", {"scope": "all"})
    app.lots.search()
    assert calls(app, "lots.search:uncached") == 1


# --- keys respect who asks -----------------------------------------------------------------------
def test_a_cached_dashboard_is_never_handed_to_a_driver(
    app: App, lot: LotView, manager: Actor, attendant: Actor, driver: Actor
) -> None:
    assert app.stats.dashboard(manager) == app.stats.dashboard(attendant)
    with pytest.raises(PermissionDeniedError):
        app.stats.dashboard(driver)


def test_drivers_only_ever_get_their_own_results(
    app: App, lot: LotView, make_user: MakeUser
) -> None:
    alice = make_user("alice", Role.DRIVER)
    bob = make_user("bob", Role.DRIVER)
    app.parking.reserve(alice, lot.id, "ALICE1")
    assert app.parking.open_reservation(alice).vehicle_number == "ALICE1"  # type: ignore[union-attr]
    assert app.stats.driver_summary(alice).bookings == 1
    page = app.search.reservations(alice, ReservationFilter(user_id=uid(alice)))
    assert page.total == 1
    # Bob asks for the same things, with Alice's id where he can pass one.
    assert app.parking.open_reservation(bob) is None
    assert app.stats.driver_summary(bob).bookings == 0
    with pytest.raises(PermissionDeniedError):
        app.stats.driver_summary(bob, uid(alice))
    with pytest.raises(PermissionDeniedError):
        app.parking.open_reservation(bob, uid(alice))
    assert app.search.reservations(bob, ReservationFilter(user_id=uid(alice))).total == 0


def test_two_managers_asking_for_their_own_summary_get_their_own(
    app: App, make_user: MakeUser
) -> None:
    first = make_user("first_boss", Role.MANAGER)
    second = make_user("second_boss", Role.MANAGER)
    assert app.stats.driver_summary(first).username == "first_boss"
    assert app.stats.driver_summary(second).username == "second_boss"


# --- counters, clearing, the explicit operations ------------------------------------------------
def test_hit_and_miss_counters(app: App, lot: LotView, manager: Actor) -> None:
    start = app.cache.info(manager)
    assert (start.hits, start.misses, start.entries) == (0, 0, 0)
    app.lots.search()
    app.lots.search()
    app.lots.search()
    app.stats.dashboard(manager)  # two misses: the dashboard and its closed-hours charts
    info = app.cache.info(manager)
    assert (info.hits, info.misses) == (2, 3)
    assert info.hit_ratio == pytest.approx(0.4)
    assert info.entries == 3
    assert info.size_bytes > 0
    assert info.ok


def test_clearing_empties_the_cache_and_only_managers_may(
    app: App, lot: LotView, manager: Actor, attendant: Actor
) -> None:
    app.lots.search()
    app.stats.dashboard(manager)
    with pytest.raises(PermissionDeniedError):
        app.cache.clear(attendant)
    with pytest.raises(PermissionDeniedError):
        app.cache.info(attendant)
    assert app.cache.clear(manager) == 3  # lots, dashboard, the dashboard's closed hours
    assert app.cache.info(manager).entries == 0
    app.lots.search()
    assert calls(app, "lots.search:uncached") == 2


def test_seed_operations_share_the_lot_list_entry(app: App, lot: LotView) -> None:
    assert app.cache.get_cached_parking_lots() is None
    lots = app.lots.search()
    assert app.cache.get_cached_parking_lots() == lots
    app.cache.clear(SYSTEM)
    app.cache.cache_parking_lots(lots)
    assert app.lots.search() == lots
    assert calls(app, "lots.search:uncached") == 1


def test_cached_response_decorator(app: App, clock: FixedClock) -> None:
    computed: list[int] = []

    @app.cache.cached_response(timeout=30)
    def slow_square(n: int) -> int:
        computed.append(n)
        return n * n

    assert [slow_square(3), slow_square(3), slow_square(4)] == [9, 9, 16]
    assert computed == [3, 4]
    clock.advance(seconds=30)
    assert slow_square(3) == 9
    assert computed == [3, 4, 3]


def test_a_value_computed_during_a_write_is_not_kept(app: App, lot: LotView,
                                                     manager: Actor) -> None:
    """A write that lands while a read is computing must not leave the old value cached."""
    original = app.cache.get_or_compute
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        if len(computed) == 1:  # a concurrent writer commits and invalidates right now
            app.ctx.changed("lots")
        return len(computed)

    assert original("lots", "probe", compute) == 1
    assert original("lots", "probe", compute) == 2  # recomputed: the first was not stored
    assert original("lots", "probe", compute) == 2  # and this one was


# --- stampede protection -------------------------------------------------------------------------
def test_many_callers_at_expiry_cause_one_recomputation(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    app.stats.dashboard(manager)
    clock.advance(minutes=5)  # expired: the next callers all miss
    callers = 12
    start = threading.Barrier(callers)
    results: list[Any] = []

    def caller() -> None:
        start.wait()
        results.append(app.stats.dashboard(manager))

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == callers
    assert all(r == results[0] for r in results)
    assert calls(app, "stats.dashboard:uncached") == 2  # the first fill and one after expiry


def test_processes_sharing_the_folder_compute_once(tmp_path: Path, clock: FixedClock) -> None:
    """Two CacheService objects on one folder stand for two processes: only the disk lock
    is shared between them."""
    first = CacheService(tmp_path / "cache", clock)
    second = CacheService(tmp_path / "cache", clock)
    computed: list[str] = []
    entered = threading.Event()
    release = threading.Event()

    def slow() -> str:
        computed.append("x")
        entered.set()
        release.wait(10)
        return "figures"

    results: list[str] = []
    owner = threading.Thread(target=lambda: results.append(
        first.get_or_compute(DASHBOARD, "k", slow)))
    owner.start()
    assert entered.wait(10)
    waiters = [threading.Thread(target=lambda s=s: results.append(
        s.get_or_compute(DASHBOARD, "k", slow))) for s in (first, second, second)]
    for t in waiters:
        t.start()
    release.set()
    for t in [owner, *waiters]:
        t.join(30)
    assert results == ["figures"] * 4
    assert computed == ["x"]
    first.close()
    second.close()


def test_callers_may_change_what_they_get_without_harming_the_next_caller(
    app: App, lot: LotView, manager: Actor
) -> None:
    lots = app.lots.search()
    lots.clear()
    stats = app.stats.dashboard(manager)
    stats.per_lot.clear()
    stats.revenue_per_day.append(("junk", stats.revenue_total))
    again = app.stats.dashboard(manager)
    assert [x.name for x in app.lots.search()] == ["Central"]
    assert len(again.per_lot) == 1 and len(again.revenue_per_day) == 30
    assert calls(app, "lots.search:uncached") == 1  # all of it came from the cache
    assert calls(app, "stats.dashboard:uncached") == 1


def test_the_namespace_never_holds_a_password() -> None:
    first = namespace_for("postgresql://app:s3cret@db.example:5432/parking", "Europe/Paris")
    second = namespace_for("postgresql://app:other@db.example:5432/parking", "Europe/Paris")
    assert first == second  # the key depends on where the data is, not on the secret
    assert namespace_for("postgresql://app@db.example/parking", "UTC") != namespace_for(
        "postgresql://app@db.example/other", "UTC")
    assert _without_password("postgresql://app:s3cret@db.example/parking") == (
        "postgresql://app:***@db.example/parking")
    assert namespace_for("sqlite:////tmp/a.db", "UTC") != namespace_for("sqlite:////tmp/a.db",
                                                                          "Europe/Paris")


# --- the dashboard's closed quarter hours, cached apart from its live figures ------------------
def _stay_two_hours_ago(app: App, w: dict[str, Any], clock: FixedClock) -> None:
    """A completed walk-in stay, then the clock moved on: it lies in closed quarter hours."""
    app.parking.check_in(w["attendant"], w["lot"].id, "PAST1")
    clock.advance(hours=1)
    app.parking.check_out(w["attendant"], "PAST1")
    clock.advance(hours=1)


def test_a_check_in_keeps_the_closed_hours_charts(
    app: App, make_user: MakeUser, clock: FixedClock
) -> None:
    w = _world(app, make_user)
    manager = w["manager"]
    _stay_two_hours_ago(app, w, clock)
    first = app.stats.dashboard(manager)
    assert sum(first.bookings_by_hour) == 1 and first.revenue_total > 0
    assert calls(app, "stats.chart_history:uncached") == 1

    app.parking.check_in(w["attendant"], w["lot"].id, "NOW01")  # drops the dashboard ...
    after = app.stats.dashboard(manager)
    assert after == uncached(app).stats.dashboard(manager)
    assert (after.occupied, sum(after.bookings_by_hour)) == (first.occupied + 1, 2)
    assert calls(app, "stats.dashboard:uncached") == 2
    assert calls(app, "stats.chart_history:uncached") == 1  # ... not the closed hours

    clock.advance(minutes=15)  # the quarter hour of that check-in closes
    app.parking.check_out(w["attendant"], "NOW01")
    later = app.stats.dashboard(manager)
    assert later == uncached(app).stats.dashboard(manager)
    assert calls(app, "stats.chart_history:uncached") == 2


def test_a_write_into_closed_hours_shows_at_once(
    app: App, make_user: MakeUser, clock: FixedClock
) -> None:
    """A stay recorded late (its summary row in a quarter hour already closed) changes the sum
    that keys the cached charts: they are read again, never served stale."""
    w = _world(app, make_user)
    manager = w["manager"]
    _stay_two_hours_ago(app, w, clock)
    before = app.stats.dashboard(manager)
    late = clock.now() - timedelta(hours=3)
    with app.db.write() as session:  # what recording a stay late does to the summary rows
        summary.count_booking(session, w["lot"].id, late)
        summary.count_completion(session, w["lot"].id, late + timedelta(hours=1), Decimal("10"))
    app.ctx.changed("reservations")  # what that write announces: drops the dashboard
    after = app.stats.dashboard(manager)
    assert after == uncached(app).stats.dashboard(manager)
    assert sum(after.bookings_by_hour) == sum(before.bookings_by_hour) + 1
    assert sum(v for _, v in after.revenue_per_day) == sum(
        v for _, v in before.revenue_per_day) + 10
    assert calls(app, "stats.chart_history:uncached") == 2
