"""The lines that explain one reservation's fee, for the reservation detail. Runs off the GUI
thread (it asks the services).

- A car still parked: the service's quote, with its lines (the fee if it left now).
- A completed stay: the tariff service prices it again by the version it recorded (what it
  was charged by). The lines are shown only if they add up to the fee that was charged;
  otherwise (a discount or a waiver) one line, its billed hours at its price, or the fee as
  charged."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from parking_desktop.bootstrap import App
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.views import ReservationView
from parking_desktop.ui.common.fee_lines import fee_rows, flat_line


@dataclass(frozen=True)
class StayFee:
    rows: list[tuple[str, str]]
    total: Decimal | None
    so_far: bool = False  # a car still parked: the fee if it left now


def stay_fee(app: App, actor: Actor, view: ReservationView) -> StayFee:
    if view.parked_at is None:
        return StayFee([], None)
    if view.status == BookingStatus.ACTIVE:
        priced = app.parking.quote(actor, view.id)
        single = flat_line(priced.hours, priced.price_per_hour)
        return StayFee(fee_rows(priced.lines, cost=priced.cost, single=single), priced.cost, True)
    if view.left_at is None or view.cost is None:
        return StayFee([], view.cost)
    priced_stay = app.tariffs.completed_stay(actor, view.id)
    if priced_stay is not None and priced_stay.total == view.cost:
        return StayFee(fee_rows(priced_stay.lines), view.cost)
    flat = compute_fee(view.left_at - view.parked_at, view.price_per_hour)
    single = (
        flat_line(flat.hours, view.price_per_hour) if flat.cost == view.cost else "fee as charged"
    )
    return StayFee(fee_rows((), cost=view.cost, single=single), view.cost)

