"""Plain, immutable results that services hand to the UI, CLI and jobs (never ORM objects,
so they can cross threads safely)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from parking_desktop.domain.roles import Role
from parking_desktop.domain.states import BookingStatus, SpotStatus

if TYPE_CHECKING:
    from parking_desktop.services.money.views import PaymentView


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    email: str | None
    full_name: str
    role: Role
    is_active: bool
    last_login: datetime | None
    last_booking: datetime | None
    created_at: datetime
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LotView:
    id: int
    name: str
    address: str
    pin_code: str
    price_per_hour: Decimal
    number_of_spots: int
    available: int
    reserved: int
    occupied: int
    created_at: datetime
    archived_at: datetime | None = None
    # The tariff in force when the list was read, in figures (services/tariffs/summary.py);
    # filled by LotService.search (the lot list), None elsewhere.
    tariff: dict[str, Any] | None = None

    @property
    def free(self) -> int:
        return self.available


@dataclass(frozen=True)
class SpotView:
    id: int
    lot_id: int
    number: str
    status: SpotStatus
    # Set when the spot is reserved or occupied:
    reservation_id: int | None = None
    vehicle_number: str | None = None
    driver: str | None = None
    since: datetime | None = None
    price_per_hour: Decimal | None = None
    fee_so_far: Decimal | None = None


@dataclass(frozen=True)
class ReservationView:
    id: int
    spot_id: int
    spot_number: str
    lot_id: int
    lot_name: str
    lot_address: str
    user_id: int | None
    username: str | None
    vehicle_number: str
    status: BookingStatus
    reserved_at: datetime
    parked_at: datetime | None
    left_at: datetime | None
    price_per_hour: Decimal
    cost: Decimal | None
    note: str | None = None


@dataclass(frozen=True)
class FeeLine:
    """One line of a fee's explanation ("Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h");
    ``amount`` is negative for a daily-maximum reduction."""

    text: str
    amount: Decimal


@dataclass(frozen=True)
class CheckoutQuote:
    reservation_id: int
    vehicle_number: str
    lot_name: str
    spot_number: str
    parked_at: datetime
    until: datetime
    hours: Decimal
    price_per_hour: Decimal
    cost: Decimal
    # Why the fee is what it is: the tariff version's lines (their sum is ``cost``).
    lines: tuple[FeeLine, ...] = ()
    currency: str = "EUR"
    tariff_version_id: int | None = None  # None: a stay from before tariffs, priced flat


@dataclass(frozen=True)
class Receipt:
    reservation_id: int
    vehicle_number: str
    lot_name: str
    spot_number: str
    parked_at: datetime
    left_at: datetime
    hours: Decimal
    price_per_hour: Decimal
    cost: Decimal  # what was charged (after a discount or waiver; the payment's amount)
    payment: PaymentView | None = None  # services/money: method, currency, receipt number
    # Why the fee is what it is: the tariff version's lines. Their sum is the fee before any
    # discount or waiver (``cost`` when there was none).
    lines: tuple[FeeLine, ...] = ()
    currency: str = "EUR"
    tariff_version_id: int | None = None  # None: a stay from before tariffs, priced flat


@dataclass(frozen=True)
class FoundVehicle:
    """An open booking looked up by its plate, with the fee so far while the car is parked."""

    booking: ReservationView
    quote: CheckoutQuote | None = None


@dataclass(frozen=True)
class VehicleMatches:
    """What a typed (part of a) plate found: one vehicle, or several to choose from."""

    found: FoundVehicle | None
    choices: list[ReservationView] = field(default_factory=list)


@dataclass(frozen=True)
class DriverState:
    """What a driver's own page shows: the open booking (and its fee so far), or the lots to
    book with the vehicle of the last booking suggested."""

    booking: ReservationView | None
    quote: CheckoutQuote | None = None
    lots: list[LotView] = field(default_factory=list)
    last_vehicle: str = ""


@dataclass(frozen=True)
class HistoryRequest:
    """A driver's request to have their history e-mailed."""

    job_id: str  # the export that makes the file
    mail_delayed: bool  # the outbox is failing right now: the e-mail may be late


@dataclass(frozen=True)
class ActivityView:
    id: int
    user_id: int | None
    username: str | None
    activity_type: str
    activity_data: dict[str, Any]
    timestamp: datetime


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class ResultCount:
    """How many rows a search matches: exactly ``value`` ("exact"), more than ``value``
    ("more_than": counting stopped there), or about ``value`` ("about": the database's
    estimate). ``int()`` gives ``value`` (one more for "more_than")."""

    value: int
    kind: str = "exact"

    def __int__(self) -> int:
        return self.value + 1 if self.kind == "more_than" else self.value


@dataclass(frozen=True)
class DriverSummary:
    user_id: int
    username: str
    bookings: int
    total_spent: Decimal
    hours_parked: Decimal
    most_used_lot: str | None
    recent: list[ReservationView] = field(default_factory=list)
    spend_per_month: list[tuple[str, Decimal]] = field(default_factory=list)


@dataclass(frozen=True)
class LotOccupancy:
    lot_id: int
    name: str
    available: int
    reserved: int
    occupied: int


@dataclass(frozen=True)
class DashboardStats:
    lots: int
    spots: int
    available: int
    reserved: int
    occupied: int
    occupancy_pct: float
    drivers: int
    reservations_total: int
    reservations_active: int
    revenue_total: Decimal
    revenue_month: Decimal
    per_lot: list[LotOccupancy] = field(default_factory=list)
    revenue_per_day: list[tuple[str, Decimal]] = field(default_factory=list)
    bookings_by_hour: list[int] = field(default_factory=list)
    recent: list[ReservationView] = field(default_factory=list)


@dataclass(frozen=True)
class ChartHistory:
    """The dashboard's two charts over closed quarter hours (before the current one): revenue
    per site-local day as (day, amount) and bookings per site-local hour (24 counts). Nothing
    but a write into the past changes them, so they are cached apart from the live figures."""

    revenue_per_day: list[tuple[str, Decimal]] = field(default_factory=list)
    bookings_by_hour: list[int] = field(default_factory=list)
