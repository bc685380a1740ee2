"""`jobs list|run|history [--json]` and `worker` (the scheduler and the mail outbox, headless,
for a back-office machine)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from parking_desktop.cli.base import (
    EXIT_OK,
    EXIT_REFUSED,
    AppFactory,
    count_value,
    print_error,
    print_json,
    print_table,
    text_value,
)
from parking_desktop.domain.roles import SYSTEM

if TYPE_CHECKING:
    from parking_desktop.services.jobs.ledger import JobRunView

log = logging.getLogger("parking_desktop.jobs")


def register(sub: Any) -> None:
    jobs = sub.add_parser("jobs", help="scheduled jobs: list them, run one now, see their runs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    listing = jobs_sub.add_parser("list", help="each job with its schedule, next and last run")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_list)
    run = jobs_sub.add_parser(
        "run", help="run a job now (mails it queues are sent by the worker or `mail flush`)")
    run.add_argument("name", metavar="NAME",
                     help="daily_reminder, monthly_report, cleanup_exports or outbox_dispatch")
    run.add_argument("--json", action="store_true", help="print the run as JSON")
    run.set_defaults(func=_run)
    history = jobs_sub.add_parser("history", help="the latest runs, newest first")
    history.add_argument("--job", metavar="NAME", type=text_value, help="only this job")
    history.add_argument("--limit", type=count_value, default=20, metavar="N",
                         help="how many (20)")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(func=_history)

    worker = sub.add_parser(
        "worker", help="run the scheduled jobs headless until SIGTERM or Ctrl+C",
        description="Runs the scheduler (reminders, monthly reports, export cleanup, the mail "
                    "outbox) without a window, logging each run, until SIGTERM or Ctrl+C. "
                    "Missed periods are caught up at start. Several workers and desktops can "
                    "share one PostgreSQL database: each period still runs once.")
    worker.add_argument("--once", action="store_true",
                        help="catch up what is due, deliver the outbox once, then exit")
    worker.set_defaults(func=_worker)


def run_document(run: JobRunView) -> dict[str, Any]:
    return {
        "job": run.job, "status": run.status, "period_key": run.period_key,
        "started_at": run.started_at, "finished_at": run.finished_at,
        "duration_seconds": None if run.duration_seconds is None
        else round(run.duration_seconds, 3),
        "host": run.host, "counts": run.counts, "error": run.error,
    }


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return "-" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _counts_text(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if k != "attempt"
                     and not isinstance(v, list | dict))


def _list(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    jobs = app.jobs.scheduler.jobs(SYSTEM)
    if args.json:
        print_json([
            {"job": j.name, "title": j.title, "schedule": j.schedule, "next_run": j.next_run,
             "paused": j.paused, "last_run": run_document(j.last_run) if j.last_run else None}
            for j in jobs
        ])
        return EXIT_OK
    tz = app.settings.tz
    rows = []
    for j in jobs:
        last = j.last_run
        rows.append([
            j.name, j.schedule, _when(j.next_run, tz),
            "-" if last is None else f"{last.status} {last.period_key}",
            "-" if last is None else _when(last.finished_at or last.started_at, tz),
            "-" if last is None else _counts_text(last.counts) or "-",
        ])
    print_table(["JOB", "SCHEDULE", f"NEXT RUN ({app.settings.app_timezone})", "LAST RUN",
                 "AT", "COUNTS"], rows)
    return EXIT_OK


def _run(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    run = app.jobs.scheduler.run_job_now(args.name)
    if args.json:
        print_json(run_document(run))
    else:
        took = f" in {run.duration_seconds:.1f} s" if run.duration_seconds is not None else ""
        print(f"{run.job} {run.status}{took}: {_counts_text(run.counts) or 'nothing to do'}")
    if run.status == "failed":
        print_error(f"{run.job} failed: {run.error}")
        return EXIT_REFUSED
    return EXIT_OK


def _history(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    runs = app.jobs.scheduler.history(SYSTEM, args.job, args.limit)
    if args.json:
        print_json([run_document(r) for r in runs])
        return EXIT_OK
    tz = app.settings.tz
    print_table(
        ["JOB", "PERIOD", "STATUS", "STARTED", "SECONDS", "HOST", "COUNTS / ERROR"],
        [[r.job, r.period_key, r.status, _when(r.started_at, tz),
          "-" if r.duration_seconds is None else f"{r.duration_seconds:.1f}", r.host or "-",
          r.error or _counts_text(r.counts) or "-"] for r in runs],
    )
    return EXIT_OK


def _worker(args: argparse.Namespace, app_factory: AppFactory) -> int:
    _log_runs_to_stderr()
    app = app_factory()
    scheduler = app.jobs.scheduler
    if not app.settings.scheduler_enabled:
        log.info("SCHEDULER_ENABLED is false: that keeps desktops and kiosks from scheduling; "
                 "this worker runs the jobs anyway")
    if args.once:
        runs = scheduler.catch_up()
        outbox = scheduler.run_job_now("outbox_dispatch")
        log.info("Caught up %d run(s); outbox: %s", len(runs), _counts_text(outbox.counts))
        if outbox.status == "failed":
            sys.stderr.write(f"error: outbox_dispatch failed: {outbox.error}\n")
        return EXIT_REFUSED if any(r.status == "failed" for r in [*runs, outbox]) else EXIT_OK

    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("Received %s: stopping after the current step", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in _stop_signals()}
    try:
        scheduler.start()
        # Mails queued while no worker ran go out now, not a minute from now.
        scheduler.run_soon("outbox_dispatch")
        log.info("Worker running on %s; stop it with SIGTERM or Ctrl+C", app.db.description)
        while not stop.wait(0.5):
            if scheduler.watch.due():
                scheduler.watch.probe()  # logs once when the database goes, once when back
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("Worker stopped")
    return EXIT_OK


def _stop_signals() -> list[signal.Signals]:
    signals = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):  # Ctrl+Break in a Windows console
        signals.append(signal.SIGBREAK)
    return signals


def _log_runs_to_stderr() -> None:
    """One line per run (and per problem) on stderr, whatever -v says."""
    logger = logging.getLogger("parking_desktop.jobs")
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    if not any(getattr(h, "_parking_worker", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler._parking_worker = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
