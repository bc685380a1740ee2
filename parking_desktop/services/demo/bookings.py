"""Who books when: each driver's days, the walk-ins attendants check in, and the few bookings
still running at "now" (so the lots are never empty whatever the time of day)."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterator
from typing import NamedTuple

from parking_desktop.services.demo.catalog import PLATE_LETTERS
from parking_desktop.services.demo.lots import Lot, LotChooser
from parking_desktop.services.demo.people import Driver
from parking_desktop.services.demo.stays import Stays
from parking_desktop.services.demo.timeline import DAY, HOUR, Timeline

BOOKINGS_PER_DRIVER_DAY = 0.30  # before weekend thinning; ~1M bookings for 10k drivers, 1 year
WALK_INS_PER_DRIVER_DAY = 0.03


class Booking(NamedTuple):
    reserved: int
    parked: int | None  # None: cancelled, or booked and not arrived yet
    end: int  # left or cancelled at (far in the future: still running at "now")
    cancelled: bool
    driver: int  # index into the drivers, -1 for a walk-in
    plate: str
    lot: int  # lot index
    creator: int  # user id of who made the booking


class Planner:
    def __init__(self, rng: random.Random, frame: Timeline, drivers: list[Driver],
                 lots: list[Lot], choose_lot: LotChooser, stays: Stays,
                 attendants: list[int]) -> None:
        self.rng = rng
        self.frame = frame
        self.drivers = drivers
        self.lots = lots
        self.choose_lot = choose_lot
        self.stays = stays
        self.attendants = attendants

    def days(self) -> Iterator[list[Booking]]:
        """The bookings of each day of the window in turn, in the order they were made. Lazy:
        the random draws of a day follow those of placing the day before, so the same seed
        gives the same data only when each day is placed before the next is asked for."""
        plans, current = self._plan()
        for day in range(len(self.frame.weekend)):
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
            bookings.sort(key=lambda b: (b.reserved, b.driver))
            yield bookings

    def _plan(self) -> tuple[list[list[int]], dict[int, tuple[int, int, bool]]]:
        """Which drivers book on which day, and the bookings still running at "now"."""
        rng, frame = self.rng, self.frame
        plans: list[list[int]] = [[] for _ in frame.weekend]
        for d in self.drivers:
            window = d.last_day - d.first_day
            if window <= 0:
                continue
            rate = min(1.0, rng.lognormvariate(math.log(BOOKINGS_PER_DRIVER_DAY), 0.6))
            count = min(window, int(rate * window + rng.random()))
            for day in rng.sample(range(d.first_day, d.last_day), count):
                if not frame.weekend[day] or rng.random() < 0.5:
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
            start = max(frame.day_start[0], frame.now - ago)
            day = max(0, bisect_right(frame.day_start, start) - 1)
            current[d.index] = (day, start, parked)
        return plans, current

    def _driver_booking(self, d: Driver, day: int) -> Booking:
        rng, frame = self.rng, self.frame
        offset, minutes = self.stays.arrival(d.commuter)
        reserved = frame.day_start[day] + offset
        self_service = rng.random() < d.self_service
        lead = 120 + int(rng.random() * 1680) if self_service else 0
        cancelled = self_service and rng.random() < 0.06
        day_end = frame.day_start[day + 1] - 1
        parked: int | None
        if cancelled:
            parked, end = None, min(day_end, reserved + 300 + int(rng.random() * 3300))
        else:
            parked = reserved + lead
            end = min(day_end, parked + minutes * 60)
        lot = d.favourite if rng.random() < 0.75 else self.choose_lot()
        plate = d.plates[0] if len(d.plates) == 1 or rng.random() < 0.8 else d.plates[1]
        creator = d.user_id if self_service else rng.choice(self.attendants)
        return Booking(reserved, parked, end, cancelled, d.index, plate, lot, creator)

    def _current_booking(self, d: Driver, start: int, parked: bool) -> Booking:
        now = self.frame.now
        far = now + 30 * DAY  # still there at "now"
        if parked:
            lead = min(int(self.rng.random() * 600), now - start)
            return Booking(start, start + lead, far, False, d.index, d.plates[0], d.favourite,
                           d.user_id)
        return Booking(start, None, far, True, d.index, d.plates[0], d.favourite, d.user_id)

    def _walk_ins(self, day: int) -> list[Booking]:
        rng, frame = self.rng, self.frame
        factor = 0.5 if frame.weekend[day] else 1.0
        count = int(len(self.drivers) * WALK_INS_PER_DRIVER_DAY * factor
                    * (0.8 + 0.4 * rng.random()) + rng.random())
        day_end = frame.day_start[day + 1] - 1
        out = []
        for _ in range(count):
            offset, minutes = self.stays.arrival(False)
            reserved = frame.day_start[day] + offset
            plate = (rng.choice(PLATE_LETTERS) + rng.choice(PLATE_LETTERS)
                     + f"{rng.randrange(1, 1000):03d}" + rng.choice(PLATE_LETTERS)
                     + rng.choice(PLATE_LETTERS))
            out.append(Booking(reserved, reserved, min(day_end, reserved + minutes * 60), False,
                               -1, plate, self.choose_lot(), rng.choice(self.attendants)))
        return out
