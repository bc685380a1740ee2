"""The tariff editor (Lots → Tariff…): problems next to their field or row, the calculator
agrees with the rate engine, a refusal stays in the dialog, what-if runs with progress and
Cancel and gives the buttons back."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDateTime, QSize, Qt
from PySide6.QtWidgets import QLineEdit, QScrollArea
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.tariffs import (
    TariffError,
    TariffVersion,
    quote,
    tariff_from_json,
)
from parking_desktop.services.tariffs.simulation import (
    Cancelled,
    LotSimulation,
    Progress,
    SimulationCancelled,
    SimulationResult,
)
from parking_desktop.ui.common.fee_lines import amount_text
from parking_desktop.ui.desktop.lots import LotsScreen
from parking_desktop.ui.desktop.tariffs.editor import TariffEditor
from parking_desktop.ui.desktop.tariffs.week_grid import CLASH, GAP
from tests.ui.conftest import Desk, make_lot, session_for

PARIS = ZoneInfo("Europe/Paris")
DAY_NIGHT = {
    "currency": "EUR",
    "effective_from": "2026-01-01T00:00:00+01:00",
    "increment_minutes": 15,
    "minimum_minutes": 60,
    "grace_minutes": 10,
    "daily_maximum": "20.00",
    "holidays": ["2026-05-01"],
    "bands": [
        {
            "name": "day rate",
            "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "start": "08:00",
            "end": "20:00",
            "price_per_hour": "3.50",
        },
        {
            "name": "night rate",
            "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "start": "20:00",
            "end": "24:00",
            "price_per_hour": "1.20",
        },
        {
            "name": "night rate",
            "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
            "start": "00:00",
            "end": "08:00",
            "price_per_hour": "1.20",
        },
        {
            "name": "night rate",
            "days": ["Sat", "Sun"],
            "start": "00:00",
            "end": "00:00",
            "price_per_hour": "1.20",
        },
    ],
}


@dataclass
class StandIn:
    """Stands in for the tariff service (being built on its own branch): it holds the
    versions in memory, refuses what it is told to and simulates in steps that honour
    Cancel."""

    version: TariffVersion
    refusal: Exception | None = None
    saved: list[TariffVersion] = field(default_factory=list)
    steps: int = 50
    release: threading.Event = field(default_factory=threading.Event)

    def current(self, lot_id: int) -> TariffVersion:
        return self.version

    def save(self, lot_id: int, version: TariffVersion, actor: Actor) -> int:
        if self.refusal is not None:
            raise self.refusal
        self.saved.append(version)
        return len(self.saved) + 1

    def simulate(
        self,
        lot_id: int | None,
        draft: TariffVersion,
        days: int,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> SimulationResult:
        assert progress is not None and cancelled is not None and lot_id is not None
        for step in range(self.steps):
            if cancelled():
                raise SimulationCancelled
            progress(step * 1000, self.steps * 1000)
            self.release.wait(0.05)
        hours = tuple(Decimal(hour - 12) for hour in range(24))
        lot = LotSimulation(
            lot_id,
            "Central Station",
            12_345,
            Decimal("1000.00"),
            Decimal("1100.50"),
            7000,
            5000,
            345,
            hours,
            (0,) * 24,
        )
        now = datetime(2026, 3, 2, tzinfo=PARIS)
        return SimulationResult(now - timedelta(days=days), now, days, "EUR", (lot,))


def _editor(
    app: App, qtbot: QtBot, manager: Actor, backend: StandIn, screen: tuple[int, int] = (1280, 800)
) -> TariffEditor:
    lot = make_lot(app, manager)
    editor = TariffEditor(session_for(app, manager), lot, backend=backend)
    editor.fit_to_screen(QSize(*screen))
    editor.show()
    qtbot.waitExposed(editor)
    qtbot.waitUntil(lambda: editor.current is not None)
    return editor


def _line(editor: TariffEditor, key: str) -> QLineEdit:
    edit = editor.fields[key].editor
    assert isinstance(edit, QLineEdit)
    return edit


def _type(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def _cell(editor: TariffEditor, row: int, column: int, text: str) -> None:
    item = editor.bands.item(row, column)
    assert item is not None
    item.setText(text)


def _settle(qtbot: QtBot, editor: TariffEditor) -> None:
    qtbot.waitUntil(lambda: not editor._reread.isActive())


def test_only_managers_see_the_tariff_button(
    app: App, desk: Desk, manager: Actor, attendant: Actor
) -> None:
    make_lot(app, manager)
    assert desk.open(LotsScreen, manager).tariff_button.isVisibleTo(desk.windows[-1])
    assert not desk.open(LotsScreen, attendant).tariff_button.isVisibleTo(desk.windows[-1])


def test_the_lots_screen_opens_the_lots_tariff(
    app: App, qtbot: QtBot, desk: Desk, manager: Actor
) -> None:
    screen = desk.screen(manager, "lots")
    lot = make_lot(app, manager, price="2.80")
    screen.refresh()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1)
    screen.select_lot(lot.id)
    qtbot.mouseClick(screen.tariff_button, Qt.MouseButton.LeftButton)
    editor = screen.tariff_editor
    assert isinstance(editor, TariffEditor)
    qtbot.waitUntil(lambda: editor.current is not None)
    # A lot that never had a tariff of its own: its flat price, one band all week.
    assert editor.bands.bands()[0].price_per_hour == "2.80"
    assert editor.bands.bands()[0].days == "every day"
    editor.reject()


def test_problems_are_shown_next_to_their_field_or_row(
    app: App, qtbot: QtBot, manager: Actor
) -> None:
    editor = _editor(app, qtbot, manager, StandIn(tariff_from_json(DAY_NIGHT)))
    assert editor.save_button.isEnabled()
    assert editor.bands.rowCount() == 4
    _type(qtbot, _line(editor, "increment_minutes"), "0")
    _type(qtbot, _line(editor, "daily_maximum"), "-4")
    _cell(editor, 1, 3, "-1.20")  # the night band's price
    _settle(qtbot, editor)
    assert editor.problem_at("increment_minutes") == "must be at least 1 min"
    assert editor.problem_at("daily_maximum") == "-4 is negative"
    assert editor.problem_at("bands[1]") == "Price / h: -1.20 is negative"
    assert editor.problem_at("bands[0]") == ""  # the day band is fine
    assert editor.problem_at("grace_minutes") == ""
    assert not editor.save_button.isEnabled()
    assert editor.calculator.priced is None  # no price for a tariff with problems
    assert not editor.whatif.run_button.isEnabled()

    # An overlap and a gap are about the bands together: shown under the table.
    _type(qtbot, _line(editor, "increment_minutes"), "15")
    _type(qtbot, _line(editor, "daily_maximum"), "")
    _cell(editor, 1, 3, "1.20")
    _cell(editor, 0, 2, "21:00")  # day rate now runs into the night band
    _settle(qtbot, editor)
    assert editor.problem_at("bands") == "Mon 08:00–21:00 overlaps Mon 20:00–00:00"
    assert any(CLASH in row for row in editor.grid.slots)
    _cell(editor, 0, 2, "19:00")
    _settle(qtbot, editor)
    assert editor.problem_at("bands") == "nothing covers Mon 19:00–20:00"
    assert editor.grid.slots[0][76] == GAP  # Monday 19:00 in quarter hours
    _cell(editor, 0, 1, "8h7")  # an unreadable time: at its row, the others still read
    _settle(qtbot, editor)
    assert editor.problem_at("bands[0]") == "Start: '8h7' is not a time (HH:MM)"

    # Corrected: no message anywhere, Save enabled again.
    _cell(editor, 0, 1, "08:00")
    _cell(editor, 0, 2, "20:00")
    _settle(qtbot, editor)
    assert all(not editor.problem_at(key) for key in editor.fields)
    assert editor.problem_at("bands") == ""
    assert editor.save_button.isEnabled()
    editor.reject()


def test_the_calculator_gives_the_rate_engines_quote_with_its_lines(
    app: App, qtbot: QtBot, manager: Actor
) -> None:
    editor = _editor(app, qtbot, manager, StandIn(tariff_from_json(DAY_NIGHT)))
    calculator = editor.calculator
    # Monday 18:10 to Tuesday 19:00 (Paris): two bands, and the daily maximum.
    calculator.arrive.setDateTime(QDateTime(datetime(2026, 3, 2, 18, 10)))
    calculator.leave.setDateTime(QDateTime(datetime(2026, 3, 3, 19, 0)))
    version = editor.reading.version
    assert version is not None
    expected = quote(
        version,
        datetime(2026, 3, 2, 18, 10, tzinfo=PARIS),
        datetime(2026, 3, 3, 19, 0, tzinfo=PARIS),
        PARIS,
    )
    assert calculator.priced == expected
    assert calculator.total_amount() == "€23.50"
    # The rate engine's lines, each amount in the site's currency.
    assert calculator.rows == [(line.label, amount_text(line.amount)) for line in expected.lines]
    assert any("daily maximum applied" in text for text, _ in calculator.rows)
    assert "€23.50" in calculator.total.text()

    # Live as the tariff is edited: a higher day rate, a new price at once.
    _cell(editor, 0, 3, "4.00")
    _settle(qtbot, editor)
    edited = editor.reading.version
    assert edited is not None and edited != version
    assert calculator.priced == quote(
        edited,
        datetime(2026, 3, 2, 18, 10, tzinfo=PARIS),
        datetime(2026, 3, 3, 19, 0, tzinfo=PARIS),
        PARIS,
    )
    # Within the grace period: free, and it says why.
    calculator.leave.setDateTime(QDateTime(datetime(2026, 3, 2, 18, 15)))
    assert calculator.total_amount() == "€0.00"
    assert calculator.rows[0][0].startswith("grace period")
    editor.reject()


def test_a_saved_tariff_is_the_one_on_the_form(app: App, qtbot: QtBot, manager: Actor) -> None:
    backend = StandIn(tariff_from_json(DAY_NIGHT))
    editor = _editor(app, qtbot, manager, backend)
    _type(qtbot, _line(editor, "grace_minutes"), "5")
    _settle(qtbot, editor)
    with qtbot.waitSignal(editor.accepted, timeout=15_000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    (saved,) = backend.saved
    assert saved.grace == timedelta(minutes=5)
    assert saved.bands == tariff_from_json(DAY_NIGHT).bands
    assert editor.saved_version == 2


def test_a_refusal_is_shown_in_the_editor_next_to_its_field(
    app: App, qtbot: QtBot, manager: Actor
) -> None:
    backend = StandIn(
        tariff_from_json(DAY_NIGHT),
        refusal=TariffError("effective_from", "a version already used cannot start in the past"),
    )
    editor = _editor(app, qtbot, manager, backend)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor._save_op is None)
    assert editor.isVisible()
    assert editor.problem_at("effective_from") == (
        "a version already used cannot start in the past"
    )
    assert editor.banner.text == "The tariff was not saved: see the message below."
    assert editor.save_button.isEnabled()  # corrected, it can be saved again
    assert backend.saved == []
    # Changing the date withdraws the refusal's message.
    editor.effective.setDateTime(editor.effective.dateTime().addDays(1))
    _settle(qtbot, editor)
    assert editor.problem_at("effective_from") == ""

    # A refusal about no field (roles, a conflict): in the dialog's banner.
    backend.refusal = ConflictError("Only a manager can change a tariff.")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor._save_op is None)
    assert editor.banner.text == ("The tariff was not saved. Only a manager can change a tariff.")
    editor.reject()


def test_what_if_shows_progress_and_cancel_gives_the_buttons_back(
    app: App, qtbot: QtBot, manager: Actor
) -> None:
    backend = StandIn(tariff_from_json(DAY_NIGHT), steps=400)
    editor = _editor(app, qtbot, manager, backend)
    panel = editor.whatif
    editor.tabs.setCurrentIndex(1)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.progress.maximum() == 400_000 and panel.progress.value() > 0)
    assert panel.progress.isVisible()
    assert not panel.run_button.isEnabled()
    assert not editor.save_button.isEnabled()
    assert panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running)
    assert panel.status.text() == "Cancelled: nothing was repriced."
    assert panel.run_button.isEnabled() and editor.save_button.isEnabled()
    assert not panel.cancel_button.isEnabled() and not panel.progress.isVisible()
    assert panel.values["now"].text() == "—"

    backend.steps = 3
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.result is not None, timeout=15_000)
    assert panel.values["now"].text() == "€1,000.00"
    assert panel.values["draft"].text() == "€1,100.50"
    assert panel.values["change"].text() == "+€100.50"
    assert panel.values["percent"].text() == "+10.1 %"
    assert (panel.values["more"].text(), panel.values["less"].text()) == ("7,000", "5,000")
    assert panel.chart.chart().series()[0].barSets()[0].at(0) == -12
    assert panel.run_button.isEnabled() and editor.save_button.isEnabled()
    editor.reject()


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_the_editor_fits_common_screens(
    app: App, qtbot: QtBot, manager: Actor, size: tuple[int, int], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    editor = _editor(app, qtbot, manager, StandIn(tariff_from_json(DAY_NIGHT)), screen=size)
    qtbot.wait(50)
    shots = os.environ.get("TARIFF_SHOTS")
    for tab in range(2):
        editor.tabs.setCurrentIndex(tab)
        qtbot.wait(20)
        if shots:
            editor.grab().save(f"{shots}/editor-{size[0]}-{tab}.png")
    if shots:
        editor.tabs.setCurrentIndex(0)
        bar = editor.tabs.widget(0).verticalScrollBar()  # type: ignore[attr-defined]
        bar.setValue(bar.maximum())
        qtbot.wait(20)
        editor.grab().save(f"{shots}/editor-{size[0]}-0-bottom.png")
        editor.tabs.setCurrentIndex(1)
        editor.whatif.backend.steps = 1  # type: ignore[attr-defined]
        editor.whatif.run()
        qtbot.waitUntil(lambda: editor.whatif.result is not None)
        qtbot.wait(20)
        editor.grab().save(f"{shots}/editor-{size[0]}-1-result.png")
    # Nothing is cut sideways; on a large screen nothing needs scrolling either.
    editor.tabs.setCurrentIndex(0)
    qtbot.wait(20)
    scroll = editor.tabs.widget(0)
    assert isinstance(scroll, QScrollArea)
    assert not scroll.horizontalScrollBar().isVisible()
    assert scroll.verticalScrollBar().isVisible() == (size[1] < 1000)
    assert editor.width() <= size[0] and editor.height() <= size[1]
    editor.reject()


def test_empty_or_unreadable_numbers_are_named_at_their_field(
    app: App, qtbot: QtBot, manager: Actor
) -> None:
    editor = _editor(app, qtbot, manager, StandIn(tariff_from_json(DAY_NIGHT)))
    _type(qtbot, _line(editor, "increment_minutes"), "")
    _type(qtbot, _line(editor, "minimum_minutes"), "1.5")
    _type(qtbot, _line(editor, "grace_minutes"), "2000")
    _type(qtbot, _line(editor, "holidays"), "2026-12-25, 2026-02-30")
    _cell(editor, 3, 0, "Sat, Sunday, Fun")
    _settle(qtbot, editor)
    assert editor.problem_at("increment_minutes") == "give a number of minutes, or 'exact'"
    assert editor.problem_at("minimum_minutes") == "'1.5' is not a whole number of minutes"
    assert editor.problem_at("holidays") == "'2026-02-30' is not a date (YYYY-MM-DD)"
    assert editor.problem_at("bands[3]") == (
        "Days: 'fun' is not a day; use Mon, Tue, Wed, Thu, Fri, Sat, Sun"
    )
    assert not editor.save_button.isEnabled()
    # Readable now: the domain's own rules speak (grace at most a day).
    _type(qtbot, _line(editor, "increment_minutes"), "exact")
    _type(qtbot, _line(editor, "minimum_minutes"), "60")
    _type(qtbot, _line(editor, "holidays"), "2026-12-25")
    _cell(editor, 3, 0, "Sat-Sun")
    _settle(qtbot, editor)
    assert editor.problem_at("grace_minutes") == "2000 min is more than 24 h"
    assert editor.problem_at("bands[3]") == ""
    editor.reject()


def _real_editor(
    app: App, qtbot: QtBot, manager: Actor, lot_name: str = "Central Station"
) -> tuple[TariffEditor, int]:
    lot = make_lot(app, manager, lot_name)
    editor = TariffEditor(session_for(app, manager), lot)  # the app's TariffService
    editor.fit_to_screen(QSize(1280, 800))
    editor.show()
    qtbot.waitExposed(editor)
    qtbot.waitUntil(lambda: editor.current is not None)
    return editor, lot.id


def _fill(editor: TariffEditor, qtbot: QtBot, version: TariffVersion) -> None:
    """Put ``version``'s bands and fields on the form (as a manager would type them)."""
    from parking_desktop.ui.desktop.tariffs.draft import band_text, minutes_text

    editor.bands.set_bands([band_text(band) for band in version.bands])
    for key, text in (
        ("increment_minutes", minutes_text(version.increment)),
        ("minimum_minutes", minutes_text(version.minimum)),
        ("grace_minutes", minutes_text(version.grace)),
        ("daily_maximum", str(version.daily_maximum or "")),
        ("holidays", ", ".join(str(d) for d in sorted(version.holidays))),
    ):
        _type(qtbot, _line(editor, key), text)
    _settle(qtbot, editor)


