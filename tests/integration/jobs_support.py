"""Helpers for the job tests: drivers with chosen dates, completed stays at chosen times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from parking_desktop.adapters.db.models import (
    JobRun,
    ParkingSpot,
    Reservation,
    User,
    UserActivity,
)
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Role

PASSWORD = "correct-horse-1"


def add_driver(
    app: App,
    name: str,
    *,
    email: bool = True,
    last_login: datetime | None = None,
    last_booking: datetime | None = None,
    active: bool = True,
    role: Role = Role.DRIVER,
    full_name: str = "",
) -> int:
    view = app.users.create(SYSTEM, username=name, password=PASSWORD, role=role,
                            email=f"{name}@example.com" if email else None)
    with app.db.write() as session:
        session.execute(update(User).where(User.id == view.id).values(
            last_login=last_login, last_booking=last_booking, is_active=active,
            full_name=full_name))
    return view.id


def add_stay(
    app: App,
    user_id: int | None,
    spot_id: int,
    parked_at: datetime,
    left_at: datetime | None,
    cost: str | None,
    *,
    price: str = "2.00",
    plate: str = "AB123",
    status: str = "completed",
) -> int:
    """A reservation written directly (history in the past, at exact instants)."""
    with app.db.write() as session:
        row = Reservation(spot_id=spot_id, user_id=user_id, vehicle_number=plate, status=status,
                          reserved_at=parked_at, parked_at=parked_at, left_at=left_at,
                          price_per_hour=Decimal(price),
                          cost=None if cost is None else Decimal(cost), created_by=user_id)
        session.add(row)
        session.flush()
        return row.id


def spot_ids(app: App, lot_id: int) -> list[int]:
    with app.db.read() as session:
        return list(session.scalars(
            select(ParkingSpot.id).where(ParkingSpot.lot_id == lot_id)
            .order_by(ParkingSpot.position)))


def outbox_rows(app: App, kind: str | None = None) -> list[EmailOutbox]:
    with app.db.read() as session:
        query = select(EmailOutbox).order_by(EmailOutbox.id)
        if kind:
            query = query.where(EmailOutbox.kind == kind)
        return list(session.scalars(query))


def activity(app: App, kind: str) -> list[UserActivity]:
    with app.db.read() as session:
        return list(session.scalars(
            select(UserActivity).where(UserActivity.activity_type == kind)
            .order_by(UserActivity.id)))


def job_runs(app: App, job: str | None = None) -> list[JobRun]:
    with app.db.read() as session:
        query = select(JobRun).order_by(JobRun.id)
        if job:
            query = query.where(JobRun.job == job)
        return list(session.scalars(query))


def count(app: App, model: Any) -> int:
    with app.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- child processes (spawned: each is a separate program with its own scheduler) -----------
def child_app(url: str, data_dir: str, now: datetime):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from parking_desktop.adapters.passwords import Argon2Hasher
    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.domain.clock import FixedClock

    settings = load_settings(data_dir=Path(data_dir), database_url=url,
                             environ={"APP_TIMEZONE": "Europe/Paris"},
                             dotenv_path=Path(data_dir) / "no.env")
    return build_app(settings, clock=FixedClock(now), hasher=Argon2Hasher(fast=True))


def child_scheduler(url: str, data_dir: str, now: datetime, barrier: Any, out: Any) -> None:
    """Start a real scheduler (its catch-up sweep runs at once), wait until the periods are
    done by someone, stop; report the runs this process completed."""
    import time

    from parking_desktop.jobs.events import FINISHED, JobEvent

    app = child_app(url, data_dir, now)
    mine: list[tuple[str, str]] = []

    def listen(event: JobEvent) -> None:
        if event.kind == FINISHED and event.run is not None:
            mine.append((event.job, event.run.period_key))

    app.jobs.scheduler.subscribe(listen)
    barrier.wait(timeout=60)
    app.jobs.scheduler.start()
    deadline = time.monotonic() + 60
    wanted = {"daily_reminder", "monthly_report", "cleanup_exports", "retention"}
    while time.monotonic() < deadline:
        done = {r.job for r in job_runs(app) if r.status == "completed"}
        if wanted <= done:
            break
        time.sleep(0.1)
    app.jobs.scheduler.shutdown(wait=True)
    app.close()
    out.put(mine)


def child_dies_half_way(url: str, data_dir: str, now: datetime) -> None:
    """Run the day's reminders two mails per batch and lose the machine (os._exit, no clean
    up at all) right after the second batch was committed."""
    import os
    from dataclasses import replace as dc_replace
    from datetime import date

    from parking_desktop.jobs.definitions import JobOutcome, RunContext
    from parking_desktop.jobs.mail import ReminderQueue
    from parking_desktop.services.mail.reminders import run_daily_reminder

    app = child_app(url, data_dir, now)
    runner = app.jobs.scheduler.runner
    beats = 0

    def beat() -> None:
        nonlocal beats
        beats += 1
        if beats == 2:
            os._exit(9)

    def work(run: RunContext) -> JobOutcome:
        assert run.period is not None
        run_daily_reminder(app.ctx, ReminderQueue(app.email), date.fromisoformat(run.period),
                           heartbeat=beat, batch_size=2)
        return JobOutcome({})

    spec = runner.spec("daily_reminder")
    runner.set_specs({**runner.specs, "daily_reminder": dc_replace(spec, work=work)})
    runner.run_due("daily_reminder", now)
    os._exit(1)  # not reached


def child_killed_while_reports_run(url: str, data_dir: str, now: datetime, pids_file: str) -> None:
    """Run February's report in two worker processes, one mail per batch; once the first mail
    is queued, write the workers' pids to ``pids_file`` and die by SIGKILL (no clean-up)."""
    import multiprocessing
    import os
    import signal
    from dataclasses import replace as dc_replace
    from pathlib import Path

    from parking_desktop.jobs.mail import MonthlyReportQueue, report_workers
    from parking_desktop.services.mail.monthly_report import Month
    from parking_desktop.services.mail.monthly_run import run_monthly_report

    app = child_app(url, data_dir, now)

    def beat() -> None:
        with app.db.read() as session:
            if not session.scalar(select(func.count(EmailOutbox.id))):
                return
        Path(pids_file).write_text(
            " ".join(str(p.pid) for p in multiprocessing.active_children()), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)

    workers = dc_replace(report_workers(app.email), processes=2)
    run_monthly_report(app.ctx, MonthlyReportQueue(app.email), Month(2026, 2), heartbeat=beat,
                       workers=workers, processes_from=1, batch_size=1)
    os._exit(1)  # not reached
