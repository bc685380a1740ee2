"""SchedulerService on a real BackgroundScheduler: the jobs and their next runs in the site's
time zone, the catch-up sweep at start, a trigger firing, pause/resume, rescheduling when the
settings change, and events for listeners."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.config import write_settings_file
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError, PermissionDeniedError
from parking_desktop.domain.roles import Actor
from parking_desktop.jobs.events import CHANGED, FINISHED, JobEvent
from parking_desktop.jobs.scheduler import SchedulerService
from tests.integration.jobs_support import add_driver, job_runs

PARIS = ZoneInfo("Europe/Paris")


class Events:
    def __init__(self) -> None:
        self.seen: list[JobEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: JobEvent) -> None:
        with self._cond:
            self.seen.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: str, job: str, timeout: float = 30) -> JobEvent:
        def found() -> JobEvent | None:
            return next((e for e in self.seen if e.kind == kind and e.job == job), None)

        with self._cond:
            assert self._cond.wait_for(lambda: found() is not None, timeout), self.seen
            event = found()
            assert event is not None
            return event


@pytest.fixture
def scheduler(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[SchedulerService]:
    for name in ("DAILY_REMINDER_TIME", "MONTHLY_REPORT_TIME", "MONTHLY_REPORT_DAY",
                 "CLEANUP_TIME"):
        monkeypatch.delenv(name, raising=False)
    service = app.jobs.scheduler
    yield service
    service.shutdown()


def test_jobs_and_next_runs_in_the_site_time_zone(
    scheduler: SchedulerService, manager: Actor
) -> None:
    scheduler.start(catch_up=False)
    jobs = {j.name: j for j in scheduler.jobs(manager)}
    assert list(jobs) == ["daily_reminder", "monthly_report", "cleanup_exports", "retention",
                          "no_shows", "outbox_dispatch", "exceptions_digest"]
    assert [j.schedule for j in jobs.values()] == [
        "daily at 18:00", "monthly on day 1 at 09:00", "daily at 02:00", "daily at 02:00",
        "every 5 minutes", "every minute", "daily at 07:00"]
    reminder = jobs["daily_reminder"].next_run
    assert reminder is not None
    local = reminder.astimezone(PARIS)
    assert (local.hour, local.minute) == (18, 0)
    assert reminder > datetime.now(UTC)
    monthly = jobs["monthly_report"].next_run
    assert monthly is not None
    assert (monthly.astimezone(PARIS).day, monthly.astimezone(PARIS).hour) == (1, 9)
    assert all(not j.paused and not j.running for j in jobs.values())


def test_start_catches_up_on_a_scheduler_thread(
    app: App, scheduler: SchedulerService, clock: FixedClock
) -> None:
    add_driver(app, "sleepy")
    clock.set(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))  # 20:00 in Paris, after 18:00
    events = Events()
    scheduler.subscribe(events)
    scheduler.start()
    done = events.wait_for(FINISHED, "daily_reminder")
    assert done.run is not None and done.run.period_key == "2026-03-02"
    assert done.run.counts["queued"] == 1
    assert "1 reminders queued" in done.message


def test_a_trigger_firing_runs_its_period(
    app: App, scheduler: SchedulerService, clock: FixedClock
) -> None:
    events = Events()
    scheduler.subscribe(events)
    scheduler.start(catch_up=False)
    # As if 02:00 had come: make APScheduler fire the cleanup now.
    assert scheduler._scheduler is not None
    scheduler._scheduler.modify_job("cleanup_exports", next_run_time=datetime.now(PARIS))
    done = events.wait_for(FINISHED, "cleanup_exports")
    assert done.run is not None and done.run.period_key == "2026-03-02"  # 02:00 Paris today
    assert [r.status for r in job_runs(app, "cleanup_exports")] == ["completed"]


def test_pause_and_resume(scheduler: SchedulerService, manager: Actor, driver: Actor) -> None:
    scheduler.start(catch_up=False)
    events = Events()
    scheduler.subscribe(events)
    scheduler.pause(manager, "daily_reminder")
    info = {j.name: j for j in scheduler.jobs(manager)}["daily_reminder"]
    assert info.paused and info.next_run is None
    assert events.wait_for(CHANGED, "daily_reminder").message == "Daily reminders paused."
    with pytest.raises(ConflictError, match="already paused"):
        scheduler.pause(manager, "daily_reminder")
    with pytest.raises(PermissionDeniedError):
        scheduler.resume(driver, "daily_reminder")
    scheduler.resume(manager, "daily_reminder")
    info = {j.name: j for j in scheduler.jobs(manager)}["daily_reminder"]
    assert not info.paused and info.next_run is not None
    with pytest.raises(PermissionDeniedError):
        scheduler.jobs(driver)


def test_a_paused_job_is_not_caught_up(
    app: App, scheduler: SchedulerService, manager: Actor, clock: FixedClock
) -> None:
    add_driver(app, "sleepy")
    clock.set(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))
    scheduler.pause(manager, "daily_reminder")
    assert "daily_reminder" not in {r.job for r in scheduler.catch_up()}
    scheduler.resume(manager, "daily_reminder")
    assert "daily_reminder" in {r.job for r in scheduler.catch_up()}


def test_changed_times_reschedule_without_a_restart(
    app: App, scheduler: SchedulerService, manager: Actor
) -> None:
    scheduler.start(catch_up=False)
    events = Events()
    scheduler.subscribe(events)
    write_settings_file(app.settings.settings_file,
                        {"DAILY_REMINDER_TIME": "07:30", "MONTHLY_REPORT_DAY": "5"})
    app.ctx.changed("settings")  # what the Settings screen announces after saving

    assert "now runs daily at 07:30" in events.wait_for(CHANGED, "daily_reminder").message
    jobs = {j.name: j for j in scheduler.jobs(manager)}
    reminder = jobs["daily_reminder"].next_run
    assert reminder is not None
    assert (reminder.astimezone(PARIS).hour, reminder.astimezone(PARIS).minute) == (7, 30)
    monthly = jobs["monthly_report"].next_run
    assert monthly is not None and monthly.astimezone(PARIS).day == 5
    assert jobs["cleanup_exports"].schedule == "daily at 02:00"
    # The catch-up follows the new times as well.
    due = scheduler.runner.spec("daily_reminder").schedule.latest_due(
        datetime(2026, 3, 2, 7, 0, tzinfo=UTC), PARIS)
    assert due == datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


def test_a_bad_time_in_the_file_keeps_the_schedule(
    app: App, scheduler: SchedulerService, manager: Actor
) -> None:
    write_settings_file(app.settings.settings_file, {"DAILY_REMINDER_TIME": "25:99"})
    app.ctx.changed("settings")
    assert scheduler.runner.spec("daily_reminder").schedule.describe() == "daily at 18:00"


def test_shutdown_is_idempotent_and_start_again_works(scheduler: SchedulerService) -> None:
    scheduler.start(catch_up=False)
    scheduler.shutdown()
    scheduler.shutdown()
    assert not scheduler.running
    scheduler.start(catch_up=False)
    assert scheduler.running


def test_latest_due_handles_month_and_year_ends() -> None:
    from datetime import time

    from parking_desktop.jobs.schedules import DailyAt, MonthlyAt

    monthly = MonthlyAt(1, time(9, 0))
    # 1 January 2026 08:00 Paris: the last report fell due on 1 December 2025 09:00.
    assert monthly.latest_due(datetime(2026, 1, 1, 7, 0, tzinfo=UTC), PARIS) == datetime(
        2025, 12, 1, 8, 0, tzinfo=UTC)
    daily = DailyAt(time(18, 0))
    # Summer time: 18:00 Paris is 16:00 UTC.
    assert daily.latest_due(datetime(2026, 7, 1, 16, 0, tzinfo=UTC), PARIS) == datetime(
        2026, 7, 1, 16, 0, tzinfo=UTC)
    assert daily.latest_due(datetime(2026, 7, 1, 15, 59, tzinfo=UTC), PARIS) == datetime(
        2026, 6, 30, 16, 0, tzinfo=UTC)


def test_the_periodic_sweep_catches_a_period_missed_while_running(
    app: App, scheduler: SchedulerService, clock: FixedClock
) -> None:
    """A laptop asleep at 18:00: APScheduler's trigger never fired, the sweep notices."""
    add_driver(app, "sleepy")
    quick = SchedulerService(scheduler.runner, scheduler.settings, scheduler._spec_factory,
                             sweep_every=timedelta(seconds=1))
    events = Events()
    quick.subscribe(events)
    try:
        quick.start(catch_up=False)
        clock.set(datetime(2026, 3, 2, 19, 0, tzinfo=UTC))  # "wakes up" at 20:00 Paris
        done = events.wait_for(FINISHED, "daily_reminder")
        assert done.run is not None and done.run.period_key == "2026-03-02"
    finally:
        quick.shutdown()


