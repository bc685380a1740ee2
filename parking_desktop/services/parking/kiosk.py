"""The kiosk's look-ups: each takes what the user typed (or just who is signed in) and answers
with everything the page shows, so a page makes one call and decides nothing itself."""

from __future__ import annotations

from parking_desktop.domain.errors import NotFoundError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.domain.validation import normalise_vehicle
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.parking.search import ReservationFilter, SearchService
from parking_desktop.services.views import (
    CheckoutQuote,
    DriverState,
    FoundVehicle,
    ReservationView,
    VehicleMatches,
)


class KioskService:
    """Built on the (cached) parking, lot and search services; the role checks are theirs."""

    def __init__(self, parking: ParkingService, lots: LotService,
                 search: SearchService) -> None:
        self.parking = parking
        self.lots = lots
        self.search = search

    def find(self, actor: Actor, text: str) -> VehicleMatches:
        """Part of a plate is enough (like the desktop's search): the one open booking whose
        plate contains it, or the exact plate, is shown at once; several are offered to
        choose from. None: a NotFoundError that names the plate."""
        matches = self.parking.find_open_by_partial(actor, text)
        plate = normalise_vehicle(text)
        if not matches:
            raise NotFoundError(f"No vehicle checked in has {plate} in its number.")
        if len(matches) == 1 or matches[0].vehicle_number == plate:
            return VehicleMatches(self.find_vehicle(actor, matches[0].vehicle_number))
        return VehicleMatches(None, matches)

    def find_vehicle(self, actor: Actor, vehicle: str) -> FoundVehicle:
        """One vehicle's open booking (a choice among matches), with the fee so far."""
        booking = self.parking.find_open_by_vehicle(actor, vehicle)
        return FoundVehicle(booking, self._fee_so_far(actor, booking))

    def driver_state(self, actor: Actor) -> DriverState:
        """The driver's open booking (and its fee so far), or the lots to book from."""
        booking = self.parking.open_reservation(actor)
        if booking is not None:
            return DriverState(booking=booking, quote=self._fee_so_far(actor, booking))
        latest = self.search.reservations(actor, ReservationFilter(), limit=1,
                                          with_total=False)
        last_vehicle = latest.items[0].vehicle_number if latest.items else ""
        return DriverState(booking=None, lots=self.lots.search(), last_vehicle=last_vehicle)

    def _fee_so_far(self, actor: Actor, booking: ReservationView) -> CheckoutQuote | None:
        if booking.status != BookingStatus.ACTIVE:
            return None
        return self.parking.quote(actor, booking.id)
