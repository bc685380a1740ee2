"""The desktop's table models pass Qt's model tester, and the paged model fetches, sorts and
drops stale pages as it should."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.views import Page
from parking_desktop.ui.common.table import ROW_ROLE, SORT_ROLE, PagedTableModel
from parking_desktop.ui.desktop.models import (
    ActivityModel,
    LotsModel,
    PeopleModel,
    RecentReservationsModel,
    ReservationsModel,
    describe_activity,
)
from parking_desktop.ui.desktop.spot_grid import SpotModel
from tests.conftest import START
from tests.ui.conftest import make_lot

PARIS = ZoneInfo("Europe/Paris")


def fetch_all(qtbot: QtBot, model: PagedTableModel) -> None:  # type: ignore[type-arg]
    """Scroll to the end, as a view would: fetch more until there is no more."""
    while True:
        qtbot.waitUntil(lambda: not model.loading)
        if not model.canFetchMore():
            return
        model.fetchMore()


@pytest.fixture
def history(app: App, manager: Actor, attendant: Actor, clock: FixedClock) -> list[int]:
    """Eleven stays (ten completed, one parked now) in two lots."""
    lots = [make_lot(app, manager, "Central Station", 4), make_lot(app, manager, "Old Town", 4)]
    ids = []
    for n in range(11):
        booking = app.parking.check_in(attendant, lots[n % 2].id, f"CAR{n:03d}")
        ids.append(booking.id)
        clock.advance(hours=1, minutes=n)
        if n < 10:
            app.parking.check_out(attendant, f"CAR{n:03d}")
    return ids


def test_lots_people_spots_and_recent_models(
        app: App, qtbot: QtBot, qtmodeltester, manager: Actor, history: list[int]) -> None:  # type: ignore[no-untyped-def]
    lots = LotsModel()
    lots.set_rows(app.lots.search())
    qtmodeltester.check(lots, force_py=True)
    assert lots.index(0, LotsModel.NAME).data() == "Central Station"
    assert lots.index(0, LotsModel.PRICE).data() == "€2.50"
    assert lots.index(0, LotsModel.PRICE).data(SORT_ROLE) == 2.5
    assert lots.index(0, LotsModel.OCCUPIED).data() == "1"
    assert lots.index(0, LotsModel.OCCUPANCY).data() == "25.0 %"
    assert lots.index(0, 0).data(ROW_ROLE).name == "Central Station"
    assert lots.headerData(LotsModel.FREE, Qt.Orientation.Horizontal) == "Free"

    spots = SpotModel()
    spots.set_rows(app.parking.spots(manager, lots.row_at(0).id))
    qtmodeltester.check(spots, force_py=True)
    assert spots.index(0).data(Qt.ItemDataRole.AccessibleTextRole).startswith("P001: ")

    recent = RecentReservationsModel(PARIS, lambda: START + timedelta(hours=20))
    recent.set_rows(app.stats.dashboard(manager).recent)
    qtmodeltester.check(recent, force_py=True)
    assert recent.rowCount() == 5

    people = PeopleModel(PARIS, page_size=1)
    qtmodeltester.check(people, force_py=True)
    people.set_query(lambda offset, limit, _s, _d: app.users.search(
        manager, offset=offset, limit=limit))
    fetch_all(qtbot, people)  # page size 1: three fetches (the last one is empty)
    assert [u.username for u in people.rows()] == ["attendant1", "manager1"]
    assert people.total == 2


def test_reservations_are_paged_sorted_by_the_database_and_never_mixed(
        app: App, qtbot: QtBot, qtmodeltester, manager: Actor, history: list[int]) -> None:  # type: ignore[no-untyped-def]
    model = ReservationsModel(PARIS, page_size=4)
    qtmodeltester.check(model, force_py=True)
    calls: list[tuple[int, int, str, bool]] = []

    def fetch(offset: int, limit: int, sort: str, descending: bool) -> Page:  # type: ignore[type-arg]
        calls.append((offset, limit, sort, descending))
        return app.search.reservations(manager, ReservationFilter(), sort=sort,
                                       descending=descending, offset=offset, limit=limit,
                                       with_total=False)

    model.set_query(fetch, lambda: app.search.reservations(
        manager, ReservationFilter(), limit=1).total)
    qtbot.waitUntil(lambda: model.rowCount() == 4 and model.total == 11)
    assert calls == [(0, 4, "reserved_at", True)]
    assert [r.id for r in model.rows()] == history[::-1][:4]  # newest first
    fetch_all(qtbot, model)
    assert [r.id for r in model.rows()] == history[::-1]
    assert [c[0] for c in calls] == [0, 4, 8]

    model.sort(ReservationsModel.VEHICLE, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: model.rowCount() == 4 and not model.loading)
    assert calls[-1] == (0, 4, "vehicle_number", False)
    assert [r.vehicle_number for r in model.rows()] == ["CAR000", "CAR001", "CAR002", "CAR003"]
    model.sort(ReservationsModel.PRICE, Qt.SortOrder.AscendingOrder)  # not sortable: ignored
    assert calls[-1] == (0, 4, "vehicle_number", False)

    # A newer query wins even if the older one answers later.
    model.set_query(fetch)
    model.set_query(lambda o, limit, s, d: app.search.reservations(
        manager, ReservationFilter(vehicle="CAR007"), offset=o, limit=limit))
    qtbot.waitUntil(lambda: model.total == 1)
    from tests.ui.conftest import drain

    drain()
    assert [r.vehicle_number for r in model.rows()] == ["CAR007"]


def test_activity_model_and_readable_details(
        app: App, qtbot: QtBot, qtmodeltester, manager: Actor, history: list[int]) -> None:  # type: ignore[no-untyped-def]
    model = ActivityModel(PARIS, page_size=10)
    model.set_query(lambda offset, limit, _s, _d: app.activity.history(
        manager, activity_type="booking_completed", offset=offset, limit=limit))
    qtbot.waitUntil(lambda: model.rowCount() == 10)
    qtmodeltester.check(model, force_py=True)
    assert model.total == 10
    assert not model.canFetchMore()
    details = model.index(0, ActivityModel.DETAILS).data()
    assert details.startswith(f"reservation #{history[9]} · Old Town P")
    assert "CAR009" in details and "fee " in details
    assert describe_activity({"lot_id": 3, "before": {"price_per_hour": "2.00", "name": "A"},
                              "after": {"price_per_hour": "2.50", "name": "A"}}) == (
        "price per hour 2.00 → 2.50")
    assert describe_activity({"before": "2.00", "after": "2.50", "lot": "A"}) == "A · 2.00 → 2.50"
    assert describe_activity({"attempts": 2}) == "failed attempt 2"
    assert describe_activity({}) == ""
