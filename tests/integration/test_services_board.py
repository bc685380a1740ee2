"""The entrance board's reads, on SQLite and PostgreSQL: which lots a board shows and how many
spots each has free (booked, parked and retired spots are not free)."""

from __future__ import annotations

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import NotFoundError, ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking.board import BoardService
from tests.ui.conftest import make_lot


def test_lots_are_found_by_name_or_pin_in_the_order_given_each_once(
    app: App, manager: Actor
) -> None:
    central = make_lot(app, manager, "Central Station", spots=4)
    river = app.lots.create(manager, name="Riverside", address="2 Quai", pin_code="RIV02",
                            price_per_hour="2.00", number_of_spots=3)
    board = BoardService(app.ctx)

    lots = board.lots_named(["riverside", "  central   station ", "RIV02"])

    assert [(lot.id, lot.name, lot.free, lot.total) for lot in lots] == [
        (river.id, "Riverside", 3, 3), (central.id, "Central Station", 4, 4)]
    assert lots[0].open and not lots[0].full


def test_booked_parked_and_retired_spots_are_not_free(
    app: App, manager: Actor, driver: Actor
) -> None:
    lot = make_lot(app, manager, "Central Station", spots=6)
    app.parking.check_in(manager, lot.id, "AB123")  # parked
    app.parking.reserve(driver, lot.id, "CD456")  # booked, not yet parked
    app.lots.resize(manager, lot.id, 4)  # two spots retired (the highest, both free)
    board = BoardService(app.ctx)

    [figure] = board.free_spots([lot.id])

    assert (figure.free, figure.total) == (2, 4)


def test_a_full_lot_is_full_and_an_archived_one_closed(app: App, manager: Actor) -> None:
    full = make_lot(app, manager, "Small", spots=1)
    app.parking.check_in(manager, full.id, "AB123")
    gone = app.lots.create(manager, name="Old Yard", address="3 Rue", pin_code="OLD03",
                           price_per_hour="1.00", number_of_spots=2)
    board = BoardService(app.ctx)
    lots = board.lots_named(["Small", "Old Yard"])
    app.lots.archive(manager, gone.id)

    small, yard = board.free_spots([lot.id for lot in lots])

    assert small.full and small.free == 0
    assert not yard.open and not yard.full


def test_an_unknown_or_empty_name_is_refused_naming_it(app: App, manager: Actor) -> None:
    make_lot(app, manager, "Central Station")
    board = BoardService(app.ctx)
    with pytest.raises(NotFoundError, match="no active parking lot named 'Nowhere'"):
        board.lots_named(["Central Station", "Nowhere"])
    with pytest.raises(ValidationError, match="empty"):
        board.lots_named(["  "])
