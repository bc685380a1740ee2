"""Working offline: the attendant's check-in, check-out and find-vehicle answered from the
journal (``adapters/kiosk_journal.py``): the last picture of the server with this kiosk's own
operations laid over it, in order.

* Check-in takes the first spot of the lot this kiosk believes free; the spot is provisional
  until the replay confirms it (another kiosk may have given it away meanwhile).
* Check-out charges the fee of the tariff version the stay is priced by, as last synced (a
  stay checked in offline: the lot's version in force at the last sync), with the domain's
  engine and the site's time zone from the picture, at this kiosk's clock; the receipt has
  the lines, and the operation records the version id so the replay stores it.
* Every operation gets a uuid, the kiosk id and the next local sequence number."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from parking_desktop.adapters.kiosk_journal import JOURNAL_FILE, JournalFile
from parking_desktop.domain import validation
from parking_desktop.domain.clock import Clock
from parking_desktop.domain.errors import ConflictError, NotFoundError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.domain.tariffs import TariffVersion, flat_tariff, quote
from parking_desktop.services.guards import require_staff
from parking_desktop.services.kiosks.operations import Confirmation, Operation, OpKind
from parking_desktop.services.kiosks.picture import Picture
from parking_desktop.services.tariffs import store as tariffs
from parking_desktop.services.views import (
    CheckoutQuote,
    FoundVehicle,
    LotView,
    Receipt,
    ReservationView,
    VehicleMatches,
)

PROVISIONAL = "Provisional: checked in while offline; confirmed when the kiosk is back online."


@dataclass(frozen=True)
class Stay:
    """An open stay as this kiosk believes it."""

    vehicle: str
    lot_id: int
    spot_id: int
    spot_number: str
    status: BookingStatus
    reserved_at: datetime
    parked_at: datetime | None
    price_per_hour: Decimal
    reservation_id: int | None  # the server's, once known
    check_in_op: str | None  # checked in by this kiosk's journal
    local_seq: int | None
    username: str | None
    tariff_version_id: int | None = None  # None: a stay from before tariffs, priced flat


@dataclass(frozen=True)
class _Lot:
    id: int
    name: str
    address: str
    price_per_hour: Decimal
    tariff_version_id: int | None  # in force at the last sync; None: flat at the price


@dataclass
class _World:
    lots: dict[int, _Lot]
    spots: dict[int, tuple[int, str, int]]  # id -> (lot id, number, position)
    stays: dict[str, Stay]  # by plate
    versions: dict[int, TariffVersion]
    zone: ZoneInfo
    currency: str  # the site's: a flat version made here is in it, as on the server

    def version(
        self, version_id: int | None, price_per_hour: Decimal
    ) -> tuple[int | None, TariffVersion]:
        """The version a stay is priced by, with its id; a stay from before tariffs (or a
        picture taken before kiosks kept tariffs): today's flat rule at its price, id None,
        as the server does."""
        known = self.versions.get(version_id) if version_id is not None else None
        if known is None:
            return None, flat_tariff(price_per_hour, currency=self.currency)
        return version_id, known

    def free_spots(self, lot_id: int) -> list[tuple[int, str]]:
        taken = {stay.spot_id for stay in self.stays.values()}
        return [
            (spot_id, number)
            for spot_id, (lot, number, _position) in sorted(
                self.spots.items(), key=lambda item: item[1][2]
            )
            if lot == lot_id and spot_id not in taken
        ]


def _id(value: object) -> int | None:
    return None if value is None else int(str(value))


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class OfflineDesk:
    def __init__(self, data_dir: Path, kiosk_id: str, clock: Clock) -> None:
        self.file = JournalFile(data_dir / JOURNAL_FILE)
        self.kiosk_id = kiosk_id
        self.clock = clock
        self._lock = threading.Lock()  # read the world and append, as one step

    def close(self) -> None:
        self.file.close()

    # --- the journal's bookkeeping ------------------------------------------------------------
    def pending_count(self) -> int:
        return self.file.count("pending")

    def pending(self) -> list[Operation]:
        return [self._operation(row) for row in self.file.operations("pending")]

    def confirm(self, answer: Confirmation) -> None:
        self.file.confirm(
            answer.op_id,
            answer.outcome.value,
            answer.message,
            answer.reservation_id,
            self.clock.now().isoformat(),
        )

    def record_picture(self, picture: Picture) -> int:
        return self.file.replace_picture(
            picture.lots,
            picture.spots,
            picture.stays,
            picture.taken_at.isoformat(),
            picture.tariffs,
            {"zone": picture.zone, "currency": picture.currency},
        )

    def has_picture(self) -> bool:
        return self.file.meta("picture_at") is not None

    def last_sync(self) -> datetime | None:
        return _moment(self.file.meta("last_sync"))

    def note_sync(self, result: str) -> None:
        self.file.set_meta(last_sync=self.clock.now().isoformat(), last_sync_result=result)

    @staticmethod
    def _operation(row: tuple[Any, ...]) -> Operation:
        seq, op_id, kiosk_id, kind, payload, created_at = row[:6]
        return Operation(
            op_id=op_id,
            kiosk_id=kiosk_id,
            seq=int(seq),
            kind=OpKind(kind),
            payload=json.loads(payload),
            created_at=datetime.fromisoformat(created_at),
        )

    # --- what this kiosk believes --------------------------------------------------------------
    def _world(self) -> _World:
        lot_rows, spot_rows, stay_rows = self.file.picture()
        lots = {int(r[0]): _Lot(int(r[0]), r[1], r[2], Decimal(r[3]), _id(r[4])) for r in lot_rows}
        spots = {int(r[0]): (int(r[1]), str(r[2]), int(r[3])) for r in spot_rows}
        stays: dict[str, Stay] = {}
        for rid, plate, spot_id, lot_id, status, reserved, parked, price, user, tv in stay_rows:
            spot = spots.get(int(spot_id))
            stays[plate] = Stay(
                vehicle=plate,
                lot_id=int(lot_id),
                spot_id=int(spot_id),
                spot_number=spot[1] if spot else "?",
                status=BookingStatus(status),
                reserved_at=datetime.fromisoformat(reserved),
                parked_at=_moment(parked),
                price_per_hour=Decimal(price),
                reservation_id=int(rid),
                check_in_op=None,
                local_seq=None,
                username=user,
                tariff_version_id=_id(tv),
            )
        # This kiosk's own operations, confirmed ones too until a newer picture shows them.
        for (
            seq,
            op_id,
            _kiosk,
            kind,
            payload,
            _created,
            _state,
            reservation_id,
        ) in self.file.operations("pending", "confirmed"):
            p = json.loads(payload)
            if kind == OpKind.CHECK_OUT:
                stays.pop(p["vehicle"], None)
                continue
            at = datetime.fromisoformat(p["at"])
            stays[p["vehicle"]] = Stay(
                vehicle=p["vehicle"],
                lot_id=int(p["lot_id"]),
                spot_id=int(p["spot_id"]),
                spot_number=p["spot_number"],
                status=BookingStatus.ACTIVE,
                reserved_at=at,
                parked_at=at,
                price_per_hour=Decimal(p["price_per_hour"]),
                reservation_id=reservation_id,
                check_in_op=op_id,
                local_seq=int(seq),
                username=p.get("driver") or None,
                tariff_version_id=_id(p.get("tariff_version_id")),
            )
        versions = {
            version_id: tariffs.parse(json.loads(document))
            for version_id, document in self.file.tariffs().items()
        }
        zone = ZoneInfo(self.file.meta("zone") or "UTC")
        return _World(lots, spots, stays, versions, zone, self.file.meta("currency") or "EUR")

    def _view(self, world: _World, stay: Stay) -> ReservationView:
        lot = world.lots.get(stay.lot_id)
        return ReservationView(
            id=stay.reservation_id or -(stay.local_seq or 0),
            spot_id=stay.spot_id,
            spot_number=stay.spot_number,
            lot_id=stay.lot_id,
            lot_name=lot.name if lot else "?",
            lot_address=lot.address if lot else "",
            user_id=None,
            username=stay.username,
            vehicle_number=stay.vehicle,
            status=stay.status,
            reserved_at=stay.reserved_at,
            parked_at=stay.parked_at,
            left_at=None,
            price_per_hour=stay.price_per_hour,
            cost=None,
            note=PROVISIONAL if stay.check_in_op else None,
        )

    def lots(self) -> list[LotView]:
        """The lots with free spots as this kiosk believes them."""
        world = self._world()
        views = []
        taken_at = _moment(self.file.meta("picture_at")) or self.clock.now()
        for lot in world.lots.values():
            spots = sum(1 for s in world.spots.values() if s[0] == lot.id)
            stays = [s for s in world.stays.values() if s.lot_id == lot.id]
            reserved = sum(1 for s in stays if s.status is BookingStatus.RESERVED)
            occupied = len(stays) - reserved
            views.append(
                LotView(
                    id=lot.id,
                    name=lot.name,
                    address=lot.address,
                    pin_code="",
                    price_per_hour=lot.price_per_hour,
                    number_of_spots=spots,
                    available=len(world.free_spots(lot.id)),
                    reserved=reserved,
                    occupied=occupied,
                    created_at=taken_at,
                )
            )
        return sorted(views, key=lambda v: v.name.lower())

    # --- the attendant's operations ------------------------------------------------------------
    def check_in(
        self, actor: Actor, lot_id: int, vehicle: str, driver: str = ""
    ) -> ReservationView:
        require_staff(actor, "check vehicles in")
        plate = validation.normalise_vehicle(vehicle)
        with self._lock:
            world = self._world()
            lot = world.lots.get(lot_id)
            if lot is None:
                raise NotFoundError(f"There is no active parking lot with id {lot_id}.")
            if plate in world.stays:
                there = world.stays[plate]
                where = world.lots.get(there.lot_id)
                raise ConflictError(
                    f"Vehicle {plate} already has an open booking: parked in "
                    f"{where.name if where else '?'}, spot {there.spot_number}."
                )
            free = world.free_spots(lot_id)
            if not free:
                raise ConflictError(f"Lot '{lot.name}' is full: no spot is available.")
            spot_id, number = free[0]
            at = self.clock.now()
            payload = {
                "lot_id": lot_id,
                "lot_name": lot.name,
                "vehicle": plate,
                "spot_id": spot_id,
                "spot_number": number,
                "driver": driver.strip(),
                "price_per_hour": str(lot.price_per_hour),
                "tariff_version_id": lot.tariff_version_id,
                "at": at.isoformat(),
                "actor_id": actor.user_id,
                "actor": actor.username,
            }
            seq, op_id = self.file.append(
                self.kiosk_id, OpKind.CHECK_IN.value, json.dumps(payload), at.isoformat()
            )
        stay = Stay(
            plate,
            lot_id,
            spot_id,
            number,
            BookingStatus.ACTIVE,
            at,
            at,
            lot.price_per_hour,
            None,
            op_id,
            seq,
            driver.strip() or None,
            lot.tariff_version_id,
        )
        return self._view(world, stay)

    def _stay(self, world: _World, vehicle: str) -> Stay:
        plate = validation.normalise_vehicle(vehicle)
        stay = world.stays.get(plate)
        if stay is None:
            raise NotFoundError(f"Vehicle {plate} is not checked in anywhere.")
        return stay

    def quote_vehicle(self, actor: Actor, vehicle: str) -> CheckoutQuote:
        require_staff(actor, "check vehicles out")
        world = self._world()
        stay = self._stay(world, vehicle)
        return self._quote(world, stay, self.clock.now())

    def _quote(self, world: _World, stay: Stay, now: datetime) -> CheckoutQuote:
        if stay.status is not BookingStatus.ACTIVE or stay.parked_at is None:
            raise ConflictError(f"Vehicle {stay.vehicle} is not parked.")
        version_id, version = world.version(stay.tariff_version_id, stay.price_per_hour)
        priced = quote(version, stay.parked_at, now, world.zone)
        lot = world.lots.get(stay.lot_id)
        return CheckoutQuote(
            reservation_id=stay.reservation_id or -(stay.local_seq or 0),
            vehicle_number=stay.vehicle,
            lot_name=lot.name if lot else "?",
            spot_number=stay.spot_number,
            parked_at=stay.parked_at,
            until=now,
            hours=tariffs.billed_hours(priced),
            price_per_hour=stay.price_per_hour,
            cost=priced.total,
            lines=tariffs.fee_lines(priced),
            currency=priced.currency,
            tariff_version_id=version_id,
        )

    def check_out(self, actor: Actor, vehicle: str) -> Receipt:
        require_staff(actor, "check vehicles out")
        with self._lock:
            world = self._world()
            stay = self._stay(world, vehicle)
            at = self.clock.now()
            quote = self._quote(world, stay, at)
            payload = {
                "vehicle": stay.vehicle,
                "reservation_id": stay.reservation_id,
                "check_in_op": stay.check_in_op,
                "parked_at": quote.parked_at.isoformat(),
                "at": at.isoformat(),
                "hours": str(quote.hours),
                "cost": str(quote.cost),
                "price_per_hour": str(quote.price_per_hour),
                "tariff_version_id": quote.tariff_version_id,
                "currency": quote.currency,
                "lines": [[line.text, str(line.amount)] for line in quote.lines],
                "lot_name": quote.lot_name,
                "spot_number": quote.spot_number,
                "actor_id": actor.user_id,
                "actor": actor.username,
                "role": actor.role.value,
            }
            self.file.append(
                self.kiosk_id, OpKind.CHECK_OUT.value, json.dumps(payload), at.isoformat()
            )
        return Receipt(
            reservation_id=quote.reservation_id,
            vehicle_number=quote.vehicle_number,
            lot_name=quote.lot_name,
            spot_number=quote.spot_number,
            parked_at=quote.parked_at,
            left_at=at,
            hours=quote.hours,
            price_per_hour=quote.price_per_hour,
            cost=quote.cost,
            lines=quote.lines,
            currency=quote.currency,
            tariff_version_id=quote.tariff_version_id,
        )

    def find(self, actor: Actor, text: str) -> VehicleMatches:
        """Like the online look-up: part of a plate is enough."""
        require_staff(actor, "look up vehicles")
        needle = validation.normalise_vehicle(text)
        world = self._world()
        matches = sorted(
            (s for s in world.stays.values() if needle in s.vehicle),
            key=lambda s: (s.vehicle != needle, s.vehicle),
        )[:20]
        if not matches:
            raise NotFoundError(f"No vehicle checked in has {needle} in its number.")
        if len(matches) == 1 or matches[0].vehicle == needle:
            return VehicleMatches(self._found(world, matches[0]))
        return VehicleMatches(None, [self._view(world, s) for s in matches])

    def find_vehicle(self, actor: Actor, vehicle: str) -> FoundVehicle:
        require_staff(actor, "look up vehicles")
        world = self._world()
        return self._found(world, self._stay(world, vehicle))

    def _found(self, world: _World, stay: Stay) -> FoundVehicle:
        quote = (
            self._quote(world, stay, self.clock.now())
            if stay.status is BookingStatus.ACTIVE and stay.parked_at is not None
            else None
        )
        return FoundVehicle(self._view(world, stay), quote)
