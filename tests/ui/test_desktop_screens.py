"""Dashboard figures and the Reservations search (filters, dates in the site's time zone)."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking import search
from parking_desktop.ui.desktop.reservations import ReservationsScreen
from tests.ui.conftest import Desk, make_lot


def _vehicles(screen: ReservationsScreen) -> list[str]:
    return [r.vehicle_number for r in screen.model.rows()]


def _seed(app: App, manager: Actor, attendant: Actor, driver: Actor, clock: FixedClock) -> None:
    """Mon 2 March 09:00 UTC: AA111 completed in Central (2 h at 2.50); Tue: BB222 parked in
    Old Town; driver1's DR1V3R reserved in Central."""
    central = make_lot(app, manager, "Central Station", spots=4, price="2.50")
    town = make_lot(app, manager, "Old Town", spots=2, price="4.00")
    app.parking.check_in(attendant, central.id, "AA111")
    clock.advance(hours=2)
    app.parking.check_out(attendant, "AA111")
    clock.advance(days=1)
    app.parking.check_in(attendant, town.id, "BB222")
    app.parking.reserve(driver, central.id, "DR1V3R")


def test_dashboard_figures(app: App, qtbot: QtBot, desk: Desk, manager: Actor,
                           attendant: Actor, driver: Actor, clock: FixedClock) -> None:
    _seed(app, manager, attendant, driver, clock)
    window = desk.window(manager)
    screen = window.current_screen
    assert screen is not None
    figures = {key: tile.text for key, tile in screen.tiles.items()}
    assert figures == {
        "lots": "2", "spots": "6", "available": "4", "reserved": "1", "occupied": "1",
        "occupancy": "33.3 %", "drivers": "1", "active": "2", "revenue_month": "€5.00",
        "revenue_total": "€5.00"}
    assert screen.recent_model.rowCount() == 3
    assert screen.recent_model.row_at(0).vehicle_number == "DR1V3R"
    rows = screen.occupancy_chart.rows  # percent full (reserved or occupied), fullest first
    assert [(r.label, round(r.percent)) for r in rows] == [("Old Town", 50),
                                                           ("Central Station", 25)]
    hours = screen.hours_chart.chart().series()[0].barSets()[0]
    assert sum(hours.at(i) for i in range(hours.count())) == 3


def test_reservation_search_by_vehicle_driver_lot_status_and_dates(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor, driver: Actor,
        clock: FixedClock) -> None:
    _seed(app, manager, attendant, driver, clock)
    screen = desk.screen(manager, "reservations")
    qtbot.waitUntil(lambda: screen.model.total == 3)
    assert _vehicles(screen) == ["DR1V3R", "BB222", "AA111"]  # newest first
    assert screen.footer.text() == "3 reservations"

    qtbot.keyClicks(screen.vehicle, "bb-2")  # normalised like the service does
    qtbot.keyClick(screen.vehicle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _vehicles(screen) == ["BB222"])
    screen.vehicle.clear()
    qtbot.keyClicks(screen.driver, "DRIVER1@")
    qtbot.keyClick(screen.driver, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _vehicles(screen) == ["DR1V3R"])
    screen.driver.clear()
    screen.status.setCurrentIndex(screen.status.findData("completed"))
    screen.search()
    qtbot.waitUntil(lambda: _vehicles(screen) == ["AA111"])
    screen.status.setCurrentIndex(0)
    qtbot.waitUntil(lambda: screen.lot.count() == 3)
    screen.lot.setCurrentIndex(screen.lot.findText("Old Town"))
    screen.search()
    qtbot.waitUntil(lambda: _vehicles(screen) == ["BB222"])
    screen.lot.setCurrentIndex(0)
    # Dates are whole days in Paris time: 2 March only.
    screen.since.set_value(date(2026, 3, 2))
    screen.until.set_value(date(2026, 3, 2))
    qtbot.waitUntil(lambda: _vehicles(screen) == ["AA111"])
    screen.since.set_value(date(2026, 3, 5))
    qtbot.waitUntil(lambda: screen.banner.text == "The start date must be before the end date.")
    qtbot.mouseClick(screen.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_vehicles(screen)) == 3)
    assert not screen.banner.text


def test_a_huge_result_shows_its_rows_and_a_bounded_count(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor, driver: Actor,
        clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the count's cap the footer says "more than" (or PostgreSQL's "about"), never a
    figure the database did not count; once every row is loaded, it says how many."""
    _seed(app, manager, attendant, driver, clock)
    monkeypatch.setattr(search, "COUNT_CAP", 1)  # Central Station has 2 reservations
    screen = desk.screen(manager, "reservations")
    screen.model.page_size = 1
    qtbot.waitUntil(lambda: screen.lot.count() == 3)
    screen.lot.setCurrentIndex(screen.lot.findText("Central Station"))
    screen.search()
    qtbot.waitUntil(lambda: screen.model.total > 0 and screen.model.rowCount() == 1)
    text = screen.footer.text()
    if app.db.is_sqlite:
        assert text == "Showing 1 of more than 1 reservations · scroll down to load more"
    else:
        assert "of more than 1 reservations" in text or "of about " in text, text
    screen.model.fetchMore()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2 and not screen.model.loading)
    screen.model.fetchMore()  # the empty page that says there is no more
    qtbot.waitUntil(lambda: screen.footer.text() == "2 reservations")


def test_sorting_a_column_asks_the_database(app: App, qtbot: QtBot, desk: Desk,
                                            manager: Actor, attendant: Actor, driver: Actor,
                                            clock: FixedClock) -> None:
    _seed(app, manager, attendant, driver, clock)
    screen = desk.screen(manager, "reservations")
    qtbot.waitUntil(lambda: screen.model.total == 3)
    screen.table.sortByColumn(screen.model.VEHICLE, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: _vehicles(screen) == ["AA111", "BB222", "DR1V3R"])
    screen.table.sortByColumn(screen.model.STATUS, Qt.SortOrder.AscendingOrder)
    # active, completed, reserved
    qtbot.waitUntil(lambda: _vehicles(screen) == ["BB222", "AA111", "DR1V3R"])
    assert screen.model.sort_column == screen.model.STATUS
