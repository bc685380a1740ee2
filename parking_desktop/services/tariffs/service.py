"""TariffService: a lot's tariff versions, quotes, saving a new version, what-if repricing.

Versions are never edited (docs/tariffs.md): ``save`` inserts a new one, in force from its
``effective_from``; a reservation records the version in force when it was booked and again
when the car parked, and is charged by it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, Reservation, User
from parking_desktop.adapters.db.models_tariffs import TariffVersion as VersionRow
from parking_desktop.domain.errors import NotFoundError, ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.tariffs import (
    PricedStay,
    TariffError,
    TariffVersion,
    check_site_currency,
    pricer,
)
from parking_desktop.domain.tariffs.model import SINCE_ALWAYS
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager, require_self_or_staff
from parking_desktop.services.tariffs import simulation, store
from parking_desktop.services.tariffs.simulation import Cancelled, Progress, SimulationResult

MAX_DAYS = 3660  # ten years of history is the most a what-if looks at
# A saved version may change the lot's price shown in lists.
TOPICS = ("lots", "activity")


@dataclass(frozen=True)
class StoredVersion:
    id: int
    effective_from: datetime
    version: TariffVersion
    created_by: str | None  # the username; None for the system (migration, first booking)
    created_at: datetime
    used: bool  # a reservation recorded it: it can never change


class TariffService:
    # What-if repricing: worker processes from this many stays on (starting them costs about
    # a second; below this one process is as quick). Tests set parallel_from to 0.
    parallel_from = 200_000
    # How many processes price; None: by database. SQLite: 2 (the pricing is all in our
    # process; 13.6 s against 18.0 s for a million under load 8). PostgreSQL: 1 (its server
    # process already works on the other core; measured 11.4 s alone against 15.0 s with 2).
    procs: int | None = None

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @property
    def currency(self) -> str:
        """The site's currency: every version is in it (a form makes drafts in it)."""
        return self.ctx.currency

    # --- reading ----------------------------------------------------------------------------
    def current(self, lot_id: int) -> TariffVersion:
        """The version in force now (today's flat rule at the lot's price if it has none)."""
        with self.ctx.read() as session:
            return store.in_force(session, _lot(session, lot_id), self.ctx.clock.now())[1]

    def versions(self, lot_id: int) -> list[StoredVersion]:
        """Every stored version of a lot, oldest first (by effective_from, then as saved)."""
        with self.ctx.read() as session:
            _lot(session, lot_id)
            rows = session.execute(
                select(VersionRow, User.username)
                .outerjoin(User, User.id == VersionRow.created_by)
                .where(VersionRow.lot_id == lot_id)
                .order_by(VersionRow.effective_from, VersionRow.id)
            ).all()
            used = _used(session, [row.id for row, _ in rows])
            return [
                StoredVersion(
                    id=row.id,
                    effective_from=row.effective_from,
                    version=store.parse(row.document),
                    created_by=name,
                    created_at=row.created_at,
                    used=row.id in used,
                )
                for row, name in rows
            ]

    def quote(self, lot_id: int, arrived_at: datetime, left_at: datetime) -> PricedStay:
        """What a stay from ``arrived_at`` to ``left_at`` costs at the lot, priced by the
        version in force at the arrival (naive times are the site's local time)."""
        arrived, left = self.ctx.aware(arrived_at), self.ctx.aware(left_at)
        assert arrived is not None and left is not None
        if left < arrived:
            raise ValidationError("The end of the stay is before its start.")
        with self.ctx.read() as session:
            version = store.in_force(session, _lot(session, lot_id), arrived)[1]
        return store.price(version, arrived, left, self.ctx.tz)

    def completed_stay(self, actor: Actor, reservation_id: int) -> PricedStay | None:
        """A completed stay priced again by the version it recorded (a stay from before
        tariffs: the flat rule at its own price), with its lines; None while it is open."""
        with self.ctx.read() as session:
            r = session.get(Reservation, reservation_id)
            if r is None:
                raise NotFoundError("No such reservation.")
            require_self_or_staff(actor, r.user_id, "see how a fee was made")
            if r.parked_at is None or r.left_at is None:
                return None
            version = store.version_of(session, r)[1]
            arrived, left = r.parked_at, r.left_at
        return store.price(version, arrived, left, self.ctx.tz)

    # --- changing ---------------------------------------------------------------------------
    def save(self, lot_id: int, version: TariffVersion, actor: Actor) -> int:
        """Store ``version`` as the lot's tariff from its effective_from (1970-01-01, the
        JSON form's "no date given", means now). Managers only. Refused (TariffError on
        ``effective_from``) when the date is in the past and the version in force has
        already priced a stay, or before the version in force began (it would never apply),
        and (TariffError on ``currency``) when it is not in the site's currency.
        Returns the new version's id."""
        require_manager(actor, "change tariffs")
        check_site_currency(version, self.ctx.currency)
        now = self.ctx.clock.now()
        if version.effective_from == SINCE_ALWAYS:
            version = dataclasses.replace(version, effective_from=now)
        with self.ctx.write(*TOPICS) as session:
            # Locked: a booking (which reads the lot row with a shared lock) cannot start using
            # the current version between our check and our insert.
            lot = session.scalar(
                select(ParkingLot).where(ParkingLot.id == lot_id).with_for_update()
            )
            if lot is None or lot.archived_at is not None:
                raise NotFoundError(f"There is no active parking lot with id {lot_id}.")
            before = store.in_force(session, lot, now)
            _check_effective_from(session, version, before, now, self.ctx)
            version_id = store.insert_version(session, lot.id, version, actor.user_id, now)
            if version.effective_from <= now and version.base_rate > 0:
                # The lot's price (lists, `lots`) is the base rate of its tariff in force.
                lot.price_per_hour = version.base_rate
            store.record_change(session, actor.user_id, lot, before, (version_id, version), now)
            return version_id

    # --- what-if ----------------------------------------------------------------------------
    def simulate(
        self,
        lot_id: int | None,
        draft: TariffVersion,
        days: int,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> SimulationResult:
        """The completed stays that left in the last ``days`` days (of one lot, or of every
        lot when ``lot_id`` is None), charged as they were against ``draft``. ``progress``
        gets (done, total) after each batch; when ``cancelled()`` becomes true, raises
        ``SimulationCancelled``."""
        if not 1 <= days <= MAX_DAYS:
            raise ValidationError(f"The number of days must be 1 to {MAX_DAYS}, not {days}.")
        check_site_currency(draft, self.ctx.currency)  # revenue now is in the site's
        until = self.ctx.clock.now()
        since = until - timedelta(days=days)
        with self.ctx.read() as session:
            lot_query = select(ParkingLot.id, ParkingLot.name)
            if lot_id is not None:
                _lot(session, lot_id)
                lot_query = lot_query.where(ParkingLot.id == lot_id)
            return simulation.run(
                session,
                is_sqlite=self.ctx.db.is_sqlite,
                lots={i: name for i, name in session.execute(lot_query).all()},
                draft=pricer(draft, self.ctx.tz),
                since=since,
                until=until,
                days=days,
                progress=progress,
                cancelled=cancelled,
                url=self.ctx.db.url,
                procs=self.procs or (2 if self.ctx.db.is_sqlite else 1),
                parallel_from=self.parallel_from,
            )


def _lot(session: Session, lot_id: int) -> ParkingLot:
    lot = session.get(ParkingLot, lot_id)
    if lot is None:
        raise NotFoundError(f"There is no parking lot with id {lot_id}.")
    return lot


def _used(session: Session, version_ids: list[int]) -> set[int]:
    if not version_ids:
        return set()
    return set(
        session.scalars(
            select(distinct(Reservation.tariff_version_id)).where(
                Reservation.tariff_version_id.in_(version_ids)
            )
        )
    )


def _check_effective_from(
    session: Session,
    version: TariffVersion,
    before: store.Priced,
    now: datetime,
    ctx: ServiceContext,
) -> None:
    when = version.effective_from.astimezone(ctx.tz)
    current_id, current = before
    if current_id is None:
        return
    if version.effective_from < current.effective_from:
        began = current.effective_from.astimezone(ctx.tz)
        raise TariffError(
            "effective_from",
            f"{when:%Y-%m-%d %H:%M} is before the version in force began "
            f"({began:%Y-%m-%d %H:%M}); it would never apply",
        )
    if version.effective_from < now and current_id in _used(session, [current_id]):
        raise TariffError(
            "effective_from",
            f"{when:%Y-%m-%d %H:%M} is in the past and the version in force has already "
            "priced stays; a new version can start now or later",
        )
