"""Kiosk "Find a vehicle" with part of a plate (several matches: big buttons to choose from; one:
shown at once), and the duplicate check-in refusal saying where the vehicle already is — on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.roles import Actor
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, make_lot, sign_in, wait_idle

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def test_partial_plate_lists_choices_and_one_match_shows_the_vehicle(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, manager: Actor, attendant: Actor,
) -> None:
    lot = make_lot(app, manager)
    for plate in ("KV548DQ", "KV548AB", "ZZ111"):
        app.parking.check_in(attendant, lot.id, plate)
    window = open_kiosk()
    sign_in(qtbot, window, "staff", "attendant1")
    window.go("find")
    find = window.screens["find"]

    qtbot.keyClicks(find.vehicle, "kv548")
    qtbot.keyClick(find.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(find.choice_buttons) == 2)
    wait_idle(qtbot, window)
    assert find.found is None and find.choices.isVisible()
    assert [b.text().split("\n")[0] for b in find.choice_buttons] == ["KV548AB", "KV548DQ"]
    assert find.banner.text == "2 vehicles match: choose one."

    qtbot.mouseClick(find.choice_buttons[1], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: find.found is not None)
    wait_idle(qtbot, window)
    assert find.found is not None and find.found.booking.vehicle_number == "KV548DQ"
    assert find.spot.number.text() == "P001"
    assert not find.choices.isVisible() and find.choice_buttons == []

    find.vehicle.clear()
    qtbot.keyClicks(find.vehicle, "Z1")
    qtbot.keyClick(find.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: find.found is not None
                    and find.found.booking.vehicle_number == "ZZ111")
    assert find.choice_buttons == []

    find.vehicle.clear()
    qtbot.keyClicks(find.vehicle, "QQ9")
    qtbot.keyClick(find.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(find.banner.text))
    assert find.banner.text == "No vehicle checked in has QQ9 in its number."


def test_duplicate_check_in_says_where_the_vehicle_is(
    app: App, manager: Actor, attendant: Actor, clock: object,
) -> None:
    lot = make_lot(app, manager, name="City Center")
    booking = app.parking.check_in(attendant, lot.id, "KV548DQ")
    other = make_lot(app, manager, name="Long Stay")
    local = booking.parked_at.astimezone(app.settings.tz) if booking.parked_at else None
    assert local is not None
    with pytest.raises(ConflictError) as refused:
        app.parking.check_in(attendant, other.id, "kv-548 dq")
    assert str(refused.value) == (
        "Vehicle KV548DQ already has an open booking: parked in City Center, spot "
        f"{booking.spot_number}, since {local:%H:%M}.")


def test_partial_find_is_for_staff(app: App, driver: Actor) -> None:
    from parking_desktop.domain.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        app.parking.find_open_by_partial(driver, "AB")
