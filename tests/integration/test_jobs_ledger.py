"""The job_runs ledger and the catch-up: a period is claimed once; a run that died is taken over
once its heartbeat is stale; a failed run is retried a bounded number of times; a period whose
time passed while the program was closed is run at the next start - once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import NotFoundError
from parking_desktop.jobs.definitions import JobOutcome, RunContext
from parking_desktop.services.jobs.ledger import JobLedger
from tests.integration.jobs_support import activity, add_driver, job_runs, outbox_rows

# 2 March 2026 in Paris (CET, UTC+1): reminders at 18:00 local = 17:00 UTC.
REMINDER_DUE = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def other_host(app: App) -> JobLedger:
    return JobLedger(app.ctx, host="kiosk-2:4242")


def test_a_period_is_claimed_once(app: App) -> None:
    ledger = app.jobs.scheduler.runner.ledger
    first = ledger.claim("daily_reminder", "2026-03-02")
    assert first is not None and not first.resumed
    assert ledger.claim("daily_reminder", "2026-03-02") is None
    assert other_host(app).claim("daily_reminder", "2026-03-02") is None
    assert ledger.claim("daily_reminder", "2026-03-03") is not None
    done = ledger.complete(first.run_id, {"queued": 3})
    assert (done.status, done.counts) == ("completed", {"queued": 3, "attempt": 1})
    assert other_host(app).claim("daily_reminder", "2026-03-02") is None


def test_a_dead_run_is_taken_over_once_its_heartbeat_is_stale(
    app: App, clock: FixedClock
) -> None:
    dead = other_host(app).claim("daily_reminder", "2026-03-02")
    assert dead is not None
    ledger = app.jobs.scheduler.runner.ledger
    # JOB_STALE_AFTER_SECONDS is 60 by default.
    clock.advance(seconds=50)
    assert ledger.claim("daily_reminder", "2026-03-02") is None  # it may still be alive
    other_host(app).heartbeat(dead.run_id)
    clock.advance(seconds=50)
    assert ledger.claim("daily_reminder", "2026-03-02") is None  # the beat kept it alive
    clock.advance(seconds=20)
    taken = ledger.claim("daily_reminder", "2026-03-02")
    assert taken is not None and taken.resumed and taken.run_id == dead.run_id
    assert taken.attempt == 2
    assert other_host(app).claim("daily_reminder", "2026-03-02") is None  # one winner
    [row] = job_runs(app, "daily_reminder")
    assert (row.status, row.host) == ("running", ledger.host)


def test_catch_up_after_downtime_runs_the_missed_period_once(
    app: App, clock: FixedClock
) -> None:
    sleepy = add_driver(app, "sleepy")
    # Closed before 18:00; opened at 20:00 Paris time.
    clock.set(REMINDER_DUE + timedelta(hours=2))
    runs = app.jobs.scheduler.catch_up()

    by_job = {r.job: r for r in runs}
    assert by_job["daily_reminder"].period_key == "2026-03-02"
    assert by_job["daily_reminder"].counts["queued"] == 1
    # The monthly report (due 1 March 09:00) and the cleanup (02:00) were missed too.
    assert by_job["monthly_report"].period_key == "2026-02"
    assert by_job["cleanup_exports"].period_key == "2026-03-02"
    assert all(r.status == "completed" for r in runs)

    clock.advance(minutes=30)
    again = app.jobs.scheduler.catch_up()
    # Nothing twice: only the no-show check runs again, for its new 5-minute slot.
    assert [(r.job, r.period_key) for r in again] == [("no_shows", "2026-03-02T19:30Z")]
    assert by_job["no_shows"].period_key == "2026-03-02T19:00Z"
    assert [r.user_id for r in outbox_rows(app, "daily_reminder")] == [sleepy]
    assert len(job_runs(app, "daily_reminder")) == 1


def test_catch_up_windows(app: App, clock: FixedClock) -> None:
    add_driver(app, "sleepy")
    clock.set(REMINDER_DUE - timedelta(minutes=1))  # before today's 18:00
    names = {r.job for r in app.jobs.scheduler.catch_up()}
    assert "daily_reminder" not in names  # yesterday's is more than 12 hours old
    clock.set(REMINDER_DUE + timedelta(hours=12, minutes=1))  # 06:01 the next morning
    assert "daily_reminder" not in {r.job for r in app.jobs.scheduler.catch_up()}
    clock.set(REMINDER_DUE + timedelta(hours=12))
    [run] = [r for r in app.jobs.scheduler.catch_up() if r.job == "daily_reminder"]
    assert run.period_key == "2026-03-02"


def test_a_run_that_died_is_finished_without_mailing_twice(
    app: App, clock: FixedClock
) -> None:
    drivers = [add_driver(app, f"sleepy{i}") for i in range(5)]
    clock.set(REMINDER_DUE)
    runner = app.jobs.scheduler.runner
    spec = runner.spec("daily_reminder")
    # The first attempt queues two batches of two, then its machine is lost: the run stays
    # 'running' and its heartbeat stops.
    from parking_desktop.jobs.mail import ReminderQueue
    from parking_desktop.services.mail.reminders import run_daily_reminder

    class MachineLost(BaseException):
        pass

    beats = 0

    def dies(run: RunContext) -> JobOutcome:
        def beat() -> None:
            nonlocal beats
            beats += 1
            if beats == 2:
                raise MachineLost

        assert run.period is not None
        run_daily_reminder(app.ctx, ReminderQueue(app.email),
                           datetime.fromisoformat(run.period).date(), heartbeat=beat,
                           batch_size=2)
        raise AssertionError("not reached")

    runner.set_specs({**runner.specs, "daily_reminder": replace(spec, work=dies)})
    with pytest.raises(MachineLost):
        runner.run_due("daily_reminder", REMINDER_DUE)
    assert len(outbox_rows(app, "daily_reminder")) == 4
    [row] = job_runs(app, "daily_reminder")
    assert row.status == "running"

    runner.set_specs({**runner.specs, "daily_reminder": spec})
    clock.advance(seconds=30)
    assert [r.job for r in app.jobs.scheduler.catch_up()] == [
        "monthly_report", "cleanup_exports", "retention", "no_shows", "exceptions_digest"]
    clock.advance(seconds=40)  # now the heartbeat is 70 s old: more than the 60 s allowed
    [resumed] = [r for r in app.jobs.scheduler.catch_up() if r.job == "daily_reminder"]

    assert (resumed.status, resumed.counts["attempt"]) == ("completed", 2)
    assert resumed.counts["queued"] == 1 and resumed.counts["already_queued"] == 4
    assert sorted(r.user_id for r in outbox_rows(app, "daily_reminder")) == drivers
    assert sorted(a.user_id for a in activity(app, "reminder_queued")) == drivers


def test_a_failed_run_is_retried_a_bounded_number_of_times(
    app: App, clock: FixedClock
) -> None:
    clock.set(REMINDER_DUE + timedelta(minutes=1))
    runner = app.jobs.scheduler.runner
    spec = runner.spec("cleanup_exports")
    calls = 0

    def broken(run: RunContext) -> JobOutcome:
        nonlocal calls
        calls += 1
        raise OSError("disk unplugged")

    runner.set_specs({**runner.specs, "cleanup_exports": replace(spec, work=broken)})
    failed = runner.run_due("cleanup_exports", clock.now())
    assert failed is not None
    assert (failed.status, failed.error) == ("failed", "OSError: disk unplugged")
    for _ in range(4):
        app.jobs.scheduler.catch_up()
    assert calls == 3  # MAX_ATTEMPTS
    [row] = job_runs(app, "cleanup_exports")
    assert (row.status, row.counts["attempt"]) == ("failed", 3)

    runner.set_specs({**runner.specs, "cleanup_exports": spec})
    clock.advance(days=1)  # the next period starts afresh
    assert [r.status for r in app.jobs.scheduler.catch_up()
            if r.job == "cleanup_exports"] == ["completed"]


def test_manual_runs_do_not_take_the_periods_place(app: App, clock: FixedClock) -> None:
    add_driver(app, "sleepy")
    clock.set(REMINDER_DUE - timedelta(hours=3))
    manual = app.jobs.scheduler.run_job_now("daily_reminder")
    assert manual.period_key.startswith("manual-") and manual.counts["queued"] == 1
    clock.set(REMINDER_DUE + timedelta(seconds=1))
    scheduled = app.jobs.scheduler.runner.run_due("daily_reminder", REMINDER_DUE)
    assert scheduled is not None and scheduled.period_key == "2026-03-02"
    assert scheduled.counts["queued"] == 0  # the driver had today's reminder already
    assert len(outbox_rows(app, "daily_reminder")) == 1
    with pytest.raises(NotFoundError, match="no job called 'nope'"):
        app.jobs.scheduler.run_job_now("nope")


def test_dead_runs_that_cannot_be_finished_are_closed_with_a_reason(
    app: App, clock: FixedClock
) -> None:
    clock.set(REMINDER_DUE)
    lost = other_host(app)
    manual = lost.claim("daily_reminder", "manual-20260302T170000-abcdef")
    old = lost.claim("daily_reminder", "2026-03-01")
    assert manual is not None and old is not None
    clock.advance(hours=13)  # yesterday's period is out of its 12-hour window by now
    app.jobs.scheduler.catch_up()
    rows = {r.period_key: r for r in job_runs(app, "daily_reminder")}
    assert rows["manual-20260302T170000-abcdef"].status == "failed"
    assert "stopped before it finished" in (rows["manual-20260302T170000-abcdef"].error or "")
    assert rows["2026-03-01"].status == "failed"
    assert "too long ago" in (rows["2026-03-01"].error or "")
