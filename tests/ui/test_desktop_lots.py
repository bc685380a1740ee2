"""Lots screen: create through the dialog (validated as you type), refusals shown in the dialog,
resize and archive."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.desktop.lot_dialogs import LotDialog, ResizeDialog
from parking_desktop.ui.desktop.lots import LotsScreen
from parking_desktop.ui.desktop.models import LotsModel
from tests.conftest import Unchanged
from tests.ui.conftest import Desk, make_lot


def _type(qtbot: QtBot, editor, text: str) -> None:  # type: ignore[no-untyped-def]
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)


def _table_names(screen: LotsScreen) -> list[str]:
    proxy = screen.proxy
    return [proxy.index(row, LotsModel.NAME).data() for row in range(proxy.rowCount())]


def test_a_lot_is_created_once_invalid_input_is_corrected(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor) -> None:
    screen = desk.screen(manager, "lots")
    qtbot.mouseClick(screen.new_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    assert isinstance(dialog, LotDialog)
    assert not dialog.ok_button.isEnabled()  # empty form
    _type(qtbot, dialog.name.editor, "Harbour Front")
    _type(qtbot, dialog.address.editor, "9 Quai des Docks, Le Havre")
    _type(qtbot, dialog.pin.editor, "76600")
    _type(qtbot, dialog.price.editor, "2.555")
    _type(qtbot, dialog.spots.editor, "6000")
    # Wrong as typed: the rule's own sentence under the field, and no way to submit.
    assert dialog.price.error.isVisible()
    assert dialog.price.error.text() == "Price per hour can have at most 2 decimals."
    assert dialog.spots.error.text() == "Number of spots must be between 1 and 5000."
    assert dialog.price.editor.property("invalid") is True
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.spots.editor, Qt.Key.Key_Return)  # Enter with errors: nothing saved
    assert dialog.isVisible() and not dialog.working
    assert app.lots.search() == []
    _type(qtbot, dialog.price.editor, "2.50")
    _type(qtbot, dialog.spots.editor, "12")
    assert not dialog.price.error.isVisible()
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        qtbot.keyClick(dialog.spots.editor, Qt.Key.Key_Return)
    (lot,) = app.lots.search()
    assert (lot.name, lot.pin_code, str(lot.price_per_hour), lot.number_of_spots) == (
        "Harbour Front", "76600", "2.50", 12)
    qtbot.waitUntil(lambda: _table_names(screen) == ["Harbour Front"])
    assert screen.banner.text == "Lot 'Harbour Front' created."
    assert screen.selected_lot() is not None and screen.selected_lot().id == lot.id


def test_the_services_refusal_is_shown_in_the_dialog(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, unchanged: Unchanged) -> None:
    make_lot(app, manager, "Harbour Front")
    screen = desk.screen(manager, "lots")
    screen.create_lot()
    dialog = screen.dialog
    assert isinstance(dialog, LotDialog)
    _type(qtbot, dialog.name.editor, "harbour   front")  # same name, other spelling
    _type(qtbot, dialog.address.editor, "Somewhere else")
    _type(qtbot, dialog.pin.editor, "ABC")
    _type(qtbot, dialog.price.editor, "3")
    _type(qtbot, dialog.spots.editor, "4")
    with unchanged():
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(dialog.banner.text))
    assert dialog.banner.text == "A lot named 'harbour front' already exists; choose another name."
    assert dialog.isVisible()
    qtbot.keyClick(dialog.name.editor, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_shrinking_past_a_busy_spot_is_refused_with_the_spot_named(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor) -> None:
    lot = make_lot(app, manager, spots=3)
    for plate in ("AA111", "BB222", "CC333"):
        app.parking.check_in(attendant, lot.id, plate)
    app.parking.check_out(attendant, "BB222")  # P002 free again; P003 still occupied
    screen = desk.screen(manager, "lots")
    screen.select_lot(lot.id)
    qtbot.mouseClick(screen.resize_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    assert isinstance(dialog, ResizeDialog)
    _type(qtbot, dialog.spots.editor, "1")
    qtbot.keyClick(dialog.spots.editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(dialog.banner.text))
    assert "occupied spot P003" in dialog.banner.text
    assert app.lots.get(lot.id).number_of_spots == 3
    _type(qtbot, dialog.spots.editor, "5")
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        qtbot.keyClick(dialog.spots.editor, Qt.Key.Key_Return)
    assert app.lots.get(lot.id).number_of_spots == 5


def test_archive_is_not_offered_for_a_busy_lot_and_asks_first_otherwise(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    busy = make_lot(app, manager, "Busy Lot")
    quiet = make_lot(app, manager, "Quiet Lot")
    app.parking.check_in(attendant, busy.id, "AA111")
    answers: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: answers.append(a[1]) or True)
    screen = desk.screen(manager, "lots")
    screen.select_lot(busy.id)
    assert not screen.archive_button.isEnabled()
    assert "1 occupied spot" in screen.archive_button.toolTip()
    assert "archived once every spot is free" in screen.archive_button.toolTip()
    assert "delet" not in screen.archive_button.toolTip().lower()
    screen.archive_lot()  # e.g. a shortcut: nothing is asked, nothing happens
    assert answers == []
    screen.select_lot(quiet.id)
    assert screen.archive_button.isEnabled()
    screen.archive_lot()
    qtbot.waitUntil(lambda: "archived" in screen.banner.text)
    assert screen.banner.kind == "success"
    qtbot.waitUntil(lambda: _table_names(screen) == ["Busy Lot"])
    assert answers == ["Archive lot"]
    assert [lot.name for lot in app.lots.search()] == ["Busy Lot"]
    screen.select_lot(busy.id)  # another lot: the message about the archived one goes
    assert screen.banner.text == ""


def test_a_refused_archive_says_archive_and_a_new_screen_drops_the_banner(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The list was loaded before a kiosk checked a car in: the service refuses."""
    busy = make_lot(app, manager, "Busy Lot")
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    window = desk.window(manager)
    screen = window.navigate("lots")
    qtbot.waitUntil(lambda: screen.loads > 0)
    screen.select_lot(busy.id)
    window.bridge.detach()  # the notice of the check-in does not arrive in time
    app.parking.check_in(attendant, busy.id, "AA111")
    screen.archive_lot()
    qtbot.waitUntil(lambda: bool(screen.banner.text))
    assert screen.banner.kind == "error"
    assert "can be archived once they are free" in screen.banner.text
    assert "delet" not in screen.banner.text.lower()
    window.navigate("spots")
    window.navigate("lots")
    assert screen.banner.text == ""


def test_search_filters_the_table(app: App, qtbot: QtBot, desk: Desk, manager: Actor) -> None:
    make_lot(app, manager, "Central Station")
    make_lot(app, manager, "Old Town")
    screen = desk.screen(manager, "lots")
    assert _table_names(screen) == ["Central Station", "Old Town"]
    qtbot.keyClicks(screen.search, "town")
    qtbot.keyClick(screen.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _table_names(screen) == ["Old Town"])


def test_the_price_field_takes_the_ceiling_of_the_sites_currency() -> None:
    from parking_desktop.domain.validation import ValidationError
    from parking_desktop.ui.desktop.lot_dialogs import price_rule

    # 1,500 an hour is a car park in Tokyo, not a typing mistake; in euros it is refused.
    assert str(price_rule("JPY")("1500")) == "1500.00"
    with pytest.raises(ValidationError):
        price_rule("EUR")("1500")
