"""Money and erasure, on both databases: a driver's own payment names the role, not the
driver; erasure is refused while a completed stay has no payment (an unpaid balance), and
stays from before payments existed do not count; a payment written before this rule that
names the driver is kept (accounting record) and counted by the erasure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.models import ParkingSpot, Reservation
from parking_desktop.adapters.db.models_money import Payment, Receipt
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.accounts.erasure import unpaid_balance
from parking_desktop.services.money.exceptions import SELF_SERVICE
from tests.conftest import database_rows
from tests.integration.privacy_support import T0, app_with, centre, person, stay
from tests.integration.test_privacy_erasure import traces


def people(app: App, clock: FixedClock) -> tuple[Actor, Actor, int]:
    clock.set(T0)
    manager = person(app, "boss", Role.MANAGER)
    zelda = person(app, "zquux", Role.DRIVER, "zelda.quux@example.org", "Zelda Quuxbridge")
    return manager, zelda, centre(app, manager)


def self_service_stay(app: App, clock: FixedClock, zelda: Actor, lot_id: int, day: int) -> None:
    clock.set(T0 + timedelta(days=day))
    booking = app.parking.reserve(zelda, lot_id, "ZQX1234")
    app.parking.park(zelda, booking.id)
    clock.set(T0 + timedelta(days=day, hours=3))
    app.parking.release(zelda, booking.id)


def all_payments(app: App) -> list[tuple[int | None, str, Decimal]]:
    with app.db.read() as s:
        return [
            (p.taken_by, p.taken_by_name, p.amount)
            for p in s.scalars(select(Payment).order_by(Payment.id))
        ]


def completed_without_payment(app: App, driver_id: int, lot_id: int, day: int) -> None:
    """A completed stay whose check-out recorded no payment (as before payments existed, or
    a row written around the program)."""
    with app.db.write() as s:
        spot = s.scalars(select(ParkingSpot).where(ParkingSpot.lot_id == lot_id)).first()
        assert spot is not None
        start = T0 + timedelta(days=day)
        s.add(
            Reservation(
                spot_id=spot.id,
                user_id=driver_id,
                vehicle_number="ZQX5678",
                status="completed",
                reserved_at=start,
                parked_at=start,
                left_at=start + timedelta(hours=2),
                price_per_hour=Decimal("2.00"),
                cost=Decimal("4.00"),
                created_by=driver_id,
            )
        )


def test_a_drivers_own_payment_names_the_role_and_staff_are_named(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, zelda, lot_id = people(app, clock)
        self_service_stay(app, clock, zelda, lot_id, 1)
        stay(app, clock, manager, lot_id, "OTTO11", 2)
        assert all_payments(app) == [
            (zelda.user_id, SELF_SERVICE, Decimal("6.00")),
            (manager.user_id, "boss", Decimal("4.00")),
        ]
        # The per-attendant totals show the role, not the driver.
        rows = app.money.totals(manager, T0, T0 + timedelta(days=5))
        assert {r.attendant for r in rows} == {SELF_SERVICE, "boss"}


def test_erasure_is_refused_while_a_stay_is_unpaid(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, zelda, lot_id = people(app, clock)
        driver_id = zelda.user_id or 0
        # Before any payment on the site: a stay closed by the program before payments
        # existed, settled as far as anyone knows.
        completed_without_payment(app, driver_id, lot_id, 0)
        self_service_stay(app, clock, zelda, lot_id, 1)
        with app.db.read() as s:
            assert unpaid_balance(s, driver_id) == Decimal("0.00")
        # After payments began, a check-out with no payment is owed.
        completed_without_payment(app, driver_id, lot_id, 2)
        with app.db.read() as s:
            assert unpaid_balance(s, driver_id) == Decimal("4.00")
        before = database_rows(app)
        with pytest.raises(ConflictError, match=r"unpaid balance of €4\.00"):
            app.erasure.erase(manager, driver_id)
        assert database_rows(app) == before


def test_an_older_payment_naming_the_driver_is_kept_and_counted(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, zelda, lot_id = people(app, clock)
        self_service_stay(app, clock, zelda, lot_id, 1)
        with app.db.write() as s:  # as a driver's own payment was recorded before
            reservation_id = s.scalar(select(Reservation.id))
            receipt = Receipt(number=900, issued_at=T0)
            s.add(receipt)
            s.flush()
            s.add(
                Payment(
                    reservation_id=reservation_id,
                    lot_id=lot_id,
                    kind="payment",
                    method="account",
                    amount=Decimal("0.00"),
                    currency="EUR",
                    taken_by=zelda.user_id,
                    taken_by_name="zquux",
                    taken_at=T0,
                    receipt_id=receipt.id,
                )
            )
        result = app.erasure.erase(manager, zelda.user_id or 0)
        assert result.payments_kept == 1
        # The only trace left is that accounting record (docs/privacy.md).
        assert traces(app) == ["payments.taken_by_name: 'zquux'"]
        entry = app.activity.history(manager, activity_type="user_erased").items[0]
        assert entry.activity_data["payments_kept"] == 1
