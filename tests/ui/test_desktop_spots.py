"""Spots screen: tiles match the database; details of a busy spot; force-release needs a reason."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from parking_desktop.adapters.db.models import ParkingSpot
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common.table import ROW_ROLE
from parking_desktop.ui.desktop.spots import SpotsScreen
from tests.conftest import Unchanged
from tests.ui.conftest import Desk, make_lot


def _db_spots(app: App, lot_id: int) -> list[tuple[str, str]]:
    with app.db.read() as session:
        return [(number, status) for number, status in session.execute(
            select(ParkingSpot.number, ParkingSpot.status)
            .where(ParkingSpot.lot_id == lot_id, ParkingSpot.removed_at.is_(None))
            .order_by(ParkingSpot.position))]


def _tiles(screen: SpotsScreen) -> list[tuple[str, str]]:
    model = screen.model
    return [(model.index(row).data(), model.index(row).data(ROW_ROLE).status)
            for row in range(model.rowCount())]


@pytest.fixture
def busy_lot(app: App, manager: Actor, attendant: Actor, driver: Actor, clock: FixedClock) -> int:
    """Central Station (8 spots): P001 occupied by a walk-in for 2.5 h, P002 reserved by driver1,
    P003 occupied then released (free); the second lot Old Town is empty."""
    lot = make_lot(app, manager, "Central Station", spots=8, price="2.00")
    make_lot(app, manager, "Old Town", spots=3)
    app.parking.check_in(attendant, lot.id, "WALK1N")
    app.parking.reserve(driver, lot.id, "DR1V3R")
    app.parking.check_in(attendant, lot.id, "GONE99")
    app.parking.check_out(attendant, "GONE99")
    clock.advance(hours=2, minutes=30)
    return lot.id


def test_tiles_match_the_database(app: App, qtbot: QtBot, desk: Desk, manager: Actor,
                                  busy_lot: int) -> None:
    screen = desk.screen(manager, "spots")
    assert screen.current_lot_id() == busy_lot  # lots are listed by name
    expected = _db_spots(app, busy_lot)
    assert _tiles(screen) == expected
    assert expected[:3] == [("P001", "O"), ("P002", "R"), ("P003", "A")]
    assert screen.legend["O"].text() == "Occupied 1"
    assert screen.legend["R"].text() == "Reserved 1"
    assert screen.legend["A"].text() == "Available 6"
    # Another lot: its own spots.
    other = screen.lot_box.findText("Old Town", Qt.MatchFlag.MatchStartsWith)
    loads = screen.spot_loads
    screen.lot_box.setCurrentIndex(other)
    qtbot.waitUntil(lambda: screen.spot_loads > loads)
    assert _tiles(screen) == _db_spots(app, screen.current_lot_id()) == [
        ("P001", "A"), ("P002", "A"), ("P003", "A")]


def test_a_busy_spot_shows_vehicle_driver_since_and_fee(
        qtbot: QtBot, desk: Desk, manager: Actor, busy_lot: int) -> None:
    screen = desk.screen(manager, "spots")
    occupied, reserved = screen.model.row_at(0), screen.model.row_at(1)
    screen.select_spot(occupied.id)
    details = screen.details
    assert details.get("Vehicle") == "WALK1N"
    assert details.get("Driver") == "walk-in"
    assert details.get("Since").startswith("today 10:00 (2 h 30 min ago)")  # Paris time
    assert details.get("Fee so far") == "€5.00"  # 2.5 h at 2.00
    assert screen.release_button.isVisible()
    screen.select_spot(reserved.id)
    assert details.get("Driver") == "driver1"
    assert details.get("Fee so far") == "nothing yet (not parked)"
    assert screen.release_button.text() == "Cancel booking"
    screen.select_spot(screen.model.row_at(2).id)
    assert not screen.release_button.isVisible()
    assert screen.hint.text() == "This spot is free."


def test_force_release_refuses_an_empty_reason(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, busy_lot: int,
        unchanged: Unchanged, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: asked.append(a[2]) or True)
    screen = desk.screen(manager, "spots")
    screen.select_spot(screen.model.row_at(0).id)
    with unchanged():
        qtbot.keyClicks(screen.reason, "   ")
        qtbot.mouseClick(screen.release_button, Qt.MouseButton.LeftButton)
        assert screen.reason_error.isVisible()
        assert screen.reason_error.text() == "Give a reason for the force-release."
        assert screen.busy.pending == 0 and asked == []
    qtbot.keyClicks(screen.reason, "vehicle towed")
    assert not screen.reason_error.isVisible()
    loads = screen.spot_loads
    qtbot.keyClick(screen.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.spot_loads > loads)
    assert asked and "€5.00" in asked[0]
    assert screen.banner.text == ("Spot P001 is free again; WALK1N was charged €5.00 for "
                                  "2.50 h.")
    assert _db_spots(app, busy_lot)[0] == ("P001", "A")
    assert _tiles(screen)[0] == ("P001", "A")
    history = app.activity.history(manager, activity_type="force_released").items
    assert history[0].activity_data["reason"] == "vehicle towed"


def test_a_refused_force_release_is_shown_in_the_window(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor, busy_lot: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    screen = desk.screen(manager, "spots")
    screen.select_spot(screen.model.row_at(0).id)
    screen.window().bridge.detach()  # the change below happens on another machine
    app.parking.check_out(attendant, "WALK1N")  # someone else freed it meanwhile
    qtbot.keyClicks(screen.reason, "abandoned")
    qtbot.mouseClick(screen.release_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.banner.property("kind") == "error" and
                    bool(screen.banner.text))
    assert screen.banner.text == "Spot P001 is already free."
