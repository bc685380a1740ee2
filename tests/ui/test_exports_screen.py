"""The Exports screen, offscreen, on SQLite and PostgreSQL: request an export, watch it run,
cancel it, save it through the (replaced) save dialog, expiry and "Clean up now"."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.adapters import csv_export
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.exports.cleanup import CleanupSummary
from parking_desktop.services.exports.scope import ExportScope
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.desktop.export_table import ExportsModel
from parking_desktop.ui.desktop.exports_screen import ExportsScreen, default_save_folder
from tests.ui.conftest import Desk, make_lot, wait_for


@pytest.fixture
def parked(app: App, manager: Actor, attendant: Actor, clock: FixedClock) -> None:
    lot = make_lot(app, manager)
    app.parking.check_in(attendant, lot.id, "AB123CD")
    clock.advance(minutes=45)
    app.parking.check_out(attendant, "AB123CD")
    app.parking.check_in(attendant, lot.id, "ZZ999")


def status_of(screen: ExportsScreen, row: int = 0) -> str:
    return str(screen.model.index(row, ExportsModel.STATUS).data())


@pytest.mark.usefixtures("parked")
def test_request_then_save_through_the_save_dialog(
    desk: Desk, qtbot: QtBot, app: App, manager: Actor, tmp_path: Path
) -> None:
    screen = desk.open(ExportsScreen, manager)
    asked: list[str] = []
    target = tmp_path / "chosen by the user.csv"

    def choose(_parent: object, suggested: str) -> str:
        asked.append(suggested)
        return str(target)

    screen.choose_save_path = choose  # type: ignore[method-assign]
    assert screen.scope.currentData() == "all"
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: screen.model.rowCount() == 1 and status_of(screen) == "Ready")
    assert "Export started" in screen.banner.text
    assert screen.model.index(0, ExportsModel.ROWS).data() == "2"
    assert screen.model.index(0, ExportsModel.PROGRESS).data() == "100%"
    assert not screen.current_card.isVisible()

    screen.table.selectRow(0)
    assert screen.save_button.isEnabled()
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: screen.last_saved is not None)
    first = Path(asked[0])
    assert first.name.startswith("parking-export-2026-03-02-all-reservations")
    assert first.parent == default_save_folder()  # Documents/Downloads/home, never the cwd
    assert first.is_absolute()
    job = screen.model.row_at(0)
    assert job.file_path is not None
    assert target.read_bytes() == Path(job.file_path).read_bytes()
    assert target.read_bytes().startswith("\ufeffReservation ID,".encode())
    assert f"Saved 2 rows to {target}" in screen.banner.text
    # The next save opens where the last one went, also in a new window.
    again = desk.open(ExportsScreen, manager)
    again.choose_save_path = choose  # type: ignore[method-assign]
    again.table.selectRow(0)
    qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: again.last_saved is not None)
    assert Path(asked[1]).parent == tmp_path


@pytest.mark.usefixtures("parked")
def test_live_progress_and_cancel(
    desk: Desk, qtbot: QtBot, app: App, manager: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An export that would run for minutes (see tests/integration/test_export_jobs.py).
    sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
           "WHERE x < 4000000000) SELECT max(x), 'slow'{more} FROM c") if app.db.is_sqlite else (
        "SELECT i, pg_sleep(0.002)::text{more} FROM generate_series(1, 100000000) i")

    def endless(dialect: str, flt: object, options: csv_export.CsvOptions,
                span: object = None) -> str:
        # As many columns as the real SELECT (PostgreSQL's writer copies it out).
        return sql.format(more=", NULL" * (len(options.header) - 2))

    def endless_lines(flt: object, options: csv_export.CsvOptions, span: object = None) -> str:
        return sql.format(more="")  # SQLite's writer: one finished line per row

    monkeypatch.setattr(csv_export, "build_select", endless)
    monkeypatch.setattr(csv_export, "build_lines_select", endless_lines)
    screen = desk.open(ExportsScreen, manager)
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: screen.current_card.isVisible() and status_of(screen) == "Running")
    # Rows done of the total, as the runner reports them (twice a second).
    wait_for(qtbot, lambda: "of 2 rows" in screen.current_label.text())
    assert screen.current_label.text().startswith("All reservations — ")
    assert screen.progress.isVisible()
    job_id = screen.model.row_at(0).job_id
    assert screen.progress.value() == app.exports.status(SYSTEM, job_id).progress
    answers = [False, True]
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm",
                        lambda _parent, title, *_a, **_k: asked.append(title) or answers.pop(0))
    qtbot.mouseClick(screen.cancel_current_button, Qt.MouseButton.LeftButton)
    assert asked == ["Cancel export"]  # asked first; "no" leaves it running
    assert app.exports.status(SYSTEM, job_id).status == "processing"
    qtbot.mouseClick(screen.cancel_current_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: status_of(screen) == "Cancelled")
    # A cancelled export shows no progress bar: its percentage would read as work going on.
    assert screen.model.index(0, ExportsModel.PROGRESS).data() == "—"
    # A hang guard, not a speed promise: the query would run for many minutes if not stopped.
    assert app.exports.wait(job_id, timeout=30), "the query was not interrupted"
    assert not screen.current_card.isVisible()
    assert "Export cancelled" in screen.banner.text
    assert list(app.settings.upload_folder.iterdir()) == []


@pytest.mark.usefixtures("parked")
def test_expired_export_cannot_be_saved_and_clean_up_removes_it(
    desk: Desk, qtbot: QtBot, app: App, manager: Actor, clock: FixedClock
) -> None:
    job_id = app.exports.request(manager, ExportScope.everything())
    assert app.exports.wait(job_id, timeout=30)
    clock.advance(hours=app.settings.csv_export_expiry_hours + 1)
    screen = desk.open(ExportsScreen, manager)
    assert status_of(screen) == "Expired"
    screen.choose_save_path = lambda *_a: pytest.fail("no dialog for an expired export")  # type: ignore[method-assign]
    screen.table.selectRow(0)
    assert not screen.save_button.isEnabled()
    assert "expired" in screen.error.text()
    screen.save_selected()
    assert "expired" in screen.banner.text
    qtbot.mouseClick(screen.cleanup_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Clean-up done: 1 exports expired, 1 files deleted" in
             screen.banner.text)
    wait_for(qtbot, lambda: app.exports.status(SYSTEM, job_id).status == "expired")
    assert list(app.settings.upload_folder.iterdir()) == []


@pytest.mark.usefixtures("parked")
def test_attendant_can_export_only_their_shift(
    desk: Desk, qtbot: QtBot, app: App, attendant: Actor
) -> None:
    screen = desk.open(ExportsScreen, attendant)
    assert [screen.scope.itemData(i) for i in range(screen.scope.count())] == ["shift"]
    assert not screen.cleanup_button.isVisible() and not screen.filter.isVisible()
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: screen.model.rowCount() == 1 and status_of(screen) == "Ready")
    assert screen.model.index(0, ExportsModel.ROWS).data() == "2"


@pytest.mark.usefixtures("parked")
def test_bad_input_is_explained_in_the_window(
    desk: Desk, qtbot: QtBot, manager: Actor
) -> None:
    screen = desk.open(ExportsScreen, manager)
    screen.scope.setCurrentIndex(screen.scope.findData("driver"))
    assert screen.driver.isVisible() and not screen.lot.isVisible()
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    assert "Enter the username" in screen.banner.text
    screen.driver.setText("nobody_here")
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "nobody_here" in screen.banner.text)
    screen.scope.setCurrentIndex(screen.scope.findData("all"))
    screen.date_from.setText("2026-02-31")
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "is not a date" in screen.banner.text)
    assert screen.model.rowCount() == 0 and screen.export_button.isEnabled()


def test_exports_is_in_the_desktop_sidebar(desk: Desk, manager: Actor) -> None:
    screen = desk.screen(manager, "exports")
    assert isinstance(screen, ExportsScreen) and screen.cleanup_button.isVisible()


def test_clean_up_tapped_three_times_runs_once(
    desk: Desk, qtbot: QtBot, app: App, manager: Actor, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    gate, asked = threading.Event(), threading.Event()
    runs: list[Actor] = []
    real = app.exports.cleanup

    def held(actor: Actor = SYSTEM) -> CleanupSummary:
        runs.append(actor)
        asked.set()
        assert gate.wait(30)
        return real(actor)

    monkeypatch.setattr(app.exports, "cleanup", held)
    request.addfinalizer(gate.set)  # a failing assertion must not leave the work held
    screen = desk.open(ExportsScreen, manager)
    for _ in range(3):
        qtbot.mouseClick(screen.cleanup_button, Qt.MouseButton.LeftButton)
    assert asked.wait(30)
    assert not screen.cleanup_button.isEnabled()
    gate.set()
    wait_for(qtbot, lambda: "Clean-up done" in screen.banner.text)
    desk.wait_idle(screen)
    assert runs == [manager]
    assert screen.cleanup_button.isEnabled()  # the work answered: it may be asked again


@pytest.mark.usefixtures("parked")
def test_a_wrong_field_is_marked_and_named(desk: Desk, qtbot: QtBot, manager: Actor) -> None:
    screen = desk.open(ExportsScreen, manager)
    screen.date_from.setText("2026-03-05")
    screen.date_to.setText("2026-03-01")
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "start date must be on or before" in screen.banner.text)
    assert screen.date_to.property("invalid") is True
    assert not screen.date_from.property("invalid")
    screen.date_from.setText("")
    screen.date_to.setText("31/03/2026")
    qtbot.mouseClick(screen.export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "end date '31/03/2026' is not a date" in screen.banner.text)
    assert screen.date_to.property("invalid") is True
    assert screen.model.rowCount() == 0
