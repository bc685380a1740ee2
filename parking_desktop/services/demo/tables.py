"""Writing the demo's rows: bulk inserts in storage form, and the updates that can only come
once every booking is known (last sign-in and booking of each user, the open spots)."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import Connection, bindparam, update

from parking_desktop.adapters.db.bulk import StorageFormat, bulk_insert, bulk_load
from parking_desktop.adapters.db.models import ParkingSpot, User
from parking_desktop.domain import validation
from parking_desktop.domain.states import SpotStatus
from parking_desktop.services.demo.catalog import LOT_SITES
from parking_desktop.services.demo.history import Activity
from parking_desktop.services.demo.lots import Lot
from parking_desktop.services.demo.people import People
from parking_desktop.services.demo.timeline import DAY, Ids, Timeline, utc

USER_COLUMNS = ("id", "username", "email", "full_name", "password_hash", "role", "is_active",
                "created_at", "failed_logins")
ACTIVITY_COLUMNS = ("id", "user_id", "activity_type", "activity_data", "timestamp")


def insert_users(conn: Connection, fmt: StorageFormat, frame: Timeline, people: People,
                 password_hash: str) -> None:
    created = fmt.timestamp(frame.day_start[0] - 500 * DAY)
    staff_rows = [(s.user_id, s.username, s.email, s.full_name, password_hash, s.role,
                   fmt.boolean(True), created, 0)
                  for s in people.staff]
    driver_rows = (
        (d.user_id, d.username, d.email, d.full_name, password_hash, "driver",
         fmt.boolean(d.is_active), fmt.timestamp(d.created_at), 0)
        for d in people.drivers
    )
    bulk_insert(conn, "users", USER_COLUMNS, staff_rows)
    bulk_insert(conn, "users", USER_COLUMNS, driver_rows)


def insert_lots_and_spots(conn: Connection, fmt: StorageFormat, lots: list[Lot],
                          lot_created: dict[int, int]) -> None:
    bulk_insert(conn, "parking_lots",
                ("id", "name", "address", "pin_code", "price_per_hour", "number_of_spots",
                 "created_at"),
                [(lot.lot_id, lot.name, LOT_SITES[lot.index % len(LOT_SITES)][1],
                  LOT_SITES[lot.index % len(LOT_SITES)][2], fmt.money(lot.price_cents),
                  lot.spots, fmt.timestamp(lot_created[lot.lot_id]))
                 for lot in lots])
    bulk_insert(conn, "parking_spots", ("id", "lot_id", "number", "position", "status"),
                ((lot.spot_id(p), lot.lot_id, validation.spot_number(p), p,
                  SpotStatus.AVAILABLE)
                 for lot in lots for p in range(1, lot.spots + 1)))


def finish_users(conn: Connection, rng: random.Random, now: int, people: People,
                 staff_logins: dict[int, int], activity: list[Activity]) -> None:
    """last_login / last_booking, now that every booking is known. Some drivers also signed
    in lately just to look around (their login goes to ``activity``)."""
    rows = []
    for d in people.drivers:
        login = d.last_login
        if d.active and d.is_active and rng.random() < 0.25:
            looked = now - int(rng.random() * 6 * DAY)  # signed in just to look around
            if looked > (login or 0):
                login = looked
                activity.append((login, d.user_id, "login", {}))
        if login is None and d.last_booking is not None:
            login = d.last_booking - 3600
        if login is None and not d.active and rng.random() < 0.5:
            login = now - (15 + int(rng.random() * 45)) * DAY
        if login is None and d.last_booking is None:
            continue
        rows.append({"uid": d.user_id, "login": utc(login), "booking": utc(d.last_booking)})
    rows += [{"uid": uid, "login": utc(at), "booking": None} for uid, at in staff_logins.items()]
    conn.execute(
        update(User).where(User.id == bindparam("uid"))
        .values(last_login=bindparam("login"), last_booking=bindparam("booking")),
        rows,
    )


def mark_open_spots(conn: Connection, open_spots: list[tuple[int, SpotStatus]]) -> None:
    if not open_spots:
        return
    conn.execute(
        update(ParkingSpot).where(ParkingSpot.id == bindparam("sid"))
        .values(status=bindparam("st")),
        [{"sid": sid, "st": status} for sid, status in open_spots],
    )


def insert_activity(conn: Connection, fmt: StorageFormat, ids: Ids, frame: Timeline,
                    people: People, lots: list[Lot], staff_logins: dict[int, int],
                    lot_created: dict[int, int], activity: list[Activity]) -> int:
    """The staff's and lots' own activity added to ``activity``, all of it written in time
    order; returns the number of rows."""
    created = frame.day_start[0] - 500 * DAY
    for s in people.staff:
        activity.append((created, None, "user_created",
                         {"user_id": s.user_id, "username": s.username, "role": s.role,
                          "email": s.email}))
        activity.append((staff_logins[s.user_id], s.user_id, "login", {}))
    for lot in lots:
        activity.append((lot_created[lot.lot_id], people.manager_id, "lot_created",
                         {"lot_id": lot.lot_id, "after": {
                             "name": lot.name, "number_of_spots": lot.spots,
                             "price_per_hour": str(Decimal(lot.price_cents).scaleb(-2)),
                         }}))
    activity.sort(key=lambda a: a[0])
    first = ids.take("user_activity", len(activity))
    with bulk_load(conn, "user_activity"):
        return bulk_insert(
            conn, "user_activity", ACTIVITY_COLUMNS,
            ((first + n, uid, kind, fmt.json(data), fmt.timestamp(at))
             for n, (at, uid, kind, data) in enumerate(activity)),
        )
