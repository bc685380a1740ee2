"""The hot queries use their indexes, on SQLite and PostgreSQL.

Each statement is the one the service runs (built by the same function), explained as the
database plans it without knowing the parameters' values: ``EXPLAIN QUERY PLAN`` on SQLite,
``EXPLAIN EXECUTE`` of a prepared statement's generic plan on PostgreSQL. A query that stops
using its index (a predicate rewritten so the planner cannot match a partial index, an index
dropped or renamed) fails here, naming the plan it got."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from psycopg.sql import Literal
from sqlalchemy.orm import Session

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.parking import lots, no_shows, parking, search, stats
from parking_desktop.services.sqlhelpers import Explain
from tests.conftest import START, uid

OPEN_SPOT = "uq_reservations_open_spot"
OPEN_USER = "uq_reservations_open_user"
OPEN_VEHICLE = "uq_reservations_open_vehicle"
ANY_OPEN = "uq_reservations_open_"  # PostgreSQL may count open rows through any of the three
SPOTS_BY_LOT = "ix_parking_spots_lot_status_position"
BY_STATUS = "ix_reservations_status_left_cost"
# A quarter hour of check-outs: PostgreSQL may walk it by left_at alone (then filter the
# status) or by (status, left_at); both are an index range of at most 15 minutes.
BY_STATUS_OR_LEFT_AT = (BY_STATUS, "ix_reservations_left_at")
BY_RESERVED_AT = "ix_reservations_reserved_at"
# Open rows of one status: an open-bookings partial index, or the (status, ...) index with the
# status as its index condition; either reads open rows only, never the history.
OPEN_OF_ONE_STATUS = (ANY_OPEN, BY_STATUS)
# The summary's primary key (bucket, lot_id): SQLite names the index of a composite text key.
QUARTERS_SQLITE, QUARTERS_PG = "sqlite_autoindex_stats_quarters_1", "pk_stats_quarters"
MONTH = START.replace(day=1)
SINCE = START - timedelta(days=stats.CHART_DAYS)
UNTIL = stats.current_quarter(START)


def dashboard(name: str) -> Callable[[App, dict[str, int]], Any]:
    return lambda app, ids: stats.dashboard_queries(app.ctx.db.engine.dialect.name,
                                                    MONTH, SINCE, UNTIL)[name]


def everyone(flt: search.ReservationFilter) -> search.SearchQuery:
    return search.search_query(SYSTEM, flt, None, None)

# name: (the service's statement, index it must use on SQLite, on PostgreSQL)
HOT: dict[str, tuple[Callable[[App, dict[str, int]], Any], str, str | tuple[str, ...]]] = {
    # Spots screen
    "spot map: open reservations of a lot": (
        lambda app, ids: parking.spot_map_open(ids["lot"]), OPEN_SPOT, ANY_OPEN),
    # check-in: the one-open-booking checks and the first free spot
    "check-in: driver's open booking": (
        lambda app, ids: parking.open_id_of_user(ids["driver"]), OPEN_USER, OPEN_USER),
    "check-in: vehicle's open booking": (
        lambda app, ids: parking.open_id_of_vehicle("AB100"), OPEN_VEHICLE, OPEN_VEHICLE),
    "check-in: first free spot": (
        lambda app, ids: parking.first_free_spot(ids["lot"]), SPOTS_BY_LOT, SPOTS_BY_LOT),
    # find vehicle / check-out, the driver's current booking, force-release
    "find vehicle (check-out)": (
        lambda app, ids: parking.open_by_vehicle("AB100"), OPEN_VEHICLE, OPEN_VEHICLE),
    "driver's open reservation": (
        lambda app, ids: parking.open_by_user(ids["driver"]), OPEN_USER, OPEN_USER),
    "force-release: the spot's open reservation": (
        lambda app, ids: parking.open_by_spot(ids["spot"]), OPEN_SPOT, OPEN_SPOT),
    # lot list and occupancy counts
    "lot list with counts": (lambda app, ids: lots.lots_query(), SPOTS_BY_LOT, SPOTS_BY_LOT),
    # Reservations screen: first page and its counts
    "reservations: newest first": (
        lambda app, ids: everyone(search.ReservationFilter())
        .page("reserved_at", True, 0, 200), BY_RESERVED_AT, BY_RESERVED_AT),
    "reservations: count by status": (
        lambda app, ids: everyone(search.ReservationFilter(status="completed")).count(),
        BY_STATUS, BY_STATUS),
    "reservations: capped count by status": (
        lambda app, ids: everyone(search.ReservationFilter(status="completed"))
        .capped_count(search.COUNT_CAP), BY_STATUS, BY_STATUS),
    # dashboard
    "dashboard: occupancy per lot": (dashboard("per_lot"), SPOTS_BY_LOT, SPOTS_BY_LOT),
    "dashboard: open reservations": (dashboard("active"), BY_STATUS, ANY_OPEN),
    # (the all-time totals read stats_lot_totals whole: one row per lot)
    "dashboard: revenue this month": (dashboard("revenue_month"), QUARTERS_SQLITE, QUARTERS_PG),
    "dashboard: revenue this month, before the first quarter hour": (
        dashboard("revenue_month_edge"), BY_STATUS, BY_STATUS_OR_LEFT_AT),
    "dashboard: revenue per day and bookings by hour, current quarter hour": (
        dashboard("chart"), QUARTERS_SQLITE, QUARTERS_PG),
    "dashboard: revenue per day and bookings by hour, closed quarter hours": (
        dashboard("chart_history"), QUARTERS_SQLITE, QUARTERS_PG),
    "dashboard: revenue per day, before the first quarter hour": (
        dashboard("revenue_hours_edge"), BY_STATUS, BY_STATUS_OR_LEFT_AT),
    "dashboard: bookings by hour, before the first quarter hour": (
        dashboard("booking_hours_edge"), BY_RESERVED_AT, BY_RESERVED_AT),
    "dashboard: recent reservations": (
        lambda app, ids: search.recent_query(5), BY_RESERVED_AT, BY_RESERVED_AT),
    # the no-show job (every 5 minutes) and the overstay warning (status line): the rows of
    # one open status, never the whole history
    "no-shows: bookings past the hold": (
        lambda app, ids: no_shows.stale_query(START), BY_STATUS, OPEN_OF_ONE_STATUS),
    "overstays: cars parked too long": (
        lambda app, ids: no_shows.overstay_query(START), BY_STATUS, OPEN_OF_ONE_STATUS),
}


@pytest.fixture
def ids(app: App, manager: Actor, driver: Actor) -> dict[str, int]:
    """A lot with an open booking, a completed stay and a walk-in: rows for every plan."""
    lot = app.lots.create(manager, name="Plans", address="1 Main St", pin_code="75001",
                          price_per_hour="2.00", number_of_spots=5)
    app.parking.check_in(manager, lot.id, "AB100", driver_id=driver.user_id)
    app.parking.check_in(manager, lot.id, "WALK1")
    app.parking.check_out(manager, "WALK1")
    spot = app.parking.spots(manager, lot.id)[0].id
    return {"lot": lot.id, "driver": uid(driver), "spot": spot}


def plan(app: App, statement: Any) -> str:
    """The statement's plan: SQLite's, planned before any value is bound as always; on
    PostgreSQL the generic plan, the one a prepared statement settles on after a few runs,
    which knows no parameter's value either."""
    with app.db.read() as session:
        if app.db.is_sqlite:
            return "\n".join(str(row[-1]) for row in session.execute(Explain(statement)))
        return generic_plan(session, statement)


