"""Tariff versions in the database, for the services that price stays (parking, kiosk) and for
TariffService. Functions on the caller's session: they read and write in its transaction.

Nothing here imports the parking services (they import this), so the two packages stay
acyclic."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, Reservation, UserActivity
from parking_desktop.adapters.db.models_tariffs import TariffVersion as VersionRow
from parking_desktop.domain.tariffs import (
    PricedStay,
    TariffVersion,
    flat_tariff,
    quote,
    tariff_to_json,
)
from parking_desktop.services.context import CURRENCY_KEY, OPERATOR_KEY
from parking_desktop.services.tariffs.parsing import parse as parse
from parking_desktop.services.views import FeeLine

HOURS_SHOWN = Decimal("0.0001")
Priced = tuple[int | None, TariffVersion]  # a version and its row id (None: not stored)


def in_force_query(lot_id: int, at: datetime) -> Any:
    """The version of a lot in force at ``at``: the latest effective_from at or before it (of
    two saved for the same moment, the later one)."""
    return (
        select(VersionRow)
        .where(VersionRow.lot_id == lot_id, VersionRow.effective_from <= at)
        .order_by(VersionRow.effective_from.desc(), VersionRow.id.desc())
        .limit(1)
    )


def in_force(session: Session, lot: ParkingLot, at: datetime) -> Priced:
    """The lot's version in force at ``at`` (before its first version: the first). A lot
    without any (made by a bulk loader) is priced by today's flat rule at its price, not
    stored (id None)."""
    row = session.scalar(in_force_query(lot.id, at))
    if row is None:  # before the lot's first version (a quote for a past date): that one
        row = session.scalar(
            select(VersionRow)
            .where(VersionRow.lot_id == lot.id)
            .order_by(VersionRow.effective_from, VersionRow.id)
            .limit(1)
        )
    if row is None:
        return None, flat_tariff(lot.price_per_hour, currency=site_currency(session))
    return row.id, parse(row.document)


def site_currency(session: Session) -> str:
    """The site's currency, as the service context put it in the session."""
    return str(session.info.get(CURRENCY_KEY, "EUR"))


def ensure_in_force(session: Session, lot: ParkingLot, at: datetime) -> tuple[int, TariffVersion]:
    """As ``in_force``, but a lot without a stored version gets its flat one now (in force
    since always), so every new booking records a version id."""
    version_id, version = in_force(session, lot, at)
    if version_id is None:
        version_id = insert_version(session, lot.id, version, None, at)
    return version_id, version


def insert_version(
    session: Session, lot_id: int, version: TariffVersion, created_by: int | None, at: datetime
) -> int:
    row = VersionRow(
        lot_id=lot_id,
        effective_from=version.effective_from,
        document=tariff_to_json(version),
        currency=version.currency,
        created_by=created_by,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row.id


def record_change(
    session: Session,
    user_id: int | None,
    lot: ParkingLot,
    before: Priced | None,
    after: Priced,
    at: datetime,
) -> None:
    """The audit entry of a tariff change ("tariff_changed"): the version in force before
    (None for a new lot) and the new one, each as its JSON form with its id. Written here
    rather than through parking.activity.record, which would make the parking and tariffs
    packages import each other; the rule is the same (a system change names its operator)."""
    data: dict[str, Any] = {
        "lot_id": lot.id,
        "lot": lot.name,
        "version_id": after[0],
        "effective_from": after[1].effective_from.isoformat(),
        "before": None
        if before is None
        else {"version_id": before[0], **tariff_to_json(before[1])},
        "after": {"version_id": after[0], **tariff_to_json(after[1])},
    }
    operator = session.info.get(OPERATOR_KEY)
    if user_id is None and operator:
        data["actor"] = operator
    session.add(
        UserActivity(
            user_id=user_id, activity_type="tariff_changed", activity_data=data, timestamp=at
        )
    )


def versions_by_id(session: Session, ids: Iterable[int]) -> dict[int, TariffVersion]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(VersionRow.id, VersionRow.document).where(VersionRow.id.in_(wanted))
    ).all()
    return {version_id: parse(document) for version_id, document in rows}


def stay_version(r: Reservation, known: dict[int, TariffVersion], currency: str = "EUR") -> Priced:
    """The version a reservation is priced by: the one it recorded, or for a stay from before
    tariffs, today's flat rule at the price it recorded (exactly the fee it always had), in
    the site's ``currency``."""
    if r.tariff_version_id is not None and r.tariff_version_id in known:
        return r.tariff_version_id, known[r.tariff_version_id]
    return None, flat_tariff(r.price_per_hour, currency=currency)


def version_of(session: Session, r: Reservation) -> Priced:
    ids = [] if r.tariff_version_id is None else [r.tariff_version_id]
    return stay_version(r, versions_by_id(session, ids), site_currency(session))


def price(
    version: TariffVersion, arrived_at: datetime, left_at: datetime, tz: tzinfo
) -> PricedStay:
    return quote(version, arrived_at, left_at, tz)


def fee_lines(priced: PricedStay) -> tuple[FeeLine, ...]:
    return tuple(FeeLine(line.label, line.amount) for line in priced.lines)


def billed_hours(priced: PricedStay) -> Decimal:
    """The billed time in hours to 4 places, as receipts always showed it (the flat rule's
    hours are exactly compute_fee's)."""
    hours = Decimal(priced.billed // timedelta(microseconds=1)) / Decimal(3_600_000_000)
    return hours.quantize(HOURS_SHOWN, rounding=ROUND_HALF_UP)
