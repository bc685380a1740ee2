"""Search: reservations by vehicle, driver, lot, date range and status (paged)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation, User
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.sqlhelpers import Explain, contains
from parking_desktop.services.views import Page, ReservationView, ResultCount

STATUSES = tuple(BookingStatus)
SORTABLE = {
    "reserved_at": Reservation.reserved_at,
    "parked_at": Reservation.parked_at,
    "left_at": Reservation.left_at,
    "vehicle_number": Reservation.vehicle_number,
    "cost": Reservation.cost,
    "status": Reservation.status,
    "id": Reservation.id,
    "lot": ParkingLot.name,
    "spot": ParkingSpot.position,
    "driver": User.username,
}

NULLABLE_SORTS = frozenset({"parked_at", "left_at", "cost", "driver"})


@dataclass(frozen=True)
class ReservationFilter:
    vehicle: str = ""  # substring, normalised
    driver: str = ""  # username or e-mail substring
    user_id: int | None = None
    lot_id: int | None = None
    status: str | None = None
    since: datetime | None = None  # reserved_at >= since
    until: datetime | None = None  # reserved_at < until


def base_reservation_query() -> Any:
    return (
        select(Reservation, ParkingSpot.number, ParkingSpot.lot_id, ParkingLot.name,
               ParkingLot.address, User.username)
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .outerjoin(User, User.id == Reservation.user_id)
    )


def to_view(row: Any) -> ReservationView:
    r, number, lot_id, lot_name, address, username = row
    return ReservationView(
        id=r.id, spot_id=r.spot_id, spot_number=number, lot_id=lot_id, lot_name=lot_name,
        lot_address=address, user_id=r.user_id, username=username,
        vehicle_number=r.vehicle_number, status=BookingStatus(r.status), reserved_at=r.reserved_at,
        parked_at=r.parked_at, left_at=r.left_at, price_per_hour=r.price_per_hour, cost=r.cost,
        note=r.note,
    )


def recent_query(limit: int = 5, user_id: int | None = None) -> Any:
    query = base_reservation_query()
    if user_id is not None:
        query = query.where(Reservation.user_id == user_id)
    return query.order_by(Reservation.reserved_at.desc(), Reservation.id.desc()).limit(limit)


def recent_reservations(
    session: Session, limit: int = 5, user_id: int | None = None
) -> list[ReservationView]:
    return [to_view(row) for row in session.execute(recent_query(limit, user_id)).all()]


COUNT_CAP = 100_000  # beyond this, "more than 100,000" (or the planner's "about") is enough


@dataclass(frozen=True)
class SearchQuery:
    """The statements of one search, built from a filter (their plans are checked in
    tests/integration/test_query_plans.py)."""

    conditions: tuple[Any, ...]
    needs_spot: bool  # a condition on the spot (its lot)
    needs_user: bool  # a condition on the driver's account

    def page(self, sort: str, descending: bool, offset: int, limit: int) -> Any:
        column = SORTABLE[sort]
        ordered = column.desc() if descending else column.asc()
        if sort in NULLABLE_SORTS:
            # Empty values (not parked yet, no cost yet) last either way, on both databases
            # (SQLite puts NULL first when ascending, PostgreSQL last). Only where NULLs can
            # occur: NULLS LAST on a NOT NULL column stops PostgreSQL using its index (a full
            # sort of every reservation for each page).
            ordered = ordered.nulls_last()
        order = [ordered, Reservation.id.desc() if descending else Reservation.id.asc()]
        return (base_reservation_query().where(*self.conditions).order_by(*order)
                .offset(max(0, offset)).limit(limit))

    def matching(self) -> Any:
        """The matching reservations' ids, joined only to what a condition needs: every
        reservation has one spot in one lot, so those joins never change a count."""
        query = select(Reservation.id)
        if self.needs_spot:
            query = query.join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        if self.needs_user:
            query = query.join(User, User.id == Reservation.user_id)
        return query.where(*self.conditions)

    def count(self) -> Any:
        if not self.conditions:
            return select(func.count()).select_from(Reservation)
        return select(func.count()).select_from(self.matching().subquery())

    def capped_count(self, cap: int) -> Any:
        """Counts at most cap + 1 rows: the work stays small however many match."""
        return select(func.count()).select_from(self.matching().limit(cap + 1).subquery())


def search_query(actor: Actor, flt: ReservationFilter, since: datetime | None,
                 until: datetime | None) -> SearchQuery:
    """What a filter asks for, as SQL conditions. Drivers only ever see their own."""
    conditions: list[Any] = []
    user_id = flt.user_id
    if actor.role is Role.DRIVER:
        user_id = actor.user_id
    if user_id is not None:
        conditions.append(Reservation.user_id == user_id)
    plate = re.sub(r"[\s\-]", "", validation.search_text(flt.vehicle, "The vehicle number"))
    if plate:
        conditions.append(contains(Reservation.vehicle_number, plate))
    needle = validation.search_text(flt.driver, "The driver")
    needs_user = bool(needle) and actor.role is not Role.DRIVER
    if needs_user:
        conditions.append(contains(User.username, needle) | contains(User.email, needle))
    if flt.lot_id is not None:
        conditions.append(ParkingSpot.lot_id == flt.lot_id)
    if flt.status:
        conditions.append(Reservation.status == flt.status)
    if since is not None:
        conditions.append(Reservation.reserved_at >= since)
    if until is not None:
        conditions.append(Reservation.reserved_at < until)
    return SearchQuery(tuple(conditions), needs_spot=flt.lot_id is not None,
                       needs_user=needs_user)


class SearchService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def reservations(
        self,
        actor: Actor,
        flt: ReservationFilter,
        *,
        sort: str = "reserved_at",
        descending: bool = True,
        offset: int = 0,
        limit: int = 100,
        with_total: bool = True,
    ) -> Page[ReservationView]:
        """A page of reservations. Drivers only ever see their own. ``with_total`` counts
        them all, exactly (``count`` is the one for a screen: it stops early on a huge
        result)."""
        if sort not in SORTABLE:
            raise ValidationError(f"Cannot sort by '{sort}'.")
        query = self._query(actor, flt)
        limit = max(1, min(limit, 5000))
        with self.ctx.read() as session:
            total = -1
            if with_total:
                total = session.scalar(query.count()) or 0
            rows = session.execute(query.page(sort, descending, offset, limit)).all()
            return Page([to_view(r) for r in rows], total, offset, limit)

    def count(self, actor: Actor, flt: ReservationFilter, *,
              cap: int | None = None) -> ResultCount:
        """How many reservations match, without keeping a core busy on a huge result: exact up
        to ``cap`` (COUNT_CAP); beyond it PostgreSQL's estimate ("about"), else "more than
        ``cap``"."""
        cap = COUNT_CAP if cap is None else cap
        query = self._query(actor, flt)
        with self.ctx.read() as session:
            if not query.conditions and self.ctx.db.is_sqlite:
                # No filter: SQLite counts a whole table from its smallest index without
                # reading the rows (milliseconds at a million), so it can be exact.
                return ResultCount(int(session.scalar(query.count()) or 0))
            if not query.conditions:
                estimate = _estimated_rows(session, query.matching())
                if estimate > cap:
                    return ResultCount(estimate, "about")
            counted = int(session.scalar(query.capped_count(cap)) or 0)
            if counted <= cap:
                return ResultCount(counted)
            if not self.ctx.db.is_sqlite:
                estimate = _estimated_rows(session, query.matching())
                if estimate > cap:
                    return ResultCount(estimate, "about")
            return ResultCount(cap, "more_than")

    def _query(self, actor: Actor, flt: ReservationFilter) -> SearchQuery:
        if flt.status and flt.status not in STATUSES:
            raise ValidationError(f"Status '{flt.status}' is not one of {', '.join(STATUSES)}.")
        since, until = self.ctx.aware(flt.since), self.ctx.aware(flt.until)
        if since and until and since >= until:
            raise ValidationError("The start date must be before the end date.")
        return search_query(actor, flt, since, until)


def _estimated_rows(session: Session, query: Any) -> int:
    """PostgreSQL's planner estimate of how many rows ``query`` returns (from its statistics:
    no row is read)."""
    plan: Any = session.execute(Explain(query, "FORMAT JSON")).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
