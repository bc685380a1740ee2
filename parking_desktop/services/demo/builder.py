"""Builds the demo data set inside one transaction, in a fixed order of random draws.

Everything comes from one ``random.Random(seed)``, so the order of the steps below is part of
the result: drawing anything in another order gives another (equally valid) data set. Check a
change that must not alter the data with ``scripts/demo_fingerprint.py`` (same output before
and after)."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from parking_desktop.adapters.db import summary
from parking_desktop.adapters.db.bulk import StorageFormat, bulk_insert, bulk_load, reset_sequences
from parking_desktop.adapters.db.models import Base
from parking_desktop.services.demo.bookings import Planner
from parking_desktop.services.demo.history import RESERVATION_COLUMNS, Activity, History
from parking_desktop.services.demo.lots import LotChooser, lots_created, make_lots
from parking_desktop.services.demo.money import ShiftPlan, money_rng, write_money
from parking_desktop.services.demo.options import DemoOptions, DemoResult, DemoSignIn
from parking_desktop.services.demo.people import People, make_drivers, make_staff, staff_logins
from parking_desktop.services.demo.stays import Stays
from parking_desktop.services.demo.tables import (
    finish_users,
    insert_activity,
    insert_lots_and_spots,
    insert_users,
    mark_open_spots,
)
from parking_desktop.services.demo.timeline import Ids, Timeline

SIGN_IN_DRIVERS = 3  # drivers listed with the staff in the sign-ins shown after loading


def build(conn: Connection, options: DemoOptions, now: datetime, tz: Any, password: str,
          password_hash: str, currency: str = "EUR") -> DemoResult:
    """Write the whole data set on ``conn``; every account's password is ``password``;
    amounts are in ``currency`` (the site's)."""
    rng = random.Random(options.seed)
    fmt = StorageFormat(conn.dialect.name)
    frame = Timeline.ending(now, tz, options.days)
    ids = Ids(conn)

    staff = make_staff(ids)
    lots = make_lots(rng, options.lots, options.drivers, ids, fmt)
    choose_lot = LotChooser(rng, lots)
    plates: set[str] = set()
    people = People(staff, make_drivers(rng, options.drivers, frame, ids, choose_lot, plates),
                    plates)
    stays = Stays(rng)
    insert_users(conn, fmt, frame, people, password_hash)
    logins = staff_logins(rng, frame.now, staff)
    created = lots_created(rng, frame, lots)
    insert_lots_and_spots(conn, fmt, lots, created)

    activity: list[Activity] = []
    money_random = money_rng(options.seed)  # its own draws: the rest stays as it was
    shifts = ShiftPlan.layout(money_random, frame, people.attendants)
    history = History(rng, fmt, frame.now, frame.activity_from, lots, people.drivers,
                      people.plates, ids.next["reservations"], activity,
                      money_from=shifts.first_open)
    planner = Planner(rng, frame, people.drivers, lots, choose_lot, stays, people.attendants)
    with bulk_load(conn, "reservations"):
        reservations = bulk_insert(conn, "reservations", RESERVATION_COLUMNS,
                                   history.rows(planner.days()))
    # Before the summary: a waived stay's cost becomes 0, as a check-out would record it.
    money = write_money(conn, fmt, money_random, frame, ids, people, shifts, history.completed,
                        activity, currency)
    finish_users(conn, rng, frame.now, people, logins, activity)
    mark_open_spots(conn, history.open_spots)
    summary.rebuild(conn)  # the dashboard's summary rows, from the history just written
    activity_rows = insert_activity(conn, fmt, ids, frame, people, lots, logins, created,
                                    activity)
    reset_sequences(conn, Base.metadata.sorted_tables)
    # Fresh statistics for the query planner: without them SQLite reads the revenue of
    # this month through the status index, i.e. every completed booking, not 30 days.
    conn.exec_driver_sql("ANALYZE")
    return DemoResult(
        password=password, sign_ins=sign_ins(people), lots=len(lots),
        spots=sum(lot.spots for lot in lots), drivers=len(people.drivers),
        reservations=reservations, open_reservations=len(history.open_spots),
        activity_rows=activity_rows, seconds=0.0,
        revenue_total=Decimal(history.revenue_cents - money.waived_cents).scaleb(-2),
        shifts=money.shifts, payments=money.payments,
    )


def sign_ins(people: People) -> list[DemoSignIn]:
    """Who to sign in as: the staff, then the first few drivers who still book."""
    listed = [DemoSignIn(s.username, s.role, s.email) for s in people.staff]
    listed += [DemoSignIn(d.username, "driver", d.email)
               for d in people.drivers if d.active and d.is_active][:SIGN_IN_DRIVERS]
    return listed
