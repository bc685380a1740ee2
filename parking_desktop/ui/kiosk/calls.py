"""Small compositions of service calls that one kiosk action needs. They run on the worker
pool (never on the GUI thread) and return plain values; no Qt here."""

from __future__ import annotations

from dataclasses import dataclass, field

from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import NotFoundError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.validation import normalise_vehicle
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.views import CheckoutQuote, LotView, ReservationView


@dataclass(frozen=True)
class Found:
    booking: ReservationView
    quote: CheckoutQuote | None  # the fee so far, when the car is parked


def find_vehicle(app: App, actor: Actor, vehicle: str) -> Found:
    booking = app.parking.find_open_by_vehicle(actor, vehicle)
    quote = app.parking.quote(actor, booking.id) if booking.status == "active" else None
    return Found(booking, quote)


@dataclass(frozen=True)
class Matches:
    """What a typed (part of a) plate found: one vehicle, or several to choose from."""

    found: Found | None
    choices: list[ReservationView] = field(default_factory=list)


def find_matches(app: App, actor: Actor, text: str) -> Matches:
    """Part of a plate is enough (like the desktop's search): one open booking whose plate
    contains it is shown at once; several are offered to choose from."""
    matches = app.parking.find_open_by_partial(actor, text)
    if not matches:
        plate = normalise_vehicle(text)
        raise NotFoundError(f"No vehicle checked in has {plate} in its number.")
    if len(matches) == 1 or matches[0].vehicle_number == normalise_vehicle(text):
        return Matches(find_vehicle(app, actor, matches[0].vehicle_number))
    return Matches(None, matches)


@dataclass(frozen=True)
class DriverState:
    booking: ReservationView | None
    quote: CheckoutQuote | None = None  # fee so far while parked
    lots: list[LotView] = field(default_factory=list)  # for booking, when nothing is open
    last_vehicle: str = ""  # suggested for the next booking


def driver_state(app: App, actor: Actor) -> DriverState:
    """What the driver's page shows: the open booking (and its fee so far), or the lots to book."""
    booking = app.parking.open_reservation(actor)
    if booking is not None:
        quote = app.parking.quote(actor, booking.id) if booking.status == "active" else None
        return DriverState(booking=booking, quote=quote)
    latest = app.search.reservations(actor, ReservationFilter(), limit=1, with_total=False)
    last_vehicle = latest.items[0].vehicle_number if latest.items else ""
    return DriverState(booking=None, lots=app.lots.search(), last_vehicle=last_vehicle)


@dataclass(frozen=True)
class HistoryRequest:
    job_id: str
    mail_delayed: bool  # the outbox is failing right now: the driver is told to expect a delay


def email_my_history(app: App, actor: Actor) -> HistoryRequest:
    job_id = app.exports.email_my_history(actor)
    return HistoryRequest(job_id, app.email.outbox.delivery_delayed())
