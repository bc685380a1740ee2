"""The monthly report run in worker processes (what a site with many drivers gets): the same
mails and activity rows as one process, once each, and a worker's failure fails the run."""

from __future__ import annotations

import multiprocessing
import signal
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import DomainError
from parking_desktop.domain.roles import Actor
from parking_desktop.jobs.mail import MonthlyReportQueue, render_report_html, report_workers
from parking_desktop.jobs.runner import JobInterrupted
from parking_desktop.services.mail.monthly_report import Month, MonthlySummary
from parking_desktop.services.mail.monthly_run import run_monthly_report
from tests.integration.jobs_support import (
    activity,
    add_driver,
    add_stay,
    child_killed_while_reports_run,
    outbox_rows,
    spot_ids,
)

FEBRUARY = Month(2026, 2)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def drivers(app: App, manager: Actor) -> list[int]:
    """Seven drivers: most parked in February (one twice, across two lots), one did not."""
    alpha = app.lots.create(manager, name="Alpha", address="1 A St", pin_code="111",
                            price_per_hour="2.00", number_of_spots=3)
    beta = app.lots.create(manager, name="Beta", address="2 B St", pin_code="222",
                           price_per_hour="3.00", number_of_spots=3)
    spots = spot_ids(app, alpha.id) + spot_ids(app, beta.id)
    ids = [add_driver(app, f"drv{i}") for i in range(7)]
    for i, uid in enumerate(ids[:-1]):
        add_stay(app, uid, spots[i % 6], utc(2026, 2, 3 + i, 8), utc(2026, 2, 3 + i, 10),
                 f"{4 + i}.00", plate=f"P{i}")
    add_stay(app, ids[0], spots[5], utc(2026, 2, 20, 8), utc(2026, 2, 20, 9), "3.00",
             plate="P0")
    return ids


def run_in(app: App, processes: int, **changes: Any) -> MonthlySummary:
    workers = replace(report_workers(app.email), processes=processes, **changes)
    return run_monthly_report(app.ctx, MonthlyReportQueue(app.email), FEBRUARY,
                              workers=workers, processes_from=1, batch_size=2)


def test_two_processes_queue_every_report_once(app: App, drivers: list[int],
                                               manager: Actor) -> None:
    summary = run_in(app, 2)
    again = run_in(app, 2)

    assert (summary.recipients, summary.with_activity, summary.queued) == (7, 6, 7)
    assert (again.queued, again.already_queued) == (0, 7)
    rows = outbox_rows(app, "monthly_report")
    assert sorted(r.idempotency_key for r in rows) == sorted(
        f"monthly:{uid}:2026-02" for uid in drivers)
    logged = {a.user_id: a.activity_data for a in activity(app, "monthly_report_queued")}
    assert logged[drivers[0]] == {"month": "2026-02", "bookings": 2, "total_spent": "7.00"}
    assert logged[drivers[-1]] == {"month": "2026-02", "bookings": 0, "total_spent": "0.00"}
    assert len(logged) == 7
    # A worker renders exactly what this process renders (the desktop preview is the mail).
    first = next(r for r in rows if r.user_id == drivers[0])
    preview, _ = app.jobs.preview_report(manager, drivers[0], "2026-02")
    assert first.body_html == render_report_html(app.email, preview)


def test_a_failing_worker_fails_the_run_in_one_line(app: App, drivers: list[int],
                                                    tmp_path: Path) -> None:
    empty = tmp_path / "no-templates"
    empty.mkdir()

    with pytest.raises(DomainError) as failed:
        run_in(app, 2, templates=str(empty))

    assert "A monthly report process failed: TemplateNotFound" in str(failed.value)
    assert "\n" not in str(failed.value)
    assert outbox_rows(app, "monthly_report") == []  # no mail without its template


def test_a_stop_leaves_whole_batches_and_the_next_run_finishes(app: App,
                                                               drivers: list[int]) -> None:
    def shutting_down() -> None:
        raise JobInterrupted  # what the job's heartbeat raises when the program shuts down

    workers = replace(report_workers(app.email), processes=2)
    with pytest.raises(JobInterrupted):
        run_monthly_report(app.ctx, MonthlyReportQueue(app.email), FEBRUARY, workers=workers,
                           processes_from=1, batch_size=1, heartbeat=shutting_down)

    # Each worker stopped between batches: every mail queued so far has its activity row.
    queued = {r.user_id for r in outbox_rows(app, "monthly_report")}
    assert queued == {a.user_id for a in activity(app, "monthly_report_queued")}
    assert len(queued) < len(drivers)

    finished = run_in(app, 2)

    assert (finished.queued, finished.already_queued) == (len(drivers) - len(queued),
                                                          len(queued))
    keys = [r.idempotency_key for r in outbox_rows(app, "monthly_report")]
    assert sorted(keys) == sorted(f"monthly:{uid}:2026-02" for uid in drivers)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a dead child of a dead parent may wait to be reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_workers_stop_by_themselves_when_the_run_is_killed(
        app: App, db_url: str, tmp_path: Path) -> None:
    drivers = [add_driver(app, f"many{i}") for i in range(60)]
    pids_file = tmp_path / "workers.txt"
    child = multiprocessing.get_context("spawn").Process(
        target=child_killed_while_reports_run,
        args=(db_url, str(tmp_path / "killed"), app.ctx.clock.now(), str(pids_file)))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL
    workers = [int(p) for p in pids_file.read_text(encoding="utf-8").split()]
    assert len(workers) == 2

    # Orphaned, each worker ends at its next batch (waiting is not timing: a worker that
    # never noticed would still be running after the minute).
    deadline = time.monotonic() + 60
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)

    queued = {r.user_id for r in outbox_rows(app, "monthly_report")}
    assert queued == {a.user_id for a in activity(app, "monthly_report_queued")}
    finished = run_in(app, 2)
    assert finished.queued == len(drivers) - len(queued)
    assert sorted(r.user_id for r in outbox_rows(app, "monthly_report")) == sorted(drivers)
