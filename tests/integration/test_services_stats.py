"""Dashboard figures and a driver's summary against hand-computed cases, in the site's time zone
(Europe/Paris: UTC+1 until 29 March 2026, then UTC+2); on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import PermissionDeniedError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.views import LotOccupancy
from tests.conftest import MakeUser, uid


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def scene(app: App, manager: Actor, driver: Actor, make_user: MakeUser,
          clock: FixedClock) -> dict[str, Actor]:
    """Hand-made history; the clock ends at 2 March 12:00 UTC (13:00 in Paris).

    #1 driver1 City Center  in 28 Feb 22:00 out 23:30 UTC (1.5 h x 2.00 = 3.00);
       it left at 00:30 on 1 March in Paris: March revenue, day 2026-03-01
    #2 walk-in Airport      in 28 Feb 21:00 out 22:30 UTC (1.5 h x 3.00 = 4.50);
       23:30 on 28 Feb in Paris: February
    #3 driver2 Airport      reserved 2 Mar 08:00, parked 08:10, out 10:40 (2.5 h = 7.50)
    #4 driver1 City Center  reserved 2 Mar 08:30, cancelled 08:45
    #5 walk-in City Center  in 2 Mar 09:00, still parked
    #6 driver1 City Center  reserved 2 Mar 09:30, not parked yet
    #7 walk-in Old Lot      in 1 Mar 10:00 out 11:00 (1 h x 1.00 = 1.00); lot archived after
    driver3 is deactivated.
    """
    clock.set(utc(28, 20, month=2))
    city = app.lots.create(manager, name="City Center", address="1 Main St", pin_code="75001",
                           price_per_hour="2.00", number_of_spots=4)
    airport = app.lots.create(manager, name="Airport", address="Terminal 2", pin_code="95700",
                              price_per_hour="3.00", number_of_spots=2)
    old = app.lots.create(manager, name="Old Lot", address="3 Old Rd", pin_code="75003",
                          price_per_hour="1.00", number_of_spots=1)
    driver2 = make_user("driver2")
    driver3 = make_user("driver3")
    app.users.set_active(manager, uid(driver3), False)

    clock.set(utc(28, 21, month=2))
    app.parking.check_in(manager, airport.id, "WALK2")
    clock.set(utc(28, 22, month=2))
    app.parking.check_in(manager, city.id, "DRV1A", driver_id=driver.user_id)
    clock.set(utc(28, 22, 30, month=2))
    app.parking.check_out(manager, "WALK2")
    clock.set(utc(28, 23, 30, month=2))
    app.parking.check_out(manager, "DRV1A")

    clock.set(utc(1, 10))
    app.parking.check_in(manager, old.id, "WALK7")
    clock.set(utc(1, 11))
    app.parking.check_out(manager, "WALK7")
    app.lots.archive(manager, old.id)

    clock.set(utc(2, 8))
    r3 = app.parking.reserve(driver2, airport.id, "DRV2A")
    clock.set(utc(2, 8, 10))
    app.parking.park(driver2, r3.id)
    clock.set(utc(2, 8, 30))
    r4 = app.parking.reserve(driver, city.id, "DRV1B")
    clock.set(utc(2, 8, 45))
    app.parking.cancel(driver, r4.id)
    clock.set(utc(2, 9))
    app.parking.check_in(manager, city.id, "WALK5")
    clock.set(utc(2, 9, 30))
    app.parking.reserve(driver, city.id, "DRV1C")
    clock.set(utc(2, 10, 40))
    app.parking.release(driver2, r3.id)
    clock.set(utc(2, 12))
    return {"driver2": driver2, "driver3": driver3}


def test_dashboard_figures(app: App, manager: Actor, scene: dict[str, Actor]) -> None:
    stats = app.stats.dashboard(manager)
    assert (stats.lots, stats.spots, stats.available, stats.reserved, stats.occupied) == (
        2, 6, 4, 1, 1)
    assert stats.occupancy_pct == 33.3
    assert stats.drivers == 2  # driver3 is deactivated
    assert (stats.reservations_total, stats.reservations_active) == (7, 2)
    assert stats.revenue_total == Decimal("16.00")  # the archived lot's history counts
    assert stats.revenue_month == Decimal("11.50")  # March in Paris began at 23:00 UTC
    assert stats.per_lot == [
        LotOccupancy(lot_id=stats.per_lot[0].lot_id, name="Airport", available=2, reserved=0,
                     occupied=0),
        LotOccupancy(lot_id=stats.per_lot[1].lot_id, name="City Center", available=2,
                     reserved=1, occupied=1),
    ]
    assert [r.vehicle_number for r in stats.recent] == ["DRV1C", "WALK5", "DRV1B", "DRV2A",
                                                        "WALK7"]


def test_revenue_per_day_uses_the_sites_days(app: App, manager: Actor,
                                             scene: dict[str, Actor]) -> None:
    days = app.stats.dashboard(manager).revenue_per_day
    assert len(days) == 30
    assert (days[0][0], days[-1][0]) == ("2026-02-01", "2026-03-02")
    assert {d: v for d, v in days if v} == {
        "2026-02-28": Decimal("4.50"),
        "2026-03-01": Decimal("4.00"),  # 3.00 left at 00:30 Paris time + 1.00
        "2026-03-02": Decimal("7.50"),
    }
    assert all(v.as_tuple().exponent == -2 for _, v in days)


def test_bookings_by_hour_use_the_sites_hours(app: App, manager: Actor,
                                              scene: dict[str, Actor]) -> None:
    hours = app.stats.dashboard(manager).bookings_by_hour
    assert len(hours) == 24
    assert {h: n for h, n in enumerate(hours) if n} == {9: 2, 10: 2, 11: 1, 22: 1, 23: 1}


def test_driver_summary(app: App, driver: Actor, scene: dict[str, Actor]) -> None:
    summary = app.stats.driver_summary(driver)
    assert (summary.user_id, summary.username) == (driver.user_id, "driver1")
    assert summary.bookings == 2  # the cancelled one is not a booking
    assert summary.total_spent == Decimal("3.00")
    assert summary.hours_parked == Decimal("1.50")
    assert summary.most_used_lot == "City Center"
    assert [r.vehicle_number for r in summary.recent] == ["DRV1C", "DRV1B", "DRV1A"]
    months = dict(summary.spend_per_month)
    assert len(summary.spend_per_month) == 12
    assert summary.spend_per_month[-1][0] == "2026-03"
    assert summary.spend_per_month[0][0] == "2025-04"
    # It left at 00:30 on 1 March, Paris time: March's money, not February's.
    assert (months["2026-03"], months["2026-02"]) == (Decimal("3.00"), Decimal("0.00"))

    second = app.stats.driver_summary(scene["driver2"], uid(scene["driver2"]))
    assert (second.bookings, second.total_spent, second.hours_parked, second.most_used_lot) == (
        1, Decimal("7.50"), Decimal("2.50"), "Airport")


def test_a_driver_with_no_history(app: App, scene: dict[str, Actor]) -> None:
    empty = app.stats.driver_summary(scene["driver3"])
    assert (empty.bookings, empty.total_spent, empty.hours_parked, empty.most_used_lot) == (
        0, Decimal("0.00"), Decimal("0.00"), None)
    assert empty.recent == []


def test_who_sees_which_figures(app: App, attendant: Actor, driver: Actor,
                                scene: dict[str, Actor]) -> None:
    assert app.stats.dashboard(attendant).lots == 2
    with pytest.raises(PermissionDeniedError, match="Only staff can see the dashboard"):
        app.stats.dashboard(driver)
    with pytest.raises(PermissionDeniedError, match="your own account"):
        app.stats.driver_summary(driver, uid(scene["driver2"]))
    assert app.stats.driver_summary(attendant, uid(driver)).bookings == 2


def test_an_empty_site(app: App, manager: Actor) -> None:
    stats = app.stats.dashboard(manager)
    assert (stats.lots, stats.spots, stats.occupancy_pct, stats.revenue_total) == (
        0, 0, 0.0, Decimal("0.00"))
    assert stats.bookings_by_hour == [0] * 24


def test_daylight_saving_night(app: App, manager: Actor, clock: FixedClock) -> None:
    """Paris skips 02:00-03:00 on 29 March 2026: 00:30 UTC is 01:30 CET, 01:30 UTC is
    03:30 CEST."""
    clock.set(utc(28, 23))
    lot = app.lots.create(manager, name="Night", address="1 Moon St", pin_code="75009",
                          price_per_hour="2.00", number_of_spots=2)
    clock.set(utc(29, 0, 30))
    app.parking.check_in(manager, lot.id, "EARLY1")
    clock.set(utc(29, 1, 30))
    app.parking.check_in(manager, lot.id, "LATE1")
    clock.set(utc(29, 2, 30))
    app.parking.check_out(manager, "EARLY1")  # 2 h = 4.00
    app.parking.check_out(manager, "LATE1")  # 1 h = 2.00
    clock.set(utc(29, 12))
    stats = app.stats.dashboard(manager)
    assert {h: n for h, n in enumerate(stats.bookings_by_hour) if n} == {1: 1, 3: 1}
    assert {d: v for d, v in stats.revenue_per_day if v} == {"2026-03-29": Decimal("6.00")}


def test_a_time_zone_with_a_half_hour_offset(app: App, manager: Actor,
                                             clock: FixedClock) -> None:
    """India is UTC+5:30: 09:45 UTC is 15:15 there (an hour bucket in UTC would say 14)."""
    app.ctx.tz = ZoneInfo("Asia/Kolkata")
    clock.set(utc(2, 9, 45))
    lot = app.lots.create(manager, name="Mumbai", address="1 Marine Dr", pin_code="400001",
                          price_per_hour="50.00", number_of_spots=1)
    app.parking.check_in(manager, lot.id, "MH01AB1234")
    clock.set(utc(2, 18, 40))  # 00:10 on 3 March in India
    app.parking.check_out(manager, "MH01AB1234")
    stats = app.stats.dashboard(manager)
    assert {h: n for h, n in enumerate(stats.bookings_by_hour) if n} == {15: 1}
    assert {d: v for d, v in stats.revenue_per_day if v} == {"2026-03-03": Decimal("445.83")}
    assert stats.revenue_month == Decimal("445.83")


def test_hours_parked_count_only_completed_stays(app: App, manager: Actor, driver: Actor,
                                                 clock: FixedClock) -> None:
    lot = app.lots.create(manager, name="Short", address="1 A St", pin_code="75010",
                          price_per_hour="6.00", number_of_spots=1)
    app.parking.check_in(manager, lot.id, "DRV1", driver_id=driver.user_id)
    clock.advance(minutes=20)
    app.parking.check_out(manager, "DRV1")  # 20 min parked, 1 h billed
    summary = app.stats.driver_summary(driver)
    assert (summary.hours_parked, summary.total_spent) == (Decimal("0.33"), Decimal("6.00"))
    assert Role.DRIVER.value == "driver"
