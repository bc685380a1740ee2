"""cleanup_exports: expired export files are deleted (real files in UPLOAD_FOLDER) and their
jobs marked expired; nothing else is touched, and nothing outside the folder is ever deleted."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from parking_desktop.adapters.db.models import ExportJob, JobRun
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor


def _job(app: App, owner: int | None, status: str, path: Path | None, *, created_hours_ago: float,
         expires_in_hours: float | None) -> str:
    now = app.ctx.clock.now()
    job_id = str(uuid.uuid4())
    with app.db.write() as session:
        session.add(ExportJob(
            job_id=job_id, requested_by=owner, scope={"scope": "all"}, status=status,
            progress=100 if status == "completed" else 10, row_count=3,
            file_path=str(path) if path else None,
            created_at=now - timedelta(hours=created_hours_ago),
            completed_at=now - timedelta(hours=created_hours_ago) if status == "completed"
            else None,
            expires_at=None if expires_in_hours is None
            else now + timedelta(hours=expires_in_hours),
        ))
    return job_id


def _statuses(app: App) -> dict[str, tuple[str, str | None]]:
    with app.db.read() as session:
        return {j.job_id: (j.status, j.file_path) for j in session.scalars(select(ExportJob))}


def _file(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("Reservation ID\n1\n", encoding="utf-8")
    return path


def test_cleanup_deletes_expired_files_and_marks_jobs(
    app: App, manager: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    folder = app.settings.upload_folder
    uid = manager.user_id
    old = _file(folder, "old.csv")
    fresh = _file(folder, "fresh.csv")
    partial = _file(folder, "partial.csv")
    recent_partial = _file(folder, "recent_partial.csv")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("keep me", encoding="utf-8")
    expired = _job(app, uid, "completed", old, created_hours_ago=30, expires_in_hours=-6)
    current = _job(app, None, "completed", fresh, created_hours_ago=2, expires_in_hours=22)
    gone = _job(app, None, "completed", folder / "vanished.csv", created_hours_ago=30,
                expires_in_hours=-1)
    failed = _job(app, None, "failed", partial, created_hours_ago=48, expires_in_hours=None)
    failing = _job(app, None, "failed", recent_partial, created_hours_ago=1,
                   expires_in_hours=None)
    foreign = _job(app, None, "completed", outside, created_hours_ago=30, expires_in_hours=-1)

    run = app.jobs.scheduler.run_job_now("cleanup_exports")

    assert run.status == "completed"
    assert {k: run.counts[k] for k in ("checked", "expired", "files_deleted", "files_missing",
                                       "refused", "errors")} == {
        "checked": 4, "expired": 3, "files_deleted": 2, "files_missing": 1, "refused": 1,
        "errors": 0}
    after = _statuses(app)
    assert after[expired] == ("expired", None)
    assert after[current] == ("completed", str(fresh))
    assert after[gone] == ("expired", None)
    assert after[failed] == ("failed", None)
    assert after[failing] == ("failed", str(recent_partial))
    assert after[foreign] == ("expired", str(outside))
    assert not old.exists() and not partial.exists()
    assert fresh.exists() and recent_partial.exists() and outside.read_text() == "keep me"

    clock.advance(hours=23)  # now the fresh export has expired too
    again = app.jobs.scheduler.run_job_now("cleanup_exports")
    assert (again.counts["expired"], again.counts["files_deleted"]) == (1, 2)
    assert not fresh.exists() and not recent_partial.exists()


def test_the_nightly_cleanup_keeps_the_job_history_bounded(app: App, clock: FixedClock) -> None:
    ledger = app.jobs.scheduler.runner.ledger
    now = clock.now()
    for days, job, period in ((40, "outbox_dispatch", "at-old"), (5, "outbox_dispatch", "at-new"),
                              (410, "daily_reminder", "2025-01-17"),
                              (40, "daily_reminder", "2026-01-21")):
        ledger.record(job, period, "completed", {}, now - timedelta(days=days))
    clock.advance(seconds=1)
    run = app.jobs.scheduler.run_job_now("cleanup_exports")
    assert run.counts["job_runs_pruned"] == 2
    with app.db.read() as session:
        left = sorted(session.scalars(select(JobRun.period_key)))
    assert [k for k in left if not k.startswith("manual-")] == ["2026-01-21", "at-new"]
