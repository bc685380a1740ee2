"""Helpers of the money tests: a lot, staff, a parked car checked out after some time."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from parking_desktop.adapters.db.models import Reservation
from parking_desktop.adapters.db.models_money import MoneyException, Payment, Receipt
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.services.money.views import PaymentRequest
from parking_desktop.services.views import LotView
from parking_desktop.services.views import Receipt as ReceiptView


def make_lot(app: App, manager: Actor, price: str = "2.50", spots: int = 20) -> LotView:
    return app.lots.create(
        manager,
        name="City Center",
        address="1 Main St",
        pin_code="75001",
        price_per_hour=price,
        number_of_spots=spots,
    )


def stay(
    app: App,
    clock: FixedClock,
    actor: Actor,
    lot: LotView,
    plate: str,
    *,
    minutes: int = 90,
    request: PaymentRequest | None = None,
) -> ReceiptView:
    """Check ``plate`` in, let ``minutes`` pass, check it out paying as ``request`` says."""
    app.parking.check_in(actor, lot.id, plate)
    clock.advance(minutes=minutes)
    return app.money.check_out(actor, plate, request)


def payments(app: App) -> list[Payment]:
    with app.db.read() as s:
        rows = list(s.scalars(select(Payment).order_by(Payment.id)))
        s.expunge_all()
        return rows


def exceptions(app: App) -> list[MoneyException]:
    with app.db.read() as s:
        rows = list(s.scalars(select(MoneyException).order_by(MoneyException.id)))
        s.expunge_all()
        return rows


def receipt_numbers(app: App) -> list[int]:
    with app.db.read() as s:
        return [int(n) for n in s.scalars(select(Receipt.number).order_by(Receipt.number))]


def fees_charged(app: App) -> Decimal:
    with app.db.read() as s:
        return sum(
            (c for c in s.scalars(select(Reservation.cost).where(Reservation.cost.is_not(None)))),
            Decimal("0.00"),
        )
