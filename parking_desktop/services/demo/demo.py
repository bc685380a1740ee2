"""A deterministic demo data set, fast enough for a million reservations.

Determinism: everything (names, plates, lots, who books when, for how long, where) comes from
``random.Random(seed)``. Times are laid out *relative to the clock's now*, in the site's time
zone: so the same seed gives the same data set shifted to today, and "parked since 10 minutes",
"inactive for three weeks" stay true whenever the demo is created. With a FixedClock (tests) the
result is identical row for row.

Shape: one manager, two attendants, drivers (most with an e-mail address at a reserved example
domain, about one in seven inactive for weeks, a few deactivated, a few who never booked),
lots of varied sizes and prices, and a history where every booking holds a real spot (the first
free one, as the service would choose) for its whole stay, one booking per driver at a time.
Completed bookings are charged by ``domain.fee.compute_fee`` at the lot's price; some bookings
are cancelled; the ones still running at "now" are left open (reserved or occupied) with the
spot statuses to match. Activity rows (logins, bookings, parking, releases) are written for the
last ACTIVITY_DAYS days only: older history lives in the reservations themselves, and a full
activity log would triple the rows to write.

Speed: rows are produced in storage form and written with bulk inserts (adapters/db/bulk), the
password is hashed once for every demo account, and it all happens in one transaction: either
the whole data set is there or nothing is."""

from __future__ import annotations

import heapq
import math
import random
import time
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update

from parking_desktop.adapters.db.bulk import (
    StorageFormat,
    bulk_insert,
    bulk_load,
    reset_sequences,
)
from parking_desktop.adapters.db.copy import load_all_models
from parking_desktop.adapters.db.models import Base, ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.fee import compute_fee
from parking_desktop.services.accounts.users import PasswordHasher
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.demo.catalog import (
    FIRST_NAMES,
    LAST_NAMES,
    LOT_SITES,
    MAIL_DOMAINS,
    PLATE_LETTERS,
)
from parking_desktop.services.demo.options import LIMITS as LIMITS
from parking_desktop.services.demo.options import DemoOptions as DemoOptions

ACTIVITY_DAYS = 30
BOOKINGS_PER_DRIVER_DAY = 0.30  # before weekend thinning; ~1M bookings for 10k drivers, 1 year
WALK_INS_PER_DRIVER_DAY = 0.03
SPOTS_PER_DRIVER = 0.12
SQLITE_CACHE_KIB = 512 * 1024
STAY_TABLE = 4096
DAY = 86_400
HOUR = 3600
TOPICS = ("users", "lots", "spots", "reservations", "activity")
STAFF = (  # username, role, e-mail, full name
    ("manager", "manager", "manager@example.com", "Morgan Lefevre"),
    ("attendant1", "attendant", None, "Sam Carpentier"),
    ("attendant2", "attendant", None, "Alex Marchand"),
)

_RES_COLUMNS = ("id", "spot_id", "user_id", "vehicle_number", "status", "reserved_at",
                "parked_at", "left_at", "price_per_hour", "cost", "created_by", "note")
_ACT_COLUMNS = ("id", "user_id", "activity_type", "activity_data", "timestamp")


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    role: str
    email: str | None


@dataclass(frozen=True)
class DemoResult:
    password: str
    sign_ins: list[DemoSignIn]
    lots: int
    spots: int
    drivers: int
    reservations: int
    open_reservations: int
    activity_rows: int
    seconds: float
    revenue_total: Decimal = Decimal("0.00")


@dataclass
class _Driver:
    index: int
    user_id: int
    username: str
    plates: tuple[str, ...]
    favourite: int
    self_service: float  # share of bookings made at the kiosk (the rest: attendant check-in)
    commuter: bool
    first_day: int
    last_day: int  # exclusive
    active: bool
    is_active: bool
    created_at: int
    last_booking: int | None = None
    last_login: int | None = None


