"""The states of a booking and of a spot, and the only ways they may change.

A booking starts reserved (booked, the car on its way) or active (checked in at the gate: the
car is parked and the clock runs). A reserved booking is parked or cancelled; a parked one is
completed when the car leaves. Completed and cancelled bookings are history: they never change.
A spot shows its open booking: reserved while a booking holds it, occupied while a car is on
it, available otherwise.

The values are the text stored in the database (``reservations.status``,
``parking_spots.status``); a member compares equal to that text, so queries and stored rows
need no conversion."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol, TypeVar

from parking_desktop.domain.errors import ConflictError


class SpotStatus(StrEnum):
    AVAILABLE = "A"
    RESERVED = "R"
    OCCUPIED = "O"

    @property
    def word(self) -> str:
        return _SPOT_WORDS[self]

    def can_become(self, new: SpotStatus) -> bool:
        return new in SPOT_TRANSITIONS[self]


class BookingStatus(StrEnum):
    RESERVED = "reserved"
    ACTIVE = "active"  # parked
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def word(self) -> str:
        return _BOOKING_WORDS[self]

    @property
    def is_open(self) -> bool:
        """Still holding a spot (and counted against its driver and vehicle)."""
        return self in OPEN_BOOKINGS

    @property
    def spot(self) -> SpotStatus:
        """What the spot of a booking in this state shows."""
        return _SPOT_OF_BOOKING[self]

    def can_become(self, new: BookingStatus) -> bool:
        return new in BOOKING_TRANSITIONS[self]


_SPOT_WORDS = {SpotStatus.AVAILABLE: "available", SpotStatus.RESERVED: "reserved",
               SpotStatus.OCCUPIED: "occupied"}
_BOOKING_WORDS = {BookingStatus.RESERVED: "reserved", BookingStatus.ACTIVE: "parked",
                  BookingStatus.COMPLETED: "completed", BookingStatus.CANCELLED: "cancelled"}

# The states a new booking may start in, and every allowed change after that.
BOOKING_STARTS = frozenset({BookingStatus.RESERVED, BookingStatus.ACTIVE})
BOOKING_TRANSITIONS: Mapping[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.RESERVED: frozenset({BookingStatus.ACTIVE, BookingStatus.CANCELLED}),
    BookingStatus.ACTIVE: frozenset({BookingStatus.COMPLETED}),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
}
# A free spot is taken by a booking or a check-in; a held spot is parked on or given back;
# an occupied spot is freed when the car leaves.
SPOT_TRANSITIONS: Mapping[SpotStatus, frozenset[SpotStatus]] = {
    SpotStatus.AVAILABLE: frozenset({SpotStatus.RESERVED, SpotStatus.OCCUPIED}),
    SpotStatus.RESERVED: frozenset({SpotStatus.OCCUPIED, SpotStatus.AVAILABLE}),
    SpotStatus.OCCUPIED: frozenset({SpotStatus.AVAILABLE}),
}
# In the order the SQL of the open-booking indexes names them.
OPEN_BOOKINGS = (BookingStatus.RESERVED, BookingStatus.ACTIVE)
_SPOT_OF_BOOKING = {BookingStatus.RESERVED: SpotStatus.RESERVED,
                    BookingStatus.ACTIVE: SpotStatus.OCCUPIED,
                    BookingStatus.COMPLETED: SpotStatus.AVAILABLE,
                    BookingStatus.CANCELLED: SpotStatus.AVAILABLE}

State = TypeVar("State", BookingStatus, SpotStatus)


def require_transition(old: str, new: State) -> State:
    """``new``, when something in state ``old`` (as stored) may change to it; otherwise a
    ConflictError that says which change was refused."""
    kind = type(new)
    what = "booking" if kind is BookingStatus else "spot"
    try:
        current = kind(old)
    except ValueError:
        raise ConflictError(f"A {what} in the unknown state '{old}' cannot change.") from None
    if not current.can_become(new):
        article = "An" if current.word[0] in "aeiou" else "A"
        raise ConflictError(f"{article} {current.word} {what} cannot become {new.word}.")
    return new


class HasStatus(Protocol):
    status: str


def move_booking(booking: HasStatus, spot: HasStatus, new: BookingStatus) -> None:
    """Change a booking's state and its spot's to match. Refused (ConflictError, nothing
    changed) when the booking may not become ``new`` or its spot does not show it."""
    require_transition(booking.status, new)
    old = BookingStatus(booking.status)
    if spot.status != old.spot:
        raise ConflictError(f"The spot of a {old.word} booking should be {old.spot.word}, "
                            f"not {_spot_word(spot.status)}.")
    spot.status = require_transition(spot.status, new.spot)
    booking.status = new


def _spot_word(stored: str) -> str:
    try:
        return SpotStatus(stored).word
    except ValueError:
        return f"'{stored}'"


def start_booking(spot: HasStatus, new: BookingStatus) -> BookingStatus:
    """A new booking in state ``new`` takes ``spot``: the spot is marked to match and ``new``
    returned for the booking's row."""
    if new not in BOOKING_STARTS:
        raise ConflictError(f"A booking cannot start {new.word}.")
    if spot.status != SpotStatus.AVAILABLE:
        raise ConflictError("A new booking needs an available spot; this one is "
                            f"{_spot_word(spot.status)}.")
    spot.status = require_transition(spot.status, new.spot)
    return new
