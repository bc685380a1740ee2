"""The picture a kiosk keeps of the server while online: active lots with their price and the
tariff version in force, their active spots, every open stay with the version it is priced by,
those versions (JSON form) and the site's time zone. Read in one session; the journal stores
it whole, so an offline check-out is priced as the server would have priced it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.domain.tariffs import tariff_to_json
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.parking.lots import ACTIVE_SPOT
from parking_desktop.services.parking.parking import IS_OPEN
from parking_desktop.services.tariffs import store as tariffs


@dataclass(frozen=True)
class Picture:
    taken_at: datetime  # before the first read: operations confirmed earlier are in it
    lots: list[tuple[Any, ...]]  # id, name, address, price_per_hour (text)
    spots: list[tuple[Any, ...]]  # id, lot_id, number, position, status
    # reservation id, vehicle, spot, lot, status, times, price, username, tariff version id
    stays: list[tuple[Any, ...]]
    # (version id, JSON text) of every version a lot or stay above names
    tariffs: list[tuple[int, str]] = field(default_factory=list)
    zone: str = "UTC"  # the site's time zone (bands are local time)
    currency: str = "EUR"  # the site's


def take_picture(ctx: ServiceContext) -> Picture:
    taken_at = ctx.clock.now()
    with ctx.read() as session:
        lots = []
        for lot in session.scalars(select(ParkingLot).where(ParkingLot.archived_at.is_(None))):
            # None: a lot without a stored version (bulk loaded), flat at its price.
            version_id, _ = tariffs.in_force(session, lot, taken_at)
            lots.append((lot.id, lot.name, lot.address, str(lot.price_per_hour), version_id))
        active = {row[0] for row in lots}
        spots = [
            (s.id, s.lot_id, s.number, s.position, s.status)
            for s in session.scalars(select(ParkingSpot).where(ACTIVE_SPOT))
            if s.lot_id in active
        ]
        stays = [
            (
                r.id,
                r.vehicle_number,
                r.spot_id,
                lot_id,
                r.status,
                r.reserved_at.isoformat(),
                r.parked_at.isoformat() if r.parked_at else None,
                str(r.price_per_hour),
                username,
                r.tariff_version_id,
            )
            for r, lot_id, username in session.execute(
                select(Reservation, ParkingSpot.lot_id, User.username)
                .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
                .outerjoin(User, User.id == Reservation.user_id)
                .where(IS_OPEN)
            )
        ]
        wanted = {row[4] for row in lots} | {row[9] for row in stays}
        versions = tariffs.versions_by_id(session, (i for i in wanted if i is not None))
    documents = [
        (version_id, json.dumps(tariff_to_json(version), sort_keys=True))
        for version_id, version in sorted(versions.items())
    ]
    return Picture(taken_at, lots, spots, stays, documents, ctx.tz.key, ctx.currency)