@dataclass
class _Lot:
    index: int
    lot_id: int
    name: str
    price_cents: int
    spots: int
    first_spot_id: int
    price: Any = None  # price_per_hour in storage form
    numbers: list[str] = field(default_factory=list)  # spot number by position (index 0 unused)
    free: list[int] = field(default_factory=list)  # heap of free spot positions
    busy: list[tuple[int, int]] = field(default_factory=list)  # heap of (free again at, position)

    def claim(self, start: int, end: int) -> int | None:
        """The first free spot (lowest number) at ``start``, held until ``end``."""
        busy, free = self.busy, self.free
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if not free:
            return None
        position = heapq.heappop(free)
        heapq.heappush(busy, (end, position))
        return position


class DemoLoader:
    """Fills an empty database with the demo data set (the `demo` command)."""

    def __init__(self, ctx: ServiceContext, hasher: PasswordHasher) -> None:
        self.ctx = ctx
        self.hasher = hasher

    def existing_data(self) -> dict[str, int]:
        """Row counts of the tables the demo would fill, when any is not empty."""
        with self.ctx.db.engine.connect() as conn:
            return _existing_data(conn)

    def erase_everything(self) -> None:
        """Delete every row of every table (``demo --reset``)."""
        tables = list(reversed(load_all_models().sorted_tables))
        with self.ctx.write(*TOPICS) as session:
            if session.get_bind().dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    session.execute(table.delete())

    def load(self, options: DemoOptions, password: str) -> DemoResult:
        options = options.validated()
        validation.password(password)
        started = time.perf_counter()
        password_hash = self.hasher.hash(password)  # once, for every demo account
        now = self.ctx.clock.now()
        engine = self.ctx.db.engine.execution_options(sqlite_immediate=True)
        with engine.begin() as conn, _big_page_cache(conn):
            # Checked inside the write transaction: nobody can add rows between check and load.
            existing = _existing_data(conn)
            if existing:
                listed = ", ".join(f"{n} {t}" for t, n in existing.items())
                raise ConflictError(
                    f"The database already has data ({listed}); demo data goes into an empty "
                    "database only (use --reset to erase it first)."
                )
            builder = _Builder(conn, options, now, self.ctx.tz, password_hash)
            result = builder.build(password)
        self.ctx.changed(*TOPICS)
        return DemoResult(**{**result, "seconds": round(time.perf_counter() - started, 2)})