def test_saving_makes_a_new_version_of_the_lots_tariff(
    app: App, qtbot: QtBot, manager: Actor
) -> None:
    editor, lot_id = _real_editor(app, qtbot, manager)
    _fill(editor, qtbot, tariff_from_json(DAY_NIGHT))
    # In force from now (the clock's Monday 10:00 in Paris): the service takes it at once.
    editor.effective.setDateTime(QDateTime(datetime(2026, 3, 2, 10, 0)))
    _settle(qtbot, editor)
    with qtbot.waitSignal(editor.accepted, timeout=15_000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    current = app.tariffs.current(lot_id)
    assert current.bands == tariff_from_json(DAY_NIGHT).bands
    assert current.daily_maximum == Decimal("20.00")
    assert current.effective_from == datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
    assert editor.saved_version == app.tariffs.versions(lot_id)[-1].id


def test_the_services_refusal_of_a_past_date_is_shown_under_the_date(
    app: App, qtbot: QtBot, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    editor, lot_id = _real_editor(app, qtbot, manager)  # its first version: from 10:00
    app.parking.check_in(attendant, lot_id, "AB 12 CD")  # the version in force is now used
    clock.advance(hours=1)
    _fill(editor, qtbot, tariff_from_json(DAY_NIGHT))
    editor.effective.setDateTime(QDateTime(datetime(2026, 3, 2, 10, 30)))  # half an hour ago
    _settle(qtbot, editor)
    assert editor.problem_at("effective_from") == ""  # the form cannot know: the service says
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor._save_op is None, timeout=15_000)
    assert editor.isVisible()
    assert editor.problem_at("effective_from") == (
        "2026-03-02 10:30 is in the past and the version in force has already priced stays; "
        "a new version can start now or later"
    )
    assert editor.save_button.isEnabled()
    assert len(app.tariffs.versions(lot_id)) == 1  # nothing saved
    editor.reject()


def test_what_if_shows_the_services_figures_for_the_lot(
    app: App, qtbot: QtBot, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    editor, lot_id = _real_editor(app, qtbot, manager)
    for plate, hours in (("AA111", 1), ("BB222", 3), ("CC333", 10)):
        app.parking.check_in(attendant, lot_id, plate)
        clock.advance(hours=hours)
        app.parking.check_out(attendant, plate)
    clock.advance(minutes=1)  # the last stay has ended before "now"
    _fill(editor, qtbot, tariff_from_json(DAY_NIGHT))
    draft = editor.reading.version
    assert draft is not None
    editor.tabs.setCurrentIndex(1)
    qtbot.mouseClick(editor.whatif.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.whatif.result is not None, timeout=15_000)
    (expected,) = app.tariffs.simulate(lot_id, draft, 30).lots
    shown = editor.whatif.values
    assert shown["stays"].text() == "3"
    assert shown["now"].text() == f"€{expected.revenue_now:,.2f}"
    assert shown["draft"].text() == f"€{expected.revenue_draft:,.2f}"
    assert (shown["more"].text(), shown["less"].text(), shown["same"].text()) == (
        str(expected.more),
        str(expected.less),
        str(expected.same),
    )
    bars = editor.whatif.chart.chart().series()[0].barSets()[0]
    assert [bars.at(h) for h in range(24)] == [float(v) for v in expected.change_by_hour]
    editor.reject()
