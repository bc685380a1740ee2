"""The booking history: each booking placed on a real spot and turned into a reservations row
(storage form), with its activity rows.

Completed bookings are charged by ``domain.fee.compute_fee`` at the lot's price; the ones still
running at "now" stay open (reserved or parked) and their spots are marked to match. Activity is
written for the last ACTIVITY_DAYS days only: older history lives in the reservations
themselves, and a full activity log would triple the rows to write."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, NamedTuple

from parking_desktop.adapters.db.bulk import StorageFormat
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.states import BookingStatus, SpotStatus
from parking_desktop.services.demo.bookings import Booking
from parking_desktop.services.demo.lots import Lot
from parking_desktop.services.demo.people import Driver

RESERVATION_COLUMNS = ("id", "spot_id", "user_id", "vehicle_number", "status", "reserved_at",
                       "parked_at", "left_at", "price_per_hour", "cost", "created_by", "note")
# (at, user id, activity type, data), in the order they happened once sorted by time.
Activity = tuple[int, int | None, str, dict[str, Any]]


class Completed(NamedTuple):
    """A completed stay of the money window (``demo/money.py`` gives it its payment)."""

    reservation_id: int
    lot_id: int
    user_id: int | None
    creator: int
    left_at: int
    cost_cents: int
    plate: str
    activity: dict[str, Any] | None  # its booking_completed data, to carry the payment


class History:
    def __init__(self, rng: random.Random, fmt: StorageFormat, now: int, activity_from: int,
                 lots: list[Lot], drivers: list[Driver], driver_plates: set[str],
                 first_id: int, activity: list[Activity], money_from: int | None = None) -> None:
        self.rng = rng
        self.fmt = fmt
        self.now = now
        self.activity_from = activity_from
        self.lots = lots
        self.drivers = drivers
        self.driver_plates = driver_plates
        self.activity = activity
        self.next_id = first_id
        self.fee_cache: dict[tuple[int, int], tuple[int, str]] = {}
        self.open_spots: list[tuple[int, SpotStatus]] = []  # (spot id, its status now)
        self.open_plates: set[str] = set()
        self.revenue_cents = 0
        self.money_from = money_from  # completed stays that ended since then are kept below
        self.completed: list[Completed] = []

    def rows(self, days: Iterable[list[Booking]]) -> Iterator[tuple[Any, ...]]:
        """The reservations rows of ``days``: each day placed before the next is drawn."""
        for bookings in days:
            for booking in bookings:
                row = self._place(booking)
                if row is not None:
                    yield row

    def _place(self, booking: Booking) -> tuple[Any, ...] | None:
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
                status, parked = BookingStatus.RESERVED, None
            else:
                status = BookingStatus.ACTIVE
            if driver_index < 0:
                while plate in self.open_plates or plate in self.driver_plates:
                    plate = plate[:2] + f"{self.rng.randrange(1, 1000):03d}" + plate[5:]
            self.open_spots.append((lot.spot_id(position), status.spot))
            self.open_plates.add(plate)
        elif cancelled:
            status = BookingStatus.CANCELLED
        else:
            status = BookingStatus.COMPLETED
            assert parked is not None  # only a cancelled booking never parked
            key = (end - parked, lot.price_cents)
            fee = self.fee_cache.get(key) or self._fee(*key)
            cost, hours = fee
            self.revenue_cents += cost
        reservation_id = self.next_id
        self.next_id += 1
        done = None
        if reserved >= self.activity_from:
            done = self._booking_activity(reservation_id, lot, lot.numbers[position], plate,
                                          user_id, creator, reserved, parked, left, status, cost,
                                          hours, end)
        if cost is not None and self.money_from is not None and end >= self.money_from:
            self.completed.append(Completed(reservation_id, lot.lot_id, user_id, creator, end,
                                            cost, plate, done))
        ts = self.fmt.timestamp
        return (reservation_id, lot.spot_id(position), user_id, plate, status,
                ts(reserved), ts(parked), ts(left), lot.price, self.fmt.money(cost), creator,
                None)

    def _fee(self, seconds: int, price_cents: int) -> tuple[int, str]:
        fee = compute_fee(seconds, Decimal(price_cents).scaleb(-2))
        cached = self.fee_cache[(seconds, price_cents)] = (int(fee.cost * 100), str(fee.hours))
        return cached

    def _booking_activity(self, reservation_id: int, lot: Lot, spot: str, plate: str,
                          user_id: int | None, creator: int, reserved: int, parked: int | None,
                          left: int | None, status: BookingStatus, cost_cents: int | None,
                          hours: str, end: int) -> dict[str, Any] | None:
        """Adds the booking's activity; returns its booking_completed data, if completed."""
        base = {"reservation_id": reservation_id, "lot": lot.name, "spot": spot,
                "vehicle": plate, "for_user_id": user_id}
        booked = {**base, "price_per_hour": str(Decimal(lot.price_cents).scaleb(-2))}
        add = self.activity.append
        if creator == user_id:
            add((reserved - 60, user_id, "login", {}))
        add((reserved, creator, "booking_created", booked))
        if parked is not None:
            add((parked, creator, "parked", booked))
        if status is BookingStatus.COMPLETED:
            done = {**base, "hours": hours, "cost": str(Decimal(cost_cents or 0).scaleb(-2))}
            add((end, creator, "booking_completed", done))
            return done
        if status is BookingStatus.CANCELLED:
            add((end, creator, "booking_cancelled", base))
        return None