def generic_plan(session: Session, statement: Any) -> str:
    compiled = statement.compile(dialect=session.get_bind().dialect,
                                 compile_kwargs={"render_postcompile": True})
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    body = re.sub(r"%\((\w+)\)s", number, compiled.string).replace("%%", "%")
    params = compiled.construct_params()
    processors = compiled._bind_processors
    values = [processors[n](params[n]) if n in processors else params[n] for n in names]
    raw = session.connection().connection.driver_connection  # the same transaction
    args = ", ".join(Literal(v).as_string(raw) for v in values)
    cursor = raw.cursor()  # the driver's own: the SQL goes as written (its % are not markers)
    # Sequential scans priced out: on a test's few rows a table scan is the cheapest plan,
    # which says nothing about a million.
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cursor.execute(f"PREPARE pd_plan AS {body}")
    try:
        cursor.execute(f"EXPLAIN EXECUTE pd_plan({args})" if args else "EXPLAIN EXECUTE pd_plan")
        rows = cursor.fetchall()
    finally:
        cursor.execute("DEALLOCATE pd_plan")
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize("name", list(HOT))
def test_a_hot_query_uses_its_index(app: App, ids: dict[str, int], name: str) -> None:
    build, on_sqlite, on_postgresql = HOT[name]
    wanted = on_sqlite if app.db.is_sqlite else on_postgresql
    choices = (wanted,) if isinstance(wanted, str) else wanted
    got = plan(app, build(app, ids))
    assert any(index in got for index in choices), \
        f"{name}: expected one of {choices} in the plan, got:\n{got}"


def test_the_open_status_is_written_as_the_partial_indexes_predicate(app: App) -> None:
    """Literal values, not parameters: what lets the planner match uq_reservations_open_*."""
    sql = str(parking.open_id_of_vehicle("AB100").compile(dialect=app.db.engine.dialect))
    assert "status IN ('reserved', 'active')" in sql


@pytest.mark.parametrize("flt", [search.ReservationFilter(),
                                 search.ReservationFilter(status="completed"),
                                 search.ReservationFilter(vehicle="AB")])
def test_a_reservation_count_reads_no_other_table_when_no_filter_needs_one(
        app: App, ids: dict[str, int], flt: search.ReservationFilter) -> None:
    query = everyone(flt)
    for statement in (query.count(), query.capped_count(search.COUNT_CAP)):
        got = plan(app, statement)
        for table in ("parking_spots", "parking_lots", "users"):
            assert table not in got, f"the count joins {table}:\n{got}"


def test_a_count_filtered_by_lot_or_driver_joins_only_what_it_needs(
        app: App, ids: dict[str, int]) -> None:
    by_lot = plan(app, everyone(search.ReservationFilter(lot_id=ids["lot"])).count())
    assert "parking_spots" in by_lot and "parking_lots" not in by_lot
    by_driver = plan(app, everyone(search.ReservationFilter(driver="driver")).count())
    assert "users" in by_driver and "parking_spots" not in by_driver
