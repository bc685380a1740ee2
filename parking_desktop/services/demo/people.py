"""The demo's people: the staff, and drivers with names, plates, habits and e-mail addresses.

About one driver in five stops booking weeks before today (or never books), a few accounts are
deactivated, most drivers have an address at a reserved example domain."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from parking_desktop.services.demo.catalog import (
    FIRST_NAMES,
    LAST_NAMES,
    MAIL_DOMAINS,
    PLATE_LETTERS,
)
from parking_desktop.services.demo.timeline import DAY, HOUR, Ids, Timeline

STAFF = (  # username, role, e-mail, full name
    ("manager", "manager", "manager@example.com", "Morgan Lefevre"),
    ("attendant1", "attendant", None, "Sam Carpentier"),
    ("attendant2", "attendant", None, "Alex Marchand"),
)


class StaffMember(NamedTuple):
    user_id: int
    username: str
    role: str
    email: str | None
    full_name: str


@dataclass
class Driver:
    index: int
    user_id: int
    username: str
    full_name: str
    email: str | None
    plates: tuple[str, ...]
    favourite: int  # lot index
    self_service: float  # share of bookings made at the kiosk (the rest: attendant check-in)
    commuter: bool
    first_day: int
    last_day: int  # exclusive
    active: bool  # still books
    is_active: bool  # the account is not deactivated
    created_at: int
    last_booking: int | None = None
    last_login: int | None = None


@dataclass
class People:
    staff: list[StaffMember]
    drivers: list[Driver]
    plates: set[str]  # every driver's plates

    @property
    def attendants(self) -> list[int]:
        return [s.user_id for s in self.staff if s.role == "attendant"]

    @property
    def manager_id(self) -> int:
        return self.staff[0].user_id


def make_staff(ids: Ids) -> list[StaffMember]:
    first = ids.take("users", len(STAFF))
    return [StaffMember(first + n, name, role, email, full_name)
            for n, (name, role, email, full_name) in enumerate(STAFF)]


def make_drivers(rng: random.Random, count: int, frame: Timeline, ids: Ids,
                 weighted_lot: Callable[[], int], plates: set[str]) -> list[Driver]:
    """``count`` drivers; their plates are added to ``plates``."""
    days = len(frame.weekend)
    first_id = ids.take("users", count)
    taken: dict[str, int] = {}
    drivers = []
    for i in range(count):
        first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        base = f"{first_name}_{last_name}".lower()
        taken[base] = taken.get(base, 0) + 1
        username = base if taken[base] == 1 else f"{base}{taken[base]}"
        email = f"{username}@{rng.choice(MAIL_DOMAINS)}" if rng.random() < 0.88 else None
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
        owned = [new_plate(rng, plates)]
        if rng.random() < 0.15:
            owned.append(new_plate(rng, plates))
        created = frame.day_start[first_day] - int(rng.random() * (400 if first_day == 0
                                                                    else 1) * DAY) - HOUR
        drivers.append(Driver(
            index=i, user_id=first_id + i, username=username,
            full_name=f"{first_name} {last_name}", email=email, plates=tuple(owned),
            favourite=weighted_lot(), commuter=rng.random() < 0.3,
            self_service=0.85 if rng.random() < 0.75 else 0.2,
            first_day=first_day, last_day=last_day, active=active,
            is_active=active or rng.random() > 0.15, created_at=created,
        ))
    return drivers


def new_plate(rng: random.Random, taken: set[str]) -> str:
    """A plate nobody in ``taken`` has; it is added there."""
    letters = PLATE_LETTERS
    while True:
        plate = (rng.choice(letters) + rng.choice(letters) + f"{rng.randrange(1, 1000):03d}"
                 + rng.choice(letters) + rng.choice(letters))
        if plate not in taken:
            taken.add(plate)
            return plate


def staff_logins(rng: random.Random, now: int, staff: list[StaffMember]) -> dict[int, int]:
    """When each staff member last signed in: within the last two days."""
    return {s.user_id: now - int(rng.random() * 2 * DAY) - 300 for s in staff}
