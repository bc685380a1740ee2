"""Jobs screen offscreen on both databases: jobs with schedule and last run, Run now, pause and
resume, scheduler events reaching the window through the signal bridge (notices for finished
and failed runs), and the monthly-report preview rendering the mail's HTML."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.jobs.definitions import JobOutcome, RunContext
from parking_desktop.ui.desktop.job_events import attach_job_notices
from parking_desktop.ui.desktop.job_models import JobsModel
from parking_desktop.ui.desktop.jobs_screen import JobsScreen
from tests.integration.jobs_support import add_driver, add_stay, spot_ids
from tests.ui.conftest import Desk, make_lot, wait_for


def _row(screen: JobsScreen, name: str) -> int:
    return next(i for i, j in enumerate(screen.model.rows()) if j.name == name)


def _cell(screen: JobsScreen, name: str, column: int) -> str:
    return str(screen.model.index(_row(screen, name), column).data())


def test_jobs_listed_and_run_now(desk: Desk, app: App, manager: Actor, qtbot: QtBot) -> None:
    add_driver(desk.app, "sleepy")
    screen = desk.open(JobsScreen, manager)
    assert [j.name for j in screen.model.rows()] == [
        "daily_reminder", "monthly_report", "cleanup_exports", "retention", "no_shows",
        "outbox_dispatch", "exceptions_digest"]
    assert _cell(screen, "daily_reminder", JobsModel.SCHEDULE) == "daily at 18:00"
    assert _cell(screen, "daily_reminder", JobsModel.NEXT).endswith("18:00")
    assert _cell(screen, "daily_reminder", JobsModel.STATE) == "Not scheduled here"
    assert _cell(screen, "daily_reminder", JobsModel.LAST) == "never"
    assert "not scheduled on this computer" in screen.where.text()

    screen.table.selectRow(_row(screen, "daily_reminder"))
    qtbot.mouseClick(screen.run_button, Qt.MouseButton.LeftButton)
    # It asks first, with the number of drivers it would e-mail; Cancel sends nothing.
    wait_for(qtbot, lambda: screen.run_question is not None and screen.run_question.isVisible())
    question = screen.run_question
    assert question is not None
    assert question.text() == "Daily reminders will e-mail 1 driver now."
    question.reject()
    desk.wait_idle(screen)
    assert screen.model.rows()[_row(screen, "daily_reminder")].last_run is None
    qtbot.mouseClick(screen.run_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: screen.run_question is not question
             and screen.run_question is not None and screen.run_question.isVisible())
    question = screen.run_question
    assert question is not None
    send = next(b for b in question.buttons() if b.text() == "E-mail 1 driver")
    qtbot.mouseClick(send, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "finished" in screen.banner.text)
    desk.wait_idle(screen)
    assert "queued 1" in screen.banner.text
    wait_for(qtbot, lambda: _cell(screen, "daily_reminder", JobsModel.LAST).startswith(
        "completed"))
    assert "queued 1" in _cell(screen, "daily_reminder", JobsModel.COUNTS)
    wait_for(qtbot, lambda: [r.job for r in screen.runs.rows()] == ["daily_reminder"])
    assert screen.history_title.text() == "History of runs: Daily reminders"
    screen.table.selectRow(_row(screen, "cleanup_exports"))
    desk.wait_idle(screen)
    assert screen.runs.rows() == []
    assert screen.history_title.text() == "History of runs: Export cleanup"
    screen.table.selectRow(_row(screen, "daily_reminder"))
    wait_for(qtbot, lambda: [r.job for r in screen.runs.rows()] == ["daily_reminder"])


def test_scheduler_events_show_notices(desk: Desk, app: App, manager: Actor,
                                       qtbot: QtBot) -> None:
    scheduler = desk.app.jobs.scheduler
    scheduler.start(catch_up=False)
    screen = desk.open(JobsScreen, manager)
    assert _cell(screen, "cleanup_exports", JobsModel.STATE) == "Scheduled"
    assert "scheduled on this computer" in screen.where.text()

    # A run on a scheduler-like thread: the notice arrives through the bridge.
    worker = threading.Thread(target=scheduler.run_job_now, args=("cleanup_exports",))
    worker.start()
    worker.join(30)
    wait_for(qtbot, lambda: screen.banner.text.startswith("Export cleanup: 0 exports expired"))

    runner = scheduler.runner
    spec = runner.spec("cleanup_exports")

    def broken(run: RunContext) -> JobOutcome:
        raise OSError("the export folder is gone")

    runner.set_specs({**runner.specs, "cleanup_exports": replace(spec, work=broken)})
    worker = threading.Thread(target=scheduler.run_job_now, args=("cleanup_exports",))
    worker.start()
    worker.join(30)
    wait_for(qtbot, lambda: screen.banner.text ==
             "Export cleanup failed: OSError: the export folder is gone")
    wait_for(qtbot, lambda: "the export folder is gone" in _cell(
        screen, "cleanup_exports", JobsModel.ERROR))
    runner.set_specs({**runner.specs, "cleanup_exports": spec})


def test_pause_and_resume(desk: Desk, app: App, manager: Actor, qtbot: QtBot) -> None:
    desk.app.jobs.scheduler.start(catch_up=False)
    screen = desk.open(JobsScreen, manager)
    screen.table.selectRow(_row(screen, "monthly_report"))
    assert screen.pause_button.text() == "Pause"
    screen.pause_button.click()
    wait_for(qtbot, lambda: _cell(screen, "monthly_report", JobsModel.STATE) == "Paused")
    assert _cell(screen, "monthly_report", JobsModel.NEXT) == "—"
    assert screen.pause_button.text() == "Resume"
    assert screen.banner.text == "Monthly reports paused."
    screen.pause_button.click()
    wait_for(qtbot, lambda: _cell(screen, "monthly_report", JobsModel.STATE) == "Scheduled")
    assert desk.app.jobs.scheduler.is_paused("monthly_report") is False


def test_report_preview_renders_the_mail(desk: Desk, app: App, manager: Actor,
                                         qtbot: QtBot) -> None:
    lot = make_lot(desk.app, manager, "Alpha Park")
    dana = add_driver(desk.app, "dana", full_name="Dana Driver")
    add_driver(desk.app, "quiet")
    spot = spot_ids(desk.app, lot.id)[0]
    add_stay(desk.app, dana, spot, datetime(2026, 2, 10, 8, 0, tzinfo=UTC),
             datetime(2026, 2, 10, 10, 30, tzinfo=UTC), "6.25")
    screen = desk.open(JobsScreen, manager)
    screen.open_preview()
    dialog = screen.preview
    assert dialog is not None
    wait_for(qtbot, lambda: dialog.driver.count() == 2)
    assert dialog.month.currentData() == "2026-02"  # the clock says 2 March 2026
    dialog.choose_driver(dana)
    with qtbot.waitSignal(dialog.shown, timeout=20_000):
        dialog.show_button.click()
    text = dialog.browser.toPlainText()
    assert "Your parking in February 2026" in text
    assert "Alpha Park" in text and "6.25" in text
    assert dialog.summary.text() == ("Dana Driver, February 2026: 1 bookings, €6.25 spent, "
                                     "2.50 hours parked, mostly at Alpha Park.")
    dialog.choose_month("2026-01")
    with qtbot.waitSignal(dialog.shown, timeout=20_000):
        dialog.show_button.click()
    assert "did not park in January 2026" in dialog.summary.text()
    dialog.driver.setEditText("nobody at all")
    dialog.show_button.click()
    assert dialog.banner.text == "Choose a driver from the list."
    dialog.close()


def test_sidebar_entry_and_window_notice(desk: Desk, app: App, manager: Actor,
                                         attendant: Actor, qtbot: QtBot) -> None:
    window = desk.window(manager)
    notices = attach_job_notices(window, desk.app)
    screen = window.navigate("jobs")
    assert isinstance(screen, JobsScreen)
    qtbot.waitUntil(lambda: screen.loads > 0)
    desk.wait_idle(screen)
    window.navigate("dashboard")  # the notice shows whatever screen is open
    worker = threading.Thread(target=desk.app.jobs.scheduler.run_job_now,
                              args=("cleanup_exports",))
    worker.start()
    worker.join(30)
    wait_for(qtbot, lambda: window.statusBar().currentMessage().startswith("Export cleanup"))
    notices.detach()
    other = desk.window(attendant)
    assert "jobs" not in [e.key for e in other.entries]


def test_scheduler_enabled_setting_decides_whether_the_gui_schedules(app: App) -> None:
    from parking_desktop.ui.launch import _start_jobs

    app.settings = app.settings.with_overrides(scheduler_enabled=False)
    _start_jobs(app)
    assert not app.jobs.scheduler.running
    app.settings = app.settings.with_overrides(scheduler_enabled=True)
    _start_jobs(app)
    assert app.jobs.scheduler.running
    app.jobs.scheduler.shutdown()


def test_schedule_dialog_saves_new_times(desk: Desk, app: App, manager: Actor,
                                         qtbot: QtBot) -> None:
    from PySide6.QtCore import QTime

    desk.app.jobs.scheduler.start(catch_up=False)
    screen = desk.open(JobsScreen, manager)
    dialog = screen.open_schedule()
    editor = dialog.editors["DAILY_REMINDER_TIME"]
    assert editor.time().toString("HH:mm") == "18:00"  # type: ignore[union-attr]
    editor.setTime(QTime(6, 30))  # type: ignore[union-attr]
    dialog.ok_button.click()
    wait_for(qtbot, lambda: screen.banner.text ==
             "New times saved: daily_reminder rescheduled.")
    wait_for(qtbot, lambda: _cell(screen, "daily_reminder", JobsModel.SCHEDULE)
             == "daily at 06:30")
    assert _cell(screen, "daily_reminder", JobsModel.NEXT).endswith("06:30")
