"""Several processes on one database: three schedulers started at the same moment run each
period once; a process killed half-way through a run leaves a run that a later start finishes,
and every driver receives exactly one mail (counted by a real SMTP server)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from tests.integration.jobs_support import (
    activity,
    add_driver,
    child_dies_half_way,
    child_scheduler,
    job_runs,
    outbox_rows,
)
from tests.mail_support import SmtpServer

EVENING = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 20:00 in Paris; reminders were due at 18:00


def test_three_schedulers_run_each_period_once(app: App, db_url: str, tmp_path: Path) -> None:
    drivers = [add_driver(app, f"sleepy{i}") for i in range(6)]
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(3)
    out = spawn.Queue()
    children = [
        spawn.Process(target=child_scheduler,
                      args=(db_url, str(tmp_path / f"machine{i}"), EVENING, barrier, out))
        for i in range(3)
    ]
    for child in children:
        child.start()
    results = [out.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0

    done = [run for per_process in results for run in per_process]
    assert sorted(done) == [("cleanup_exports", "2026-03-02"), ("daily_reminder", "2026-03-02"),
                            ("exceptions_digest", "2026-03-01"), ("monthly_report", "2026-02"),
                            ("no_shows", "2026-03-02T19:00Z"), ("retention", "2026-03-02")]
    rows = job_runs(app)
    assert sorted((r.job, r.period_key, r.status) for r in rows) == [
        ("cleanup_exports", "2026-03-02", "completed"),
        ("daily_reminder", "2026-03-02", "completed"),
        ("exceptions_digest", "2026-03-01", "completed"),
        ("monthly_report", "2026-02", "completed"),
        ("no_shows", "2026-03-02T19:00Z", "completed"),
        ("retention", "2026-03-02", "completed")]
    assert sorted(r.user_id for r in outbox_rows(app, "daily_reminder")) == drivers
    assert sorted(r.user_id for r in outbox_rows(app, "monthly_report")) == drivers


def test_a_killed_run_is_finished_later_and_nobody_is_mailed_twice(
    mail_app: App, db_url: str, tmp_path: Path, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    app = mail_app
    drivers = [add_driver(app, f"sleepy{i}") for i in range(7)]
    due = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    clock.set(due)
    child = multiprocessing.get_context("spawn").Process(
        target=child_dies_half_way, args=(db_url, str(tmp_path / "lost"), due))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 9

    [dead] = job_runs(app, "daily_reminder")
    assert dead.status == "running" and dead.finished_at is None
    assert len(outbox_rows(app, "daily_reminder")) == 4  # two whole batches
    app.email.outbox.flush()
    assert len(smtp_server.received) == 4

    # The next start, a little later: the dead run's heartbeat is stale, so it is finished.
    clock.set(due + timedelta(minutes=15))
    [resumed] = [r for r in app.jobs.scheduler.catch_up() if r.job == "daily_reminder"]
    assert resumed.status == "completed" and resumed.counts["attempt"] == 2
    assert (resumed.counts["queued"], resumed.counts["already_queued"]) == (3, 4)
    app.email.outbox.flush()

    # (The catch-up also sent February's monthly reports: count the reminders.)
    received = sorted(m.rcpt_tos[0] for m in smtp_server.received
                      if m.message["Subject"] == "Free parking spots are waiting for you")
    assert received == sorted(f"sleepy{i}@example.com" for i in range(7))
    assert sorted(a.user_id for a in activity(app, "reminder_queued")) == drivers