def test_saving_job_times_reschedules_at_once(
    app: App, scheduler: SchedulerService, manager: Actor, driver: Actor,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from parking_desktop.domain.errors import ValidationError
    from parking_desktop.services.parking.activity import ActivityService

    scheduler.start(catch_up=False)
    admin = app.jobs
    assert admin.schedule_values(manager) == {
        "DAILY_REMINDER_TIME": "18:00", "MONTHLY_REPORT_TIME": "09:00",
        "MONTHLY_REPORT_DAY": "1", "CLEANUP_TIME": "02:00", "EXCEPTIONS_DIGEST_TIME": "07:00"}
    changed = admin.save_schedule(manager, {"DAILY_REMINDER_TIME": "7:45",
                                            "CLEANUP_TIME": "02:00"})
    assert changed == ["daily_reminder"]
    reminder = {j.name: j for j in scheduler.jobs(manager)}["daily_reminder"].next_run
    assert reminder is not None and reminder.astimezone(PARIS).strftime("%H:%M") == "07:45"
    assert '"DAILY_REMINDER_TIME": "07:45"' in app.settings.settings_file.read_text()
    [entry] = ActivityService(app.ctx).history(manager, activity_type="settings_changed").items
    assert entry.activity_data == {"section": "jobs", "changes": {
        "DAILY_REMINDER_TIME": {"before": "18:00", "after": "07:45"}}}
    assert admin.save_schedule(manager, {"DAILY_REMINDER_TIME": "07:45"}) == []

    with pytest.raises(ValidationError, match="must be a time like 18:00"):
        admin.save_schedule(manager, {"CLEANUP_TIME": "25:00"})
    with pytest.raises(ValidationError, match="between 1 and 28"):
        admin.save_schedule(manager, {"MONTHLY_REPORT_DAY": "31"})
    with pytest.raises(ValidationError, match="Unknown job setting"):
        admin.save_schedule(manager, {"MAIL_SERVER": "x"})
    with pytest.raises(PermissionDeniedError):
        admin.save_schedule(driver, {"CLEANUP_TIME": "03:00"})
    monkeypatch.setenv("CLEANUP_TIME", "04:00")
    assert admin.locked_by_environment() == ["CLEANUP_TIME"]
    with pytest.raises(ValidationError, match="set in the environment"):
        admin.save_schedule(manager, {"CLEANUP_TIME": "03:00"})
