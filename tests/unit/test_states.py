"""Booking and spot states: the stored values, and every allowed and refused change."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pytest

from parking_desktop.adapters.db.models import OPEN_RESERVATION, ParkingSpot, Reservation
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.states import (
    OPEN_BOOKINGS,
    BookingStatus,
    SpotStatus,
    move_booking,
    require_transition,
    start_booking,
)

B, S = BookingStatus, SpotStatus

# The rules written out pair by pair; every pair not listed must be refused.
BOOKING_ALLOWED = {
    (B.RESERVED, B.ACTIVE),  # the driver parks
    (B.RESERVED, B.CANCELLED),  # cancelled before parking (or force-released)
    (B.ACTIVE, B.COMPLETED),  # the car leaves
}
SPOT_ALLOWED = {
    (S.AVAILABLE, S.RESERVED),  # booked
    (S.AVAILABLE, S.OCCUPIED),  # checked in at the gate
    (S.RESERVED, S.OCCUPIED),  # parked
    (S.RESERVED, S.AVAILABLE),  # booking cancelled
    (S.OCCUPIED, S.AVAILABLE),  # released
}


@dataclass
class Row:
    status: str


def test_values_are_the_stored_text() -> None:
    assert [s.value for s in BookingStatus] == ["reserved", "active", "completed", "cancelled"]
    assert [s.value for s in SpotStatus] == ["A", "R", "O"]
    assert BookingStatus.ACTIVE == "active" and f"{SpotStatus.OCCUPIED}" == "O"


def test_the_database_checks_allow_exactly_these_values() -> None:
    checks = {
        table.name: [c.sqltext.text for c in table.constraints
                     if getattr(c, "name", "") and str(c.name).endswith("status")]
        for table in (Reservation.__table__, ParkingSpot.__table__)
    }
    assert checks == {
        "reservations": ["status IN ('reserved', 'active', 'completed', 'cancelled')"],
        "parking_spots": ["status IN ('A', 'R', 'O')"],
    }
    # The open-booking indexes spell the open states out; they must name the same ones.
    named = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_BOOKINGS) + ")"
    assert named == OPEN_RESERVATION


@pytest.mark.parametrize(("old", "new"), list(product(BookingStatus, BookingStatus)))
def test_every_booking_transition(old: BookingStatus, new: BookingStatus) -> None:
    allowed = (old, new) in BOOKING_ALLOWED
    assert old.can_become(new) is allowed
    if allowed:
        assert require_transition(old.value, new) is new
    else:
        with pytest.raises(ConflictError, match=f"booking cannot become {new.word}"):
            require_transition(old.value, new)


@pytest.mark.parametrize(("old", "new"), list(product(SpotStatus, SpotStatus)))
def test_every_spot_transition(old: SpotStatus, new: SpotStatus) -> None:
    allowed = (old, new) in SPOT_ALLOWED
    assert old.can_become(new) is allowed
    if allowed:
        assert require_transition(old.value, new) is new
    else:
        with pytest.raises(ConflictError, match=f"spot cannot become {new.word}"):
            require_transition(old.value, new)


def test_history_never_changes() -> None:
    for closed in (B.COMPLETED, B.CANCELLED):
        assert not closed.is_open
        assert not any(closed.can_become(s) for s in BookingStatus)
    assert [s for s in BookingStatus if s.is_open] == list(OPEN_BOOKINGS)


def test_the_refusal_is_a_sentence() -> None:
    with pytest.raises(ConflictError) as refused:
        require_transition("completed", B.ACTIVE)
    assert str(refused.value) == "A completed booking cannot become parked."
    with pytest.raises(ConflictError) as refused:
        require_transition("O", S.RESERVED)
    assert str(refused.value) == "An occupied spot cannot become reserved."
    with pytest.raises(ConflictError, match="unknown state 'X'"):
        require_transition("X", S.AVAILABLE)


@pytest.mark.parametrize(("new", "spot"), [(B.ACTIVE, "O"), (B.CANCELLED, "A")])
def test_a_reserved_booking_moves_with_its_spot(new: BookingStatus, spot: str) -> None:
    booking, place = Row("reserved"), Row("R")
    move_booking(booking, place, new)
    assert (booking.status, place.status) == (new, spot)


def test_a_parked_booking_completes_and_frees_its_spot() -> None:
    booking, place = Row("active"), Row("O")
    move_booking(booking, place, B.COMPLETED)
    assert (booking.status, place.status) == ("completed", "A")


@pytest.mark.parametrize(("booking", "spot", "new"), [
    ("completed", "A", B.CANCELLED),  # the booking refuses
    ("reserved", "A", B.ACTIVE),  # the spot disagrees with its booking: refused too
    ("active", "R", B.COMPLETED),
])
def test_a_refused_move_changes_neither(booking: str, spot: str, new: BookingStatus) -> None:
    rows = Row(booking), Row(spot)
    with pytest.raises(ConflictError):
        move_booking(*rows, new)
    assert (rows[0].status, rows[1].status) == (booking, spot)


@pytest.mark.parametrize(("new", "spot"), [(B.RESERVED, "R"), (B.ACTIVE, "O")])
def test_a_booking_starts_reserved_or_parked_on_a_free_spot(new: BookingStatus,
                                                            spot: str) -> None:
    place = Row("A")
    assert start_booking(place, new) is new
    assert place.status == spot


@pytest.mark.parametrize("new", [B.COMPLETED, B.CANCELLED])
def test_a_booking_cannot_start_closed(new: BookingStatus) -> None:
    place = Row("A")
    with pytest.raises(ConflictError, match=f"cannot start {new.word}"):
        start_booking(place, new)
    assert place.status == "A"


@pytest.mark.parametrize(("taken", "new"), list(product(["R", "O"], [B.RESERVED, B.ACTIVE])))
def test_a_booking_cannot_start_on_a_taken_spot(taken: str, new: BookingStatus) -> None:
    place = Row(taken)
    with pytest.raises(ConflictError, match="needs an available spot"):
        start_booking(place, new)
    assert place.status == taken


def test_a_spot_that_disagrees_with_its_booking_is_named() -> None:
    with pytest.raises(ConflictError) as refused:
        move_booking(Row("reserved"), Row("A"), B.ACTIVE)
    assert str(refused.value) == ("The spot of a reserved booking should be reserved, "
                                  "not available.")
