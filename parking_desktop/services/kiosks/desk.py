"""What the kiosk's attendant pages call: the server while it is reachable, the journal while
it is not, and the journal too while it still holds operations not yet sent (so that a car
checked in offline can be checked out, in order, before the replay has caught up).

A call that fails for want of the database tells the connection monitor and is done offline
instead (if the server did commit it before the line went, the replay meets it as a conflict
and keeps the server's version). Driver self-service needs the central allocation: refused
offline with a plain message.

Signing in offline: staff who signed in at this kiosk since it started may sign in again (an
idle sign-out must not end the lane during an outage). What is kept for that is an argon2 hash
of the password they typed, in memory only, never on disk; anyone else waits for the database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from parking_desktop.adapters.kiosk_journal import JournalError
from parking_desktop.domain.errors import AuthenticationError, DomainError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.accounts.users import UserService
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.kiosks.journal import OfflineDesk
from parking_desktop.services.kiosks.monitor import ConnectionMonitor, is_connection_error
from parking_desktop.services.kiosks.picture import take_picture
from parking_desktop.services.kiosks.replay import ReplayService
from parking_desktop.services.kiosks.syncing import KioskSync
from parking_desktop.services.money.service import MoneyService
from parking_desktop.services.money.views import PaymentRequest
from parking_desktop.services.parking.kiosk import KioskService
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.views import (
    CheckoutQuote,
    DriverState,
    FoundVehicle,
    LotView,
    Receipt,
    ReservationView,
    UserView,
    VehicleMatches,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

SIGN_IN_OFFLINE = (
    "This kiosk cannot reach the central system: only staff who signed in here since it "
    "started can sign in now, with the same password."
)
DRIVER_OFFLINE = (
    "Booking is not possible right now: this kiosk cannot reach the central system. "
    "Please ask the attendant to check you in."
)


class KioskDesk:
    def __init__(
        self,
        parking: ParkingService,
        lots: LotService,
        kiosk: KioskService,
        offline: OfflineDesk | None = None,
        link: ConnectionMonitor | None = None,
        *,
        users: UserService | None = None,
        money: MoneyService | None = None,
    ) -> None:
        self.parking = parking
        self.money = money
        self.lots_service = lots
        self.kiosk = kiosk
        self.offline = offline
        self.link = link
        self.users = users
        # Staff who signed in here since the start: login -> (hash, actor, user). Memory only.
        self._staff: dict[str, tuple[str, Actor, UserView]] = {}
        self._staff_lock = threading.Lock()

    @property
    def working_offline(self) -> bool:
        """Answers come from the journal (the banner says so)."""
        if self.offline is None:
            return False
        if self.link is not None and not self.link.online:
            return True
        return self.offline.pending_count() > 0

    def _either(self, online: Callable[[], T], offline: Callable[[OfflineDesk], T]) -> T:
        if self.offline is None:
            return online()
        if self.working_offline and self.offline.has_picture():
            return offline(self.offline)
        try:
            return online()
        except DomainError as exc:
            if not is_connection_error(exc) or not self.offline.has_picture():
                raise
            if self.link is not None:
                self.link.report_failure(exc)
            return offline(self.offline)

    # --- signing in -------------------------------------------------------------------------
    def authenticate(self, login: str, password: str) -> tuple[Actor, UserView]:
        if self.users is None:
            raise RuntimeError("this desk was built without the user service")
        if self.offline is not None and self.link is not None and not self.link.online:
            return self._sign_in_offline(login, password)
        try:
            actor, user = self.users.authenticate(login, password)
        except DomainError as exc:
            if self.offline is None or not is_connection_error(exc):
                raise
            if self.link is not None:
                self.link.report_failure(exc)
            return self._sign_in_offline(login, password)
        if actor.is_staff and self.offline is not None:
            kept = (self.users.hasher.hash(password), actor, user)
            with self._staff_lock:
                for key in {login.strip().lower(), user.username.lower()}:
                    self._staff[key] = kept
        return actor, user

    def _sign_in_offline(self, login: str, password: str) -> tuple[Actor, UserView]:
        assert self.users is not None
        with self._staff_lock:
            known = self._staff.get(login.strip().lower())
        if known is None or not self.users.hasher.verify(known[0], password):
            raise AuthenticationError(SIGN_IN_OFFLINE)
        return known[1], known[2]

    # --- the attendant ----------------------------------------------------------------------
    def lots(self) -> list[LotView]:
        return self._either(self.lots_service.search, lambda d: d.lots())

    def check_in(
        self, actor: Actor, lot_id: int, vehicle: str, driver: str = ""
    ) -> ReservationView:
        return self._either(
            lambda: self.parking.check_in(actor, lot_id, vehicle, driver=driver),
            lambda d: d.check_in(actor, lot_id, vehicle, driver),
        )

    def quote_vehicle(self, actor: Actor, vehicle: str) -> CheckoutQuote:
        return self._either(
            lambda: self.parking.quote_vehicle(actor, vehicle),
            lambda d: d.quote_vehicle(actor, vehicle),
        )

    def check_out(
        self, actor: Actor, vehicle: str, payment: PaymentRequest | None = None
    ) -> Receipt:
        """Online, ``payment`` (how the driver paid) is recorded in the attendant's shift.
        Offline the journal cannot take it (shifts live on the server): the replay records the
        money services' default payment, flagged when outside a shift (the receipt then has
        no ``payment``, and the kiosk says so)."""

        def online() -> Receipt:
            if payment is not None and self.money is not None:
                return self.money.check_out(actor, vehicle, payment)
            return self.parking.check_out(actor, vehicle)

        return self._either(online, lambda d: d.check_out(actor, vehicle))

    def find(self, actor: Actor, text: str) -> VehicleMatches:
        return self._either(lambda: self.kiosk.find(actor, text), lambda d: d.find(actor, text))

    def find_vehicle(self, actor: Actor, vehicle: str) -> FoundVehicle:
        return self._either(
            lambda: self.kiosk.find_vehicle(actor, vehicle),
            lambda d: d.find_vehicle(actor, vehicle),
        )

    # --- drivers: online only -----------------------------------------------------------------
    def _driver_online(self) -> None:
        if self.offline is not None and self.link is not None and not self.link.online:
            raise DomainError(DRIVER_OFFLINE)

    def driver_state(self, actor: Actor) -> DriverState:
        self._driver_online()
        return self.kiosk.driver_state(actor)

    def reserve(self, actor: Actor, lot_id: int, vehicle: str) -> ReservationView:
        self._driver_online()
        try:
            return self.parking.reserve(actor, lot_id, vehicle)
        except DomainError as exc:
            if self.link is not None and is_connection_error(exc):
                self.link.report_failure(exc)
                raise DomainError(DRIVER_OFFLINE) from None
            raise


def build_desk(
    ctx: ServiceContext,
    parking: ParkingService,
    lots: LotService,
    kiosk: KioskService,
    data_dir: Path,
    link: ConnectionMonitor | None,
    users: UserService,
    money: MoneyService | None = None,
) -> tuple[KioskDesk, KioskSync | None]:
    """The kiosk's desk with its journal and the thread that sends it (start it), wired to the
    connection monitor. Without a monitor, or a journal that cannot be opened: online only."""
    if link is None:
        return KioskDesk(parking, lots, kiosk, users=users, money=money), None
    try:
        offline = OfflineDesk(data_dir, link.identity.kiosk_id, ctx.clock)
    except JournalError as exc:  # logged; the kiosk still works while the database is there
        log.error("No offline journal: %s", exc)
        return KioskDesk(parking, lots, kiosk, None, link, users=users, money=money), None
    link.pending_operations = offline.pending_count
    replay = ReplayService(ctx, parking.payments)
    sync = KioskSync(offline, replay.apply, lambda: take_picture(ctx), link)
    link.listeners.append(sync.on_link_change)
    # Writes of this kiosk and (PostgreSQL) of other machines: a fresher picture soon.
    for listeners in (ctx.listeners, ctx.remote_listeners):
        listeners.append(sync.on_data_change)
        sync.on_stop.append(partial(_remove, listeners, sync.on_data_change))
    return KioskDesk(parking, lots, kiosk, offline, link, users=users, money=money), sync


def _remove(
    listeners: list[Callable[[frozenset[str]], None]], listener: Callable[[frozenset[str]], None]
) -> None:
    if listener in listeners:
        listeners.remove(listener)
