"""Reservation search (filters, sorting, paging) and the activity history, with a driver only
ever seeing their own; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import PermissionDeniedError, ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.parking.search import ReservationFilter
from tests.conftest import START, MakeUser, uid


@pytest.fixture
def history(app: App, manager: Actor, driver: Actor, make_user: MakeUser,
            clock: FixedClock) -> dict[str, int]:
    """Two lots, two drivers and a walk-in, over three days:

    day 0 09:00  driver1  AB100  City Center  completed 2 h  (5.00)
    day 0 12:00  walk-in  WALK1  Airport      completed 1 h  (4.00)
    day 1 09:00  driver2  CD200  Airport      cancelled
    day 1 10:00  driver2  CD201  Airport      completed 30 m (4.00)
    day 2 09:00  driver1  AB101  City Center  active (parked)
    day 2 09:30  driver2  CD202  City Center  reserved
    """
    city = app.lots.create(manager, name="City Center", address="1 Main St", pin_code="75001",
                           price_per_hour="2.50", number_of_spots=3)
    airport = app.lots.create(manager, name="Airport", address="Terminal 2", pin_code="95700",
                              price_per_hour="4.00", number_of_spots=3)
    driver2 = make_user("driver2", Role.DRIVER, "second@example.com")
    ids: dict[str, int] = {"city": city.id, "airport": airport.id, "driver2": uid(driver2)}

    def at(day: int, hour: int, minute: int = 0) -> None:
        clock.set(START.replace(hour=hour, minute=minute) + timedelta(days=day))

    at(0, 9)
    ids["AB100"] = app.parking.check_in(manager, city.id, "AB100", driver_id=driver.user_id).id
    at(0, 11)
    app.parking.check_out(manager, "AB100")
    at(0, 12)
    ids["WALK1"] = app.parking.check_in(manager, airport.id, "WALK1").id
    at(0, 13)
    app.parking.check_out(manager, "WALK1")
    at(1, 9)
    ids["CD200"] = app.parking.reserve(driver2, airport.id, "CD200").id
    app.parking.cancel(driver2, ids["CD200"])
    at(1, 10)
    ids["CD201"] = app.parking.check_in(manager, airport.id, "CD201", driver_id=driver2.user_id).id
    at(1, 10, 30)
    app.parking.check_out(manager, "CD201")
    at(2, 9)
    ids["AB101"] = app.parking.check_in(manager, city.id, "AB101", driver_id=driver.user_id).id
    at(2, 9, 30)
    ids["CD202"] = app.parking.reserve(driver2, city.id, "CD202").id
    return ids


def plates(page: object) -> list[str]:
    return [r.vehicle_number for r in page.items]  # type: ignore[attr-defined]


def test_everything_newest_first(app: App, manager: Actor, history: dict[str, int]) -> None:
    page = app.search.reservations(manager, ReservationFilter())
    assert page.total == 6
    assert plates(page) == ["CD202", "AB101", "CD201", "CD200", "WALK1", "AB100"]
    first = page.items[-1]
    assert (first.lot_name, first.lot_address, first.spot_number, first.username, first.cost) == (
        "City Center", "1 Main St", "P001", "driver1", Decimal("5.00"))


FILTER_CASES: list[tuple[ReservationFilter, list[str]]] = [
    (ReservationFilter(vehicle="ab-10"), ["AB101", "AB100"]),
    (ReservationFilter(vehicle="cd 20"), ["CD202", "CD201", "CD200"]),
    (ReservationFilter(driver="SECOND@"), ["CD202", "CD201", "CD200"]),
    (ReservationFilter(driver="driver1"), ["AB101", "AB100"]),
    (ReservationFilter(status="completed"), ["CD201", "WALK1", "AB100"]),
    (ReservationFilter(status="cancelled"), ["CD200"]),
    (ReservationFilter(status="active"), ["AB101"]),
    (ReservationFilter(status="reserved"), ["CD202"]),
    (ReservationFilter(since=START + timedelta(days=1)), ["CD202", "AB101", "CD201", "CD200"]),
    (ReservationFilter(since=START + timedelta(days=1), until=START + timedelta(days=2)),
     ["CD201", "CD200"]),
    (ReservationFilter(vehicle="%"), []),
    (ReservationFilter(vehicle="cd", status="completed"), ["CD201"]),
]


def test_filters(app: App, manager: Actor, history: dict[str, int]) -> None:
    # One history, many filters (a parametrised test would rebuild the history each time).
    for flt, expected in FILTER_CASES:
        page = app.search.reservations(manager, flt)
        assert (plates(page), page.total) == (expected, len(expected)), flt


def test_filter_by_lot_and_user(app: App, manager: Actor, history: dict[str, int]) -> None:
    by_lot = app.search.reservations(manager, ReservationFilter(lot_id=history["airport"]))
    assert plates(by_lot) == ["CD201", "CD200", "WALK1"]
    by_user = app.search.reservations(manager, ReservationFilter(user_id=history["driver2"],
                                                                 lot_id=history["city"]))
    assert plates(by_user) == ["CD202"]


def test_naive_dates_mean_the_sites_local_time(app: App, manager: Actor,
                                               history: dict[str, int]) -> None:
    # Site time is Europe/Paris (UTC+1 in March): day 1 from 10:30 local = 09:30 UTC.
    flt = ReservationFilter(since=datetime(2026, 3, 3, 10, 30), until=datetime(2026, 3, 3, 12))
    assert plates(app.search.reservations(manager, flt)) == ["CD201"]


def test_sorting_and_paging(app: App, manager: Actor, history: dict[str, int]) -> None:
    oldest_first = app.search.reservations(manager, ReservationFilter(), descending=False,
                                           offset=1, limit=2)
    assert plates(oldest_first) == ["WALK1", "CD200"]
    assert (oldest_first.total, oldest_first.offset, oldest_first.limit) == (6, 1, 2)
    last_page = app.search.reservations(manager, ReservationFilter(), offset=4, limit=4)
    assert plates(last_page) == ["WALK1", "AB100"]
    by_lot = app.search.reservations(manager, ReservationFilter(), sort="lot", descending=False)
    assert [r.lot_name for r in by_lot.items] == ["Airport"] * 3 + ["City Center"] * 3
    # Rows without a cost come last whichever way, on both databases.
    for descending in (True, False):
        by_cost = app.search.reservations(manager, ReservationFilter(), sort="cost",
                                          descending=descending)
        assert [r.cost is None for r in by_cost.items] == [False] * 3 + [True] * 3
    cheapest = app.search.reservations(manager, ReservationFilter(), sort="cost",
                                       descending=False, limit=1)
    assert cheapest.items[0].cost == Decimal("4.00")
    no_total = app.search.reservations(manager, ReservationFilter(), with_total=False, limit=1)
    assert no_total.total == -1 and len(no_total.items) == 1


def test_a_driver_only_ever_sees_their_own(app: App, driver: Actor,
                                           history: dict[str, int]) -> None:
    mine = app.search.reservations(driver, ReservationFilter())
    assert plates(mine) == ["AB101", "AB100"]
    # Asking for someone else's gives their own, never the other's.
    asked = app.search.reservations(driver, ReservationFilter(user_id=history["driver2"]))
    assert plates(asked) == ["AB101", "AB100"]
    assert plates(app.search.reservations(driver, ReservationFilter(vehicle="CD"))) == []
    assert plates(app.search.reservations(driver, ReservationFilter(driver="driver2"))) == [
        "AB101", "AB100"]


@pytest.mark.parametrize(
    ("flt", "sort", "message"),
    [
        (ReservationFilter(status="parked"), "reserved_at", "Status 'parked' is not one of"),
        (ReservationFilter(since=START, until=START), "reserved_at", "start date must be before"),
        (ReservationFilter(), "password", "Cannot sort by 'password'"),
    ],
)
def test_bad_search_input(app: App, manager: Actor, flt: ReservationFilter, sort: str,
                          message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        app.search.reservations(manager, flt, sort=sort)


# --- activity --------------------------------------------------------------------------------
def test_activity_history_by_user_type_and_page(
    app: App, manager: Actor, driver: Actor, history: dict[str, int]
) -> None:
    everything = app.activity.history(manager)
    assert everything.total >= 10
    assert everything.items[0].timestamp >= everything.items[-1].timestamp  # newest first
    mine = app.activity.history(driver, user_id=uid(driver))
    assert mine.total == 0  # staff checked driver1 in: the actions are the manager's
    driver2 = history["driver2"]
    theirs = app.activity.history(manager, user_id=driver2)
    assert [(a.activity_type, a.activity_data["vehicle"]) for a in theirs.items] == [
        ("booking_created", "CD202"), ("booking_cancelled", "CD200"),
        ("booking_created", "CD200"),
    ]
    created = app.activity.history(manager, user_id=uid(manager),
                                   activity_type="booking_created", limit=2, offset=1)
    assert created.total == 4
    assert [a.activity_data["vehicle"] for a in created.items] == ["CD201", "WALK1"]
    assert created.items[0].username == "manager1"
    window = app.activity.history(manager, activity_type="booking_completed",
                                  since=START + timedelta(days=1),
                                  until=START + timedelta(days=2))
    assert [a.activity_data["vehicle"] for a in window.items] == ["CD201"]


def test_a_driver_sees_only_their_own_activity(
    app: App, driver: Actor, attendant: Actor, history: dict[str, int]
) -> None:
    app.users.authenticate("driver1", "correct-horse-1")
    mine = app.activity.history(driver, user_id=uid(driver))
    assert [a.activity_type for a in mine.items] == ["login"]
    with pytest.raises(PermissionDeniedError, match="only see activity for your own account"):
        app.activity.history(driver, user_id=history["driver2"])
    with pytest.raises(PermissionDeniedError):
        app.activity.history(driver)  # everyone's
    with pytest.raises(PermissionDeniedError):
        app.activity.history(attendant, user_id=uid(driver))


def test_a_count_is_exact_up_to_its_cap(app: App, history: dict[str, int],
                                        manager: Actor) -> None:
    every = app.search.count(manager, ReservationFilter())
    assert (every.value, every.kind) == (6, "exact")
    for flt in (ReservationFilter(status="completed"), ReservationFilter(lot_id=history["city"]),
                ReservationFilter(driver="second@"), ReservationFilter(vehicle="ab10")):
        counted = app.search.count(manager, flt)
        assert counted.kind == "exact"
        assert counted.value == app.search.reservations(manager, flt).total


def test_a_count_past_its_cap_stops_and_says_so(app: App, history: dict[str, int],
                                                manager: Actor) -> None:
    """Never a wrong exact figure: past the cap, "more than" (or PostgreSQL's "about")."""
    for flt in (ReservationFilter(), ReservationFilter(lot_id=history["airport"])):
        counted = app.search.count(manager, flt, cap=2)
        if app.db.is_sqlite and flt.lot_id is None:
            assert (counted.value, counted.kind) == (6, "exact")  # whole table: cheap, exact
            continue
        assert counted.kind in ("more_than", "about")
        assert int(counted) > 2
        if counted.kind == "more_than":
            assert counted.value == 2


def test_a_drivers_count_is_of_their_own_reservations(app: App, history: dict[str, int],
                                                      driver: Actor) -> None:
    counted = app.search.count(driver, ReservationFilter())
    assert (counted.value, counted.kind) == (2, "exact")
