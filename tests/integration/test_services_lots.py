"""Lots and spots, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, UserActivity
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.views import LotView
from tests.conftest import Unchanged


def make_lot(app: App, manager: Actor, name: str = "City Center", spots: int = 5,
             price: str = "2.50", pin: str = "75001") -> LotView:
    return app.lots.create(manager, name=name, address="1 Main St", pin_code=pin,
                           price_per_hour=price, number_of_spots=spots)


def spot_rows(app: App, lot_id: int) -> list[tuple[str, int, str, bool]]:
    """(number, position, status, retired?) of every spot row of a lot."""
    with app.db.read() as s:
        return [(n, p, st, removed is not None) for n, p, st, removed in s.execute(
            select(ParkingSpot.number, ParkingSpot.position, ParkingSpot.status,
                   ParkingSpot.removed_at)
            .where(ParkingSpot.lot_id == lot_id).order_by(ParkingSpot.position)
        ).all()]


def active_numbers(app: App, lot_id: int) -> list[str]:
    return [n for n, _, _, retired in spot_rows(app, lot_id) if not retired]


def activities(app: App, activity_type: str) -> list[dict[str, Any]]:
    with app.db.read() as s:
        return [dict(d) for d in s.scalars(
            select(UserActivity.activity_data).where(UserActivity.activity_type == activity_type)
            .order_by(UserActivity.id)
        ).all()]


# --- create ----------------------------------------------------------------------------------
def test_creating_a_lot_creates_its_spots(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager, spots=4)
    assert (lot.number_of_spots, lot.available, lot.reserved, lot.occupied) == (4, 4, 0, 0)
    assert lot.price_per_hour == Decimal("2.50")
    assert spot_rows(app, lot.id) == [
        ("P001", 1, "A", False), ("P002", 2, "A", False), ("P003", 3, "A", False),
        ("P004", 4, "A", False),
    ]
    fetched = app.lots.get(lot.id)
    assert fetched == lot
    assert fetched.created_at == app.ctx.clock.now()


def test_a_lot_of_more_than_999_spots_numbers_them_wider(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager, spots=1001)
    numbers = active_numbers(app, lot.id)
    assert numbers[:2] == ["P001", "P002"]
    assert numbers[998:] == ["P999", "P1000", "P1001"]
    # P1000 is the thousandth spot, booked after P999 (not after P100 as text sorting would).
    with app.db.write() as s:
        s.execute(update(ParkingSpot)
                  .where(ParkingSpot.lot_id == lot.id, ParkingSpot.position <= 999)
                  .values(status="O"))
    booked = app.parking.check_in(manager, lot.id, "WIDE1")
    assert booked.spot_number == "P1000"


def test_lot_fields_are_cleaned(app: App, manager: Actor) -> None:
    lot = app.lots.create(manager, name="  City   Center ", address=" 1 Main St ",
                          pin_code="ab12", price_per_hour="3", number_of_spots="2")
    assert (lot.name, lot.address, lot.pin_code, lot.price_per_hour) == (
        "City Center", "1 Main St", "AB12", Decimal("3.00"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the lot's name."),
        ("name", "x" * 101, "at most 100 are allowed"),
        ("address", " ", "Enter the lot's address."),
        ("pin_code", "1", "The pin code must be 3 to 10 letters or digits."),
        ("price_per_hour", "0", "Price per hour must be more than 0."),
        ("price_per_hour", "1.234", "Price per hour can have at most 2 decimals."),
        ("price_per_hour", "free", "Price per hour 'free' is not a number."),
        ("number_of_spots", 0, "Number of spots must be between 1 and 5000."),
        ("number_of_spots", 5001, "Number of spots must be between 1 and 5000."),
    ],
)
def test_bad_lot_fields_are_refused_and_change_nothing(
    app: App, manager: Actor, unchanged: Unchanged, field: str, value: object,
    message: str,
) -> None:
    fields: dict[str, Any] = {"name": "North", "address": "2 North Rd", "pin_code": "75002",
                                 "price_per_hour": "1.50", "number_of_spots": 3}
    fields[field] = value
    with unchanged(), pytest.raises(ValidationError) as info:
        app.lots.create(manager, **fields)
    assert message in str(info.value)


def test_an_active_lot_name_is_unique(app: App, manager: Actor,
                                      unchanged: Unchanged) -> None:
    make_lot(app, manager, name="City Center")
    with unchanged(), pytest.raises(ConflictError,
                                    match="A lot named 'city center' already exists"):
        make_lot(app, manager, name="city center")
    other = make_lot(app, manager, name="Airport")
    with unchanged(), pytest.raises(ConflictError, match="already exists"):
        app.lots.update(manager, other.id, name="City Center")


def test_a_lot_can_be_found_by_name_or_pin(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager, name="City Center", pin="AB123")
    assert app.lots.find_by_name(" city  center ").id == lot.id
    assert app.lots.find_by_name("ab123").id == lot.id
    with pytest.raises(NotFoundError, match="no active parking lot named 'Nowhere'"):
        app.lots.find_by_name("Nowhere")


def test_lot_search_by_name_address_or_pin(app: App, manager: Actor) -> None:
    make_lot(app, manager, name="City Center", pin="75001")
    make_lot(app, manager, name="Airport P2", pin="95700")
    assert [lot.name for lot in app.lots.search()] == ["Airport P2", "City Center"]
    assert [lot.name for lot in app.lots.search("CITY")] == ["City Center"]
    assert [lot.name for lot in app.lots.search("957")] == ["Airport P2"]
    assert [lot.name for lot in app.lots.search("main st")] == ["Airport P2", "City Center"]
    assert app.lots.search("%") == []  # LIKE wildcards are searched for literally
    assert app.lots.search("_") == []


# --- resize ----------------------------------------------------------------------------------
def test_growing_appends_spots(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager, spots=3)
    app.parking.check_in(manager, lot.id, "AA11")  # P001 stays occupied while growing
    grown = app.lots.resize(manager, lot.id, 5)
    assert (grown.number_of_spots, grown.available, grown.occupied) == (5, 4, 1)
    assert active_numbers(app, lot.id) == ["P001", "P002", "P003", "P004", "P005"]
    assert spot_rows(app, lot.id)[0] == ("P001", 1, "O", False)


def test_shrinking_removes_the_highest_spots(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager, spots=5)
    app.parking.check_in(manager, lot.id, "AA11")  # P001, below the cut
    shrunk = app.lots.resize(manager, lot.id, 2)
    assert (shrunk.number_of_spots, shrunk.available, shrunk.occupied) == (2, 1, 1)
    assert active_numbers(app, lot.id) == ["P001", "P002"]
    # Growing again brings the same numbers back.
    app.lots.resize(manager, lot.id, 4)
    assert active_numbers(app, lot.id) == ["P001", "P002", "P003", "P004"]
    assert [st for _, _, st, _ in spot_rows(app, lot.id)] == ["O", "A", "A", "A", "A"]


def test_shrinking_over_busy_spots_is_refused_naming_them(
    app: App, manager: Actor, driver: Actor, unchanged: Unchanged
) -> None:
    lot = make_lot(app, manager, spots=12)
    for plate in [f"CAR{i}" for i in range(1, 8)]:
        app.parking.check_in(manager, lot.id, plate)  # P001..P007 occupied
    app.parking.reserve(driver, lot.id, "DRV1")  # P008 reserved
    # Free P001..P006 so only P007 (occupied) and P008 (reserved) block.
    for plate in [f"CAR{i}" for i in range(1, 7)]:
        app.parking.check_out(manager, plate)
    with unchanged(), pytest.raises(ConflictError) as info:
        app.lots.resize(manager, lot.id, 3)
    assert str(info.value) == (
        "Lot 'City Center' has occupied spot P007 and reserved spot P008; "
        "free them before shrinking."
    )
    assert app.lots.get(lot.id).number_of_spots == 12


def test_shrink_message_names_several_occupied_spots(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager, spots=12)
    for i in range(1, 13):
        app.parking.check_in(manager, lot.id, f"CAR{i}")
    for i in range(1, 13):
        if i not in (7, 12):
            app.parking.check_out(manager, f"CAR{i}")
    with pytest.raises(ConflictError) as info:
        app.lots.resize(manager, lot.id, 5)
    assert str(info.value) == (
        "Lot 'City Center' has occupied spots P007, P012; free them before shrinking."
    )


def test_one_resize_writes_one_entry_naming_the_lot(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager, spots=3)
    app.lots.resize(manager, lot.id, 6)
    resized = activities(app, "lot_resized")
    assert resized == [{"lot_id": lot.id, "lot": "City Center", "before": 3, "after": 6}]
    assert activities(app, "lot_updated") == []  # no second, nameless entry


# --- archive ---------------------------------------------------------------------------------
def test_archiving_is_refused_while_a_spot_is_busy(
    app: App, manager: Actor, driver: Actor, unchanged: Unchanged
) -> None:
    lot = make_lot(app, manager, spots=3)
    booking = app.parking.reserve(driver, lot.id, "DRV1")
    with unchanged(), pytest.raises(ConflictError) as info:
        app.lots.archive(manager, lot.id)
    assert str(info.value) == (
        "Lot 'City Center' has reserved spot P001; it can be archived once they are free."
    )
    app.parking.park(driver, booking.id)
    with unchanged(), pytest.raises(ConflictError, match="occupied spot P001"):
        app.lots.archive(manager, lot.id)


def test_an_archived_lot_keeps_its_history_and_frees_its_name(
    app: App, manager: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager, spots=2)
    app.parking.check_in(manager, lot.id, "OLD1")
    clock.advance(hours=2)
    app.parking.check_out(manager, "OLD1")
    archived = app.lots.archive(manager, lot.id)
    assert archived.archived_at == clock.now()

    # Not erased: the row, its spots and its reservations stay, with the name.
    with app.db.read() as s:
        assert s.get(ParkingLot, lot.id) is not None
        assert s.scalar(select(func.count()).select_from(ParkingSpot)
                        .where(ParkingSpot.lot_id == lot.id)) == 2
    history = app.search.reservations(manager, ReservationFilter(vehicle="OLD1")).items
    assert [(r.lot_name, r.cost) for r in history] == [("City Center", Decimal("5.00"))]

    # Gone from the active lists and from booking.
    assert app.lots.search() == []
    assert [lot.name for lot in app.lots.search(include_archived=True)] == ["City Center"]
    with pytest.raises(NotFoundError):
        app.parking.check_in(manager, lot.id, "NEW1")
    with pytest.raises(NotFoundError):
        app.lots.update(manager, lot.id, name="Reborn")
    with pytest.raises(NotFoundError):
        app.lots.find_by_name("City Center")

    # The name can be used again by a new lot.
    again = make_lot(app, manager, name="City Center", spots=1)
    assert again.id != lot.id
    assert app.lots.find_by_name("City Center").id == again.id
    archived_entry = activities(app, "lot_archived")[0]
    assert archived_entry["before"]["name"] == "City Center"
    assert archived_entry["before"]["archived_at"] is None
    assert archived_entry["after"] == {"archived_at": clock.now().isoformat()}


def test_archiving_twice_is_not_found(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager)
    app.lots.archive(manager, lot.id)
    with pytest.raises(NotFoundError, match=f"no active parking lot with id {lot.id}"):
        app.lots.archive(manager, lot.id)


# --- price -----------------------------------------------------------------------------------
def test_a_price_change_applies_to_new_reservations_only(
    app: App, manager: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager, spots=3, price="2.00")
    before = app.parking.check_in(manager, lot.id, "EARLY1")
    changed = app.lots.set_price(manager, lot.id, "5.00")
    assert changed.price_per_hour == Decimal("5.00")
    after = app.parking.check_in(manager, lot.id, "LATE1")
    assert (before.price_per_hour, after.price_per_hour) == (Decimal("2.00"), Decimal("5.00"))
    clock.advance(hours=2)
    assert app.parking.check_out(manager, "EARLY1").cost == Decimal("4.00")
    assert app.parking.check_out(manager, "LATE1").cost == Decimal("10.00")
    assert activities(app, "price_changed") == [
        {"lot_id": lot.id, "lot": "City Center", "before": "2.00", "after": "5.00"}
    ]


def test_manager_edits_are_audited_with_before_and_after(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager)
    app.lots.update(manager, lot.id, name="Centre Ville", address="2 Rue", pin_code="75002")
    created = activities(app, "lot_created")[0]
    assert created["after"]["name"] == "City Center"
    updated = activities(app, "lot_updated")[0]
    assert updated["lot"] == "Centre Ville"
    assert updated["before"]["name"] == "City Center"
    assert updated["after"] == {"name": "Centre Ville", "address": "2 Rue",
                                "pin_code": "75002", "price_per_hour": "2.50",
                                "number_of_spots": 5}
    with app.db.read() as s:
        who = s.scalars(select(UserActivity.user_id)
                        .where(UserActivity.activity_type.like("lot_%"))).all()
    assert set(who) == {manager.user_id}


def test_an_edit_that_changes_nothing_records_nothing(app: App, manager: Actor) -> None:
    lot = make_lot(app, manager)
    app.lots.update(manager, lot.id, name="City Center", price_per_hour="2.5")
    assert activities(app, "lot_updated") == []


def test_a_bad_field_in_an_edit_changes_nothing(app: App, manager: Actor,
                                                unchanged: Unchanged) -> None:
    lot = make_lot(app, manager)
    # The valid name change must not be saved when the price in the same edit is bad.
    with unchanged(), pytest.raises(ValidationError, match="more than 0"):
        app.lots.update(manager, lot.id, name="Renamed", price_per_hour="-1")
    with unchanged(), pytest.raises(ValidationError, match="between 1 and 5000"):
        app.lots.update(manager, lot.id, name="Renamed", number_of_spots=0)


# --- roles -----------------------------------------------------------------------------------
def test_only_a_manager_changes_lots_and_prices(
    app: App, manager: Actor, attendant: Actor, driver: Actor, unchanged: Unchanged
) -> None:
    lot = make_lot(app, manager)
    for who in (attendant, driver):
        with unchanged():
            with pytest.raises(PermissionDeniedError, match="Only a manager can create"):
                make_lot(app, who, name="Mine")
            with pytest.raises(PermissionDeniedError, match="Only a manager can edit"):
                app.lots.set_price(who, lot.id, "0.50")
            with pytest.raises(PermissionDeniedError):
                app.lots.resize(who, lot.id, 1)
            with pytest.raises(PermissionDeniedError):
                app.lots.update(who, lot.id, name="Mine")
            with pytest.raises(PermissionDeniedError, match="Only a manager can archive"):
                app.lots.archive(who, lot.id)


def test_unknown_lot(app: App, manager: Actor) -> None:
    with pytest.raises(NotFoundError, match="no parking lot with id 999"):
        app.lots.get(999)
    with pytest.raises(NotFoundError):
        app.lots.resize(manager, 999, 3)


def test_lot_changes_announce_topics(app: App, manager: Actor) -> None:
    heard: list[frozenset[str]] = []
    app.ctx.listeners.append(heard.append)
    lot = make_lot(app, manager)
    app.lots.resize(manager, lot.id, 2)
    assert all({"lots", "spots"} <= topics for topics in heard) and len(heard) == 2
    heard.clear()
    with pytest.raises(ValidationError):
        app.lots.resize(manager, lot.id, 0)
    assert heard == []  # nothing changed, nothing announced



# --- the price ceiling follows the site's currency (docs/money.md) -------------------------
def test_a_yen_site_sets_a_yen_price_and_a_euro_site_cannot(
    app: App, manager: Actor, unchanged: Unchanged, db_url: str, tmp_path: Path,
    clock: FixedClock, fast_hasher: Argon2Hasher,
) -> None:
    with unchanged(), pytest.raises(ValidationError, match="less than 1000 EUR"):
        make_lot(app, manager, price="1500")
    settings = load_settings(
        data_dir=tmp_path / "yen", database_url=db_url, dotenv_path=tmp_path / "no.env",
        environ={"APP_TIMEZONE": "Asia/Tokyo", "CURRENCY": "JPY", "LOCALE": "ja_JP"})
    yen_app = build_app(settings, clock=clock, hasher=fast_hasher)
    try:
        lot = make_lot(yen_app, manager, price="1500")
        assert yen_app.lots.get(lot.id).price_per_hour == Decimal("1500.00")
        updated = yen_app.lots.update(manager, lot.id, price_per_hour="2200")
        assert updated.price_per_hour == Decimal("2200.00")
        with pytest.raises(ValidationError, match="less than 100000 JPY"):
            yen_app.lots.update(manager, lot.id, price_per_hour="100000")
        assert yen_app.lots.get(lot.id).price_per_hour == Decimal("2200.00")
        # Its flat tariff versions are in yen too: the tariff ceiling is the same.
        version = yen_app.tariffs.current(lot.id)
        assert version.currency == "JPY"
    finally:
        yen_app.close()
