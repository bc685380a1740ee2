"""Table models for the desktop's screens (column constants name the positions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QObject

from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.views import ActivityView, LotView, ReservationView, UserView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import Column, PagedTableModel, RowTableModel

STATUS_COLOURS: dict[str, str] = {
    BookingStatus.RESERVED: "#b45309", BookingStatus.ACTIVE: "#b91c1c",
    BookingStatus.COMPLETED: "#15803d", BookingStatus.CANCELLED: "#64748b",
}


def _occupancy(lot: LotView) -> float:
    total = lot.available + lot.reserved + lot.occupied
    return 100.0 * (lot.reserved + lot.occupied) / total if total else 0.0


class LotsModel(RowTableModel[LotView]):
    NAME, ADDRESS, PIN, PRICE, SPOTS, FREE, RESERVED, OCCUPIED, OCCUPANCY = range(9)
    COLUMNS = [
        Column("Name", lambda lot: lot.name, tooltip=lambda lot: lot.name),
        Column("Address", lambda lot: lot.address, tooltip=lambda lot: lot.address),
        Column("Pin code", lambda lot: lot.pin_code),
        Column("Price / h", lambda lot: fmt.money(lot.price_per_hour),
               sort_value=lambda lot: lot.price_per_hour, numeric=True),
        Column("Spots", lambda lot: fmt.count(lot.number_of_spots),
               sort_value=lambda lot: lot.number_of_spots, numeric=True),
        Column("Free", lambda lot: fmt.count(lot.available),
               sort_value=lambda lot: lot.available, numeric=True,
               colour=lambda lot: "#15803d" if lot.available else "#b91c1c"),
        Column("Reserved", lambda lot: fmt.count(lot.reserved),
               sort_value=lambda lot: lot.reserved, numeric=True),
        Column("Occupied", lambda lot: fmt.count(lot.occupied),
               sort_value=lambda lot: lot.occupied, numeric=True),
        Column("In use", lambda lot: fmt.percent(_occupancy(lot)),
               sort_value=_occupancy, numeric=True),
    ]


class PeopleModel(PagedTableModel[UserView]):
    """People by username, a page at a time (a site may have tens of thousands of drivers)."""

    USERNAME, NAME, EMAIL, ROLE, STATUS, LAST_LOGIN, CREATED = range(7)

    def __init__(self, tz: tzinfo, parent: QObject | None = None, *, page_size: int = 200) -> None:
        super().__init__(parent, page_size=page_size)
        self.COLUMNS = [
            Column("Username", lambda u: u.username),
            Column("Name", lambda u: u.full_name or "—"),
            Column("E-mail", lambda u: u.email or "—"),
            Column("Role", lambda u: fmt.role(u.role.value)),
            Column("Status", lambda u: "Active" if u.is_active else "Deactivated",
                   colour=lambda u: None if u.is_active else "#b91c1c"),
            Column("Last sign-in", lambda u: fmt.date_time(u.last_login, tz, "never"),
                   sort_value=lambda u: u.last_login),
            Column("Created", lambda u: fmt.date_only(u.created_at, tz),
                   sort_value=lambda u: u.created_at),
        ]


def reservation_columns(tz: tzinfo) -> list[Column[ReservationView]]:
    return [
        Column("ID", lambda r: str(r.id), numeric=True, server_sort="id",
               sort_value=lambda r: r.id),
        Column("Vehicle", lambda r: r.vehicle_number, server_sort="vehicle_number"),
        Column("Driver", lambda r: r.username or "walk-in", server_sort="driver"),
        Column("Lot", lambda r: r.lot_name, server_sort="lot",
               tooltip=lambda r: r.lot_address),
        Column("Spot", lambda r: r.spot_number, server_sort="spot"),
        Column("Status", lambda r: fmt.status(r.status), server_sort="status",
               colour=lambda r: STATUS_COLOURS.get(r.status)),
        Column("Reserved", lambda r: fmt.date_time(r.reserved_at, tz), server_sort="reserved_at",
               sort_value=lambda r: r.reserved_at),
        Column("Parked", lambda r: fmt.date_time(r.parked_at, tz), server_sort="parked_at",
               sort_value=lambda r: r.parked_at),
        Column("Left", lambda r: fmt.date_time(r.left_at, tz), server_sort="left_at",
               sort_value=lambda r: r.left_at),
        Column("Price / h", lambda r: fmt.money(r.price_per_hour), numeric=True,
               sort_value=lambda r: r.price_per_hour),
        Column("Cost", lambda r: fmt.money(r.cost), numeric=True, server_sort="cost",
               sort_value=lambda r: r.cost),
    ]


def reservation_floors(tz: tzinfo, now: datetime) -> dict[int, list[str]]:
    """Texts the reservation columns must hold whatever rows were measured: every status
    word and a full date and time (the first rows of a page may have no end date yet)."""
    moment = fmt.date_time(now, tz)
    model = ReservationsModel
    return {model.STATUS: [fmt.status(s) for s in fmt.STATUS_LABELS],
            model.RESERVED: [moment], model.PARKED: [moment], model.LEFT: [moment],
            model.COST: ["99,999.99"]}


class ReservationsModel(PagedTableModel[ReservationView]):
    """Reservations fetched a page at a time, sorted by the database."""

    ID, VEHICLE, DRIVER, LOT, SPOT, STATUS, RESERVED, PARKED, LEFT, PRICE, COST = range(11)

    def __init__(self, tz: tzinfo, parent: QObject | None = None, *, page_size: int = 200) -> None:
        super().__init__(parent, page_size=page_size)
        self.COLUMNS = reservation_columns(tz)
        self.set_default_sort(self.RESERVED, descending=True)


class RecentReservationsModel(RowTableModel[ReservationView]):
    """A short, fixed list (dashboard, a driver's page)."""

    VEHICLE, WHERE, STATUS, WHEN = range(4)

    def __init__(self, tz: tzinfo, now: Callable[[], datetime],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        every = reservation_columns(tz)
        self.COLUMNS = [
            Column("Vehicle", lambda r: r.vehicle_number,
                   tooltip=lambda r: f"Driver: {r.username or 'walk-in'}"),
            Column("Lot · spot", lambda r: f"{r.lot_name} · {r.spot_number}",
                   tooltip=lambda r: r.lot_address),
            every[5],
            Column("Booked", lambda r: fmt.short_time(r.reserved_at, now(), tz),
                   sort_value=lambda r: r.reserved_at,
                   tooltip=lambda r: fmt.date_time(r.reserved_at, tz)),
        ]


HIDDEN_KEYS = {"for_user_id", "user_id", "lot_id", "before", "after"}


def describe_activity(data: dict[str, Any]) -> str:
    """A readable one-line summary of an activity's data (the full JSON is in the tooltip)."""
    if not data:
        return ""
    parts: list[str] = []
    if "reservation_id" in data:
        parts.append(f"reservation #{data['reservation_id']}")
    place = " ".join(str(data[k]) for k in ("lot", "spot") if data.get(k))
    if place:
        parts.append(place)
    if data.get("vehicle"):
        parts.append(str(data["vehicle"]))
    if data.get("hours"):
        parts.append(fmt.hours(_decimal(data["hours"])))
    if data.get("cost"):
        parts.append(f"fee {fmt.money(_decimal(data['cost']))}")
    if data.get("price_per_hour") and "before" not in data:
        parts.append(f"at {fmt.price_per_hour(_decimal(data['price_per_hour']))}")
    if data.get("reason"):
        parts.append(f"reason: {data['reason']}")
    if data.get("username"):
        parts.append(f"account {data['username']}")
    if data.get("attempts"):
        parts.append(f"failed attempt {data['attempts']}")
    if data.get("locked_until"):
        parts.append("account locked")
    shown = {"reservation_id", "lot", "spot", "vehicle", "hours", "cost", "price_per_hour",
             "reason", "username", "attempts", "locked_until"}
    for key, value in data.items():
        if key in shown or key in HIDDEN_KEYS or value in (None, "", [], {}):
            continue
        parts.append(f"{key.replace('_', ' ')}: {value}")
    parts.extend(_changes(data.get("before"), data.get("after")))
    return " · ".join(parts)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _changes(before: Any, after: Any) -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        return [f"{k.replace('_', ' ')} {before.get(k)} → {after.get(k)}"
                for k in after if before.get(k) != after.get(k)]
    if isinstance(after, dict):
        return [", ".join(f"{k.replace('_', ' ')} {v}" for k, v in after.items())]
    if before is not None and after is not None and not isinstance(before, dict):
        return [f"{before} → {after}"]
    return []


class ActivityModel(PagedTableModel[ActivityView]):
    WHEN, WHO, TYPE, DETAILS = range(4)

    def __init__(self, tz: tzinfo, parent: QObject | None = None, *, page_size: int = 200) -> None:
        super().__init__(parent, page_size=page_size)
        self.COLUMNS = [
            Column("When", lambda a: fmt.date_time(a.timestamp, tz),
                   sort_value=lambda a: a.timestamp),
            Column("Who", lambda a: a.username or "system"),
            Column("Activity", lambda a: fmt.activity_type(a.activity_type)),
            Column("Details", lambda a: describe_activity(a.activity_data),
                   tooltip=lambda a: json.dumps(a.activity_data, indent=1, default=str)),
        ]