class _Builder:
    def __init__(self, conn: Connection, options: DemoOptions, now: datetime, tz: Any,
                 password_hash: str) -> None:
        self.conn = conn
        self.o = options
        self.rng = random.Random(options.seed)
        self.fmt = StorageFormat(conn.dialect.name)
        self.now = int(now.timestamp())
        self.password_hash = password_hash
        today = now.astimezone(tz).date()
        first = today - timedelta(days=options.days - 1)
        # Local midnights (as UTC seconds) of every day of the window, plus the day after.
        self.day_start = [_local_midnight(first + timedelta(days=k), tz)
                          for k in range(options.days + 1)]
        self.weekend = [(first + timedelta(days=k)).weekday() >= 5 for k in range(options.days)]
        self.activity_from = self.now - ACTIVITY_DAYS * DAY
        self.next_id = {t: self._max_id(t) + 1 for t in
                        ("users", "parking_lots", "parking_spots", "reservations",
                         "user_activity")}
        self.fee_cache: dict[tuple[int, int], tuple[int, str]] = {}
        self.activity: list[tuple[int, int | None, str, dict[str, Any]]] = []
        self.open_spots: list[tuple[int, str]] = []
        self.open_plates: set[str] = set()
        self.driver_plates: set[str] = set()
        self.ts = self.fmt.timestamp
        self.money = self.fmt.money
        self.revenue_cents = 0

    # --- orchestration ------------------------------------------------------------------
    def build(self, password: str) -> dict[str, Any]:
        staff = self._staff()
        self.lots = self._lots()
        self.lot_weights = list(accumulate(lot.spots for lot in self.lots))
        self.drivers = self._drivers()
        self._stay_tables()
        self.attendants = [uid for uid, _, role, _ in staff if role == "attendant"]
        self.manager_id = staff[0][0]
        self._insert_users(staff)
        self._insert_lots_and_spots()
        self.next_reservation_id = first_reservation = self.next_id["reservations"]
        with bulk_load(self.conn, "reservations"):
            bulk_insert(self.conn, "reservations", _RES_COLUMNS, self._reservation_rows())
        self.reservation_count = self.next_reservation_id - first_reservation
        self._finish_users()
        self._mark_open_spots()
        activity_rows = self._insert_activity(staff)
        reset_sequences(self.conn, Base.metadata.sorted_tables)
        # Fresh statistics for the query planner: without them SQLite reads the revenue of
        # this month through the status index, i.e. every completed booking, not 30 days.
        self.conn.exec_driver_sql("ANALYZE")
        sign_ins = [DemoSignIn(name, role, email) for _, name, role, email in staff]
        sign_ins += [DemoSignIn(d.username, "driver", self.emails.get(d.index))
                     for d in self.drivers if d.active and d.is_active][:3]
        return {
            "password": password, "sign_ins": sign_ins, "lots": len(self.lots),
            "spots": sum(lot.spots for lot in self.lots), "drivers": len(self.drivers),
            "reservations": self.reservation_count, "open_reservations": len(self.open_spots),
            "activity_rows": activity_rows,
            "revenue_total": Decimal(self.revenue_cents).scaleb(-2),
        }

    def _max_id(self, table: str) -> int:
        return int(self.conn.scalar(text(f'SELECT MAX(id) FROM "{table}"')) or 0)  # noqa: S608

    def _take_ids(self, table: str, count: int) -> int:
        """Ids are given here, not by the database: activity rows refer to them."""
        first = self.next_id[table]
        self.next_id[table] = first + count
        return first

    # --- people -------------------------------------------------------------------------
    def _staff(self) -> list[tuple[int, str, str, str | None]]:
        first = self._take_ids("users", len(STAFF))
        return [(first + n, name, role, email) for n, (name, role, email, _) in enumerate(STAFF)]

    def _drivers(self) -> list[_Driver]:
        rng, days = self.rng, self.o.days
        first_id = self._take_ids("users", self.o.drivers)
        taken: dict[str, int] = {}
        self.emails: dict[int, str] = {}
        self.full_names: list[str] = []
        drivers = []
        for i in range(self.o.drivers):
            first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            base = f"{first_name}_{last_name}".lower()
            taken[base] = taken.get(base, 0) + 1
            username = base if taken[base] == 1 else f"{base}{taken[base]}"
            self.full_names.append(f"{first_name} {last_name}")
            if rng.random() < 0.88:
                self.emails[i] = f"{username}@{rng.choice(MAIL_DOMAINS)}"
            kind = rng.random()
            active = kind >= 0.20  # 5% never book, 15% stopped weeks ago
            never = kind < 0.05
            first_day = 0 if rng.random() < 0.7 else int(rng.random() * days * 0.7)
            if never:
                last_day = first_day
            elif active:
                last_day = days
            else:
                last_day = max(first_day, days - 15 - int(rng.random() * 45))
            plates = [self._new_plate()]
            if rng.random() < 0.15:
                plates.append(self._new_plate())
            created = self.day_start[first_day] - int(rng.random() * (400 if first_day == 0
                                                                       else 1) * DAY) - HOUR
            drivers.append(_Driver(
                index=i, user_id=first_id + i, username=username, plates=tuple(plates),
                favourite=self._weighted_lot(), commuter=rng.random() < 0.3,
                self_service=0.85 if rng.random() < 0.75 else 0.2,
                first_day=first_day, last_day=last_day, active=active,
                is_active=active or rng.random() > 0.15, created_at=created,
            ))
        return drivers

    def _new_plate(self) -> str:
        rng, letters = self.rng, PLATE_LETTERS
        while True:
            plate = (rng.choice(letters) + rng.choice(letters) + f"{rng.randrange(1, 1000):03d}"
                     + rng.choice(letters) + rng.choice(letters))
            if plate not in self.driver_plates:
                self.driver_plates.add(plate)
                return plate

    # --- lots ---------------------------------------------------------------------------
    def _lots(self) -> list[_Lot]:
        rng = self.rng
        total = max(10 * self.o.lots, round(SPOTS_PER_DRIVER * self.o.drivers))
        sites = [LOT_SITES[i % len(LOT_SITES)] for i in range(self.o.lots)]
        weights = [site[4] * (0.8 + 0.4 * rng.random()) for site in sites]
        scale = total / sum(weights)
        first_id = self._take_ids("parking_lots", self.o.lots)
        lots = []
        for i, site in enumerate(sites):
            name = site[0] if i < len(LOT_SITES) else f"{site[0]} {i // len(LOT_SITES) + 1}"
            size = min(validation.MAX_SPOTS, max(5, round(weights[i] * scale)))
            first_spot = self._take_ids("parking_spots", size)
            lots.append(_Lot(index=i, lot_id=first_id + i, name=name, price_cents=site[3],
                             spots=size, first_spot_id=first_spot,
                             price=self.fmt.money(site[3]),
                             numbers=[""] + [validation.spot_number(p)
                                             for p in range(1, size + 1)],
                             free=list(range(1, size + 1))))
        return lots

    def _weighted_lot(self) -> int:
        return bisect_right(self.lot_weights, self.rng.random() * self.lot_weights[-1])

    # --- the history --------------------------------------------------------------------
    def _plan(self) -> tuple[list[list[int]], dict[int, tuple[int, int, bool]]]:
        """Which drivers book on which day, and the bookings still running at "now"."""
        rng = self.rng
        plans: list[list[int]] = [[] for _ in range(self.o.days)]
        for d in self.drivers:
            window = d.last_day - d.first_day
            if window <= 0:
                continue
            rate = min(1.0, rng.lognormvariate(math.log(BOOKINGS_PER_DRIVER_DAY), 0.6))
            count = min(window, int(rate * window + rng.random()))
            for day in rng.sample(range(d.first_day, d.last_day), count):
                if not self.weekend[day] or rng.random() < 0.5:
                    plans[day].append(d.index)
        for day_plan in plans:
            day_plan.sort()
        # Make sure the lots are not empty right now, whatever the time of day: a few active
        # drivers are parked (or have just booked) at the moment the demo is created.
        candidates = [d for d in self.drivers if d.active and d.is_active]
        wanted = min(len(candidates), max(2, round(0.03 * len(candidates))),
                     max(1, sum(lot.spots for lot in self.lots) // 3))
        current: dict[int, tuple[int, int, bool]] = {}
        for k, d in enumerate(rng.sample(candidates, wanted)):
            parked = k % 5 != 0  # one in five has booked and is on the way
            ago = (15 * 60 + int(rng.random() * 6 * HOUR)) if parked else (
                60 + int(rng.random() * 24 * 60))
            start = max(self.day_start[0], self.now - ago)
            day = max(0, bisect_right(self.day_start, start) - 1)
            current[d.index] = (day, start, parked)
        return plans, current

    def _reservation_rows(self) -> Iterator[tuple[Any, ...]]:
        plans, current = self._plan()
        for day in range(self.o.days):
            bookings = []
            for i in plans[day]:
                forced = current.get(i)
                if forced is not None and day >= forced[0]:
                    continue
                bookings.append(self._driver_booking(self.drivers[i], day))
            for i, (start_day, start, parked) in current.items():
                if start_day == day:
                    bookings.append(self._current_booking(self.drivers[i], start, parked))
            bookings.extend(self._walk_ins(day))
            bookings.sort(key=lambda b: (b[0], b[4]))
            for booking in bookings:
                row = self._place(booking)
                if row is not None:
                    yield row

    def _stay_tables(self) -> None:
        """Arrival times and stay lengths, drawn once: a booking then picks one of each with
        a single random() (a million gauss() calls would cost seconds)."""
        rng = self.rng

        def clamp(seconds: float) -> int:
            return int(min(22.5 * HOUR, max(6 * HOUR, seconds)))

        commute = []
        other = []
        for _ in range(STAY_TABLE):
            commute.append((clamp(rng.gauss(8.25, 0.6) * HOUR),
                            max(10, int(rng.gauss(8.5, 1.0) * 60))))
            v = rng.random()
            if v < 0.45:  # daytime errands
                arrival = (9 + 7 * rng.random()) * HOUR
            elif v < 0.8:  # evening
                arrival = rng.gauss(18.5, 1.5) * HOUR
            else:
                arrival = (7 + 14 * rng.random()) * HOUR
            other.append((clamp(arrival), max(10, int(rng.lognormvariate(math.log(100), 0.7)))))
        self.commute_stays, self.other_stays = commute, other

    def _arrival(self, commuter: bool) -> tuple[int, int]:
        """(seconds after local midnight, minutes parked)."""
        rng = self.rng
        table = self.commute_stays if commuter and rng.random() < 0.6 else self.other_stays
        arrival, minutes = table[int(rng.random() * STAY_TABLE)]
        return arrival + int(rng.random() * 300), minutes

    def _driver_booking(self, d: _Driver, day: int) -> tuple[Any, ...]:
        rng = self.rng
        offset, minutes = self._arrival(d.commuter)
        reserved = self.day_start[day] + offset
        self_service = rng.random() < d.self_service
        lead = 120 + int(rng.random() * 1680) if self_service else 0
        cancelled = self_service and rng.random() < 0.06
        day_end = self.day_start[day + 1] - 1
        if cancelled:
            parked, end = None, min(day_end, reserved + 300 + int(rng.random() * 3300))
        else:
            parked = reserved + lead
            end = min(day_end, parked + minutes * 60)
        lot = d.favourite if rng.random() < 0.75 else self._weighted_lot()
        plate = d.plates[0] if len(d.plates) == 1 or rng.random() < 0.8 else d.plates[1]
        creator = d.user_id if self_service else rng.choice(self.attendants)
        return (reserved, parked, end, cancelled, d.index, plate, lot, creator)

    def _current_booking(self, d: _Driver, start: int, parked: bool) -> tuple[Any, ...]:
        far = self.now + 30 * DAY  # still there at "now"
        if parked:
            lead = min(int(self.rng.random() * 600), self.now - start)
            return (start, start + lead, far, False, d.index, d.plates[0], d.favourite,
                    d.user_id)
        return (start, None, far, True, d.index, d.plates[0], d.favourite, d.user_id)

    def _walk_ins(self, day: int) -> list[tuple[Any, ...]]:
        rng = self.rng
        factor = 0.5 if self.weekend[day] else 1.0
        count = int(self.o.drivers * WALK_INS_PER_DRIVER_DAY * factor * (0.8 + 0.4 * rng.random())
                    + rng.random())
        day_end = self.day_start[day + 1] - 1
        out = []
        for _ in range(count):
            offset, minutes = self._arrival(False)
            reserved = self.day_start[day] + offset
            plate = (rng.choice(PLATE_LETTERS) + rng.choice(PLATE_LETTERS)
                     + f"{rng.randrange(1, 1000):03d}" + rng.choice(PLATE_LETTERS)
                     + rng.choice(PLATE_LETTERS))
            out.append((reserved, reserved, min(day_end, reserved + minutes * 60), False, -1,
                        plate, self._weighted_lot(), rng.choice(self.attendants)))
        return out

    def _place(self, booking: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """Give the booking a spot and turn it into a reservations row (storage form)."""
        reserved, parked, end, cancelled, driver_index, plate, lot_index, creator = booking
        now = self.now
        if reserved > now:
            return None  # later today: not booked yet
        lots = self.lots
        lot = lots[lot_index]
        position = lot.claim(reserved, end)
        step = 1
        while position is None and step < len(lots):  # full: the next lot with room
            lot = lots[(lot_index + step) % len(lots)]
            position = lot.claim(reserved, end)
            step += 1
        if position is None:
            return None  # every lot full: this driver went elsewhere
        user_id = None
        if driver_index >= 0:
            driver = self.drivers[driver_index]
            user_id = driver.user_id
            driver.last_booking = reserved
            if creator == user_id:  # signed in at the kiosk to book
                driver.last_login = reserved - 60
        cost = None
        hours = ""
        left: int | None = end
        if end > now:  # still running at "now": an open reservation
            left = None
            if cancelled or parked is None or parked > now:
                status, parked = "reserved", None
            else:
                status = "active"
            if driver_index < 0:
                while plate in self.open_plates or plate in self.driver_plates:
                    plate = plate[:2] + f"{self.rng.randrange(1, 1000):03d}" + plate[5:]
            self.open_spots.append((lot.first_spot_id + position - 1,
                                    "O" if status == "active" else "R"))
            self.open_plates.add(plate)
        elif cancelled:
            status = "cancelled"
        else:
            status = "completed"
            key = (end - parked, lot.price_cents)
            fee = self.fee_cache.get(key) or self._fee(*key)
            cost, hours = fee
            self.revenue_cents += cost
        reservation_id = self.next_reservation_id
        self.next_reservation_id += 1
        if reserved >= self.activity_from:
            self._booking_activity(reservation_id, lot, lot.numbers[position], plate, user_id,
                                   creator, reserved, parked, left, status, cost, hours, end)
        ts = self.ts
        return (reservation_id, lot.first_spot_id + position - 1, user_id, plate, status,
                ts(reserved), ts(parked), ts(left), lot.price, self.money(cost), creator, None)

    def _fee(self, seconds: int, price_cents: int) -> tuple[int, str]:
        fee = compute_fee(seconds, Decimal(price_cents).scaleb(-2))
        cached = self.fee_cache[(seconds, price_cents)] = (int(fee.cost * 100), str(fee.hours))
        return cached

    def _booking_activity(self, reservation_id: int, lot: _Lot, spot: str, plate: str,
                          user_id: int | None, creator: int, reserved: int, parked: int | None,
                          left: int | None, status: str, cost_cents: int | None, hours: str,
                          end: int) -> None:
        base = {"reservation_id": reservation_id, "lot": lot.name, "spot": spot,
                "vehicle": plate, "for_user_id": user_id}
        booked = {**base, "price_per_hour": str(Decimal(lot.price_cents).scaleb(-2))}
        add = self.activity.append
        if creator == user_id:
            add((reserved - 60, user_id, "login", {}))
        add((reserved, creator, "booking_created", booked))
        if parked is not None:
            add((parked, creator, "parked", booked))
        if status == "completed":
            add((end, creator, "booking_completed",
                 {**base, "hours": hours, "cost": str(Decimal(cost_cents or 0).scaleb(-2))}))
        elif status == "cancelled":
            add((end, creator, "booking_cancelled", base))

    # --- writing ------------------------------------------------------------------------
    def _insert_users(self, staff: list[tuple[int, str, str, str | None]]) -> None:
        fmt, rng = self.fmt, self.rng
        created = fmt.timestamp(self.day_start[0] - 500 * DAY)
        staff_rows = [(uid, name, email, full_name, self.password_hash, role, fmt.boolean(True),
                       created, 0)
                      for (uid, name, role, email), (*_, full_name) in zip(staff, STAFF,
                                                                          strict=True)]
        driver_rows = (
            (d.user_id, d.username, self.emails.get(d.index), self.full_names[d.index],
             self.password_hash, "driver", fmt.boolean(d.is_active), fmt.timestamp(d.created_at),
             0)
            for d in self.drivers
        )
        columns = ("id", "username", "email", "full_name", "password_hash", "role",
                   "is_active", "created_at", "failed_logins")
        bulk_insert(self.conn, "users", columns, staff_rows)
        bulk_insert(self.conn, "users", columns, driver_rows)
        self.staff_logins = {uid: self.now - int(rng.random() * 2 * DAY) - 300
                             for uid, _, _, _ in staff}

    def _insert_lots_and_spots(self) -> None:
        fmt, rng = self.fmt, self.rng
        self.lot_created = {lot.lot_id: self.day_start[0] - int((200 + rng.random() * 400) * DAY)
                            for lot in self.lots}
        bulk_insert(self.conn, "parking_lots",
                    ("id", "name", "address", "pin_code", "price_per_hour", "number_of_spots",
                     "created_at"),
                    [(lot.lot_id, lot.name, LOT_SITES[lot.index % len(LOT_SITES)][1],
                      LOT_SITES[lot.index % len(LOT_SITES)][2], fmt.money(lot.price_cents),
                      lot.spots, fmt.timestamp(self.lot_created[lot.lot_id]))
                     for lot in self.lots])
        bulk_insert(self.conn, "parking_spots", ("id", "lot_id", "number", "position", "status"),
                    ((lot.first_spot_id + p - 1, lot.lot_id, validation.spot_number(p), p, "A")
                     for lot in self.lots for p in range(1, lot.spots + 1)))

    def _finish_users(self) -> None:
        """last_login / last_booking, now that every booking is known."""
        rng = self.rng
        rows = []
        for d in self.drivers:
            login = d.last_login
            if d.active and d.is_active and rng.random() < 0.25:
                looked = self.now - int(rng.random() * 6 * DAY)  # signed in just to look around
                if looked > (login or 0):
                    login = looked
                    self.activity.append((login, d.user_id, "login", {}))
            if login is None and d.last_booking is not None:
                login = d.last_booking - 3600
            if login is None and not d.active and rng.random() < 0.5:
                login = self.now - (15 + int(rng.random() * 45)) * DAY
            if login is None and d.last_booking is None:
                continue
            rows.append({"uid": d.user_id, "login": _utc(login), "booking": _utc(d.last_booking)})
        rows += [{"uid": uid, "login": _utc(at), "booking": None}
                 for uid, at in self.staff_logins.items()]
        self.conn.execute(
            update(User).where(User.id == bindparam("uid"))
            .values(last_login=bindparam("login"), last_booking=bindparam("booking")),
            rows,
        )

    def _mark_open_spots(self) -> None:
        if not self.open_spots:
            return
        self.conn.execute(
            update(ParkingSpot).where(ParkingSpot.id == bindparam("sid"))
            .values(status=bindparam("st")),
            [{"sid": sid, "st": status} for sid, status in self.open_spots],
        )

    def _insert_activity(self, staff: list[tuple[int, str, str, str | None]]) -> int:
        created = self.day_start[0] - 500 * DAY
        for uid, name, role, email in staff:
            self.activity.append((created, None, "user_created",
                                  {"user_id": uid, "username": name, "role": role,
                                   "email": email}))
            self.activity.append((self.staff_logins[uid], uid, "login", {}))
        for lot in self.lots:
            self.activity.append((self.lot_created[lot.lot_id], self.manager_id, "lot_created",
                                  {"lot_id": lot.lot_id, "after": {
                                      "name": lot.name, "number_of_spots": lot.spots,
                                      "price_per_hour": str(Decimal(lot.price_cents).scaleb(-2)),
                                  }}))
        self.activity.sort(key=lambda a: a[0])
        first = self._take_ids("user_activity", len(self.activity))
        fmt = self.fmt
        with bulk_load(self.conn, "user_activity"):
            return bulk_insert(
                self.conn, "user_activity", _ACT_COLUMNS,
                ((first + n, uid, kind, fmt.json(data), fmt.timestamp(at))
                 for n, (at, uid, kind, data) in enumerate(self.activity)),
            )


def _existing_data(conn: Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in (User, ParkingLot, Reservation):
        n = int(conn.scalar(select(func.count()).select_from(model)) or 0)
        if n:
            counts[model.__tablename__] = n
    return counts


@contextmanager
def _big_page_cache(conn: Connection) -> Iterator[None]:
    """SQLite's default 2 MB page cache makes index updates thrash on a million rows."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _local_midnight(day: date, tz: Any) -> int:
    return int(datetime.combine(day, dtime(0), tzinfo=tz).timestamp())


def _utc(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


