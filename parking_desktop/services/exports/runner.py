"""Runs export jobs in background threads (no Qt: the desktop, kiosk, worker and CLI share it).

One thread per job: jobs are few (one open job per requester) and each spends its time in the
database or on the disk. The thread holds the job's lease (adapters.job_lease) from the moment
the job is created until it ends, which is how a later start-up tells a crashed job from one
still running in another process.

Progress goes to the database about twice a second (so any screen, in any process, can poll
it); the same statement notices a cancel made elsewhere, because it only updates a job that is
still processing."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from parking_desktop.adapters.csv_export import (
    CopySink,
    CsvOptions,
    ExportCancelled,
    temporary_path,
    write_csv,
)
from parking_desktop.adapters.db.models import ExportJob
from parking_desktop.adapters.job_lease import Lease
from parking_desktop.files import describe_write_error
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.exports.bundle import write_bundle
from parking_desktop.services.exports.scope import ResolvedScope
from parking_desktop.services.parking.activity import record

log = logging.getLogger(__name__)

ProgressHook = Callable[[str, int, int], None]  # job_id, rows done, total rows
FinishedHook = Callable[[str], None]  # job_id, after the job reached its final status
FAILED_PREFIX = "The export failed: "
CLOSED_REASON = "The program was closed while the export was running. Request it again."
STOPPED_REASON = "The export was stopped before it finished. Request it again."


def export_path(folder: Path, job_id: str, suffix: str = ".csv") -> Path:
    return folder / f"export-{job_id}{suffix}"


@dataclass
class _Running:
    thread: threading.Thread | None
    cancel: threading.Event = field(default_factory=threading.Event)


class ExportRunner:
    def __init__(self, ctx: ServiceContext, folder: Path, expiry_hours: int,
                 pseudonym_key: Callable[[], str],
                 on_finished: FinishedHook | None = None, currency: str = "EUR") -> None:
        self.ctx = ctx
        self.currency = currency  # the site's, written next to every cost
        self.folder = folder
        self.expiry_hours = expiry_hours
        self._pseudonym_key = pseudonym_key
        self._on_finished = on_finished
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._closing = False

    # --- starting and stopping ------------------------------------------------------------
    def start(self, job_id: str, lease: Lease, on_progress: ProgressHook | None = None) -> None:
        """Run the job on its own thread (the thread releases the lease when done)."""
        # A daemon: a stuck export must never keep the program from exiting (App.close stops
        # running exports first; one killed at exit is marked failed at the next start).
        thread = threading.Thread(target=self.run, args=(job_id, lease, on_progress),
                                  name=f"export-{job_id[:8]}", daemon=True)
        with self._lock:
            self._running[job_id] = _Running(thread)
        thread.start()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            running = self._running.get(job_id)
        if running is not None:
            running.cancel.set()

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait for a job running in this process; True when it is not running (any more)."""
        with self._lock:
            running = self._running.get(job_id)
        if running is None or running.thread is None:
            return True
        running.thread.join(timeout)
        return not running.thread.is_alive()

    def is_running(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._running

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every job of this process (they end as failed: "the program was closed")."""
        with self._lock:
            self._closing = True
            running = list(self._running.values())
        for item in running:
            item.cancel.set()
        for item in running:
            if item.thread is not None:
                item.thread.join(timeout)

    # --- one job --------------------------------------------------------------------------
    def run(self, job_id: str, lease: Lease, on_progress: ProgressHook | None = None,
            copy: CopySink | None = None) -> bool:
        """Run a job to its end on the calling thread (the CLI uses this directly). A CSV job
        also writes its bytes to ``copy``; returns whether it did (a bundle does not)."""
        with self._lock:
            running = self._running.setdefault(job_id, _Running(None))
            if self._closing:
                running.cancel.set()
        try:
            return self._run(job_id, running.cancel, on_progress, copy)
        finally:
            with contextlib.suppress(Exception):
                lease.release()
            try:
                if self._on_finished is not None:
                    try:
                        self._on_finished(job_id)
                    except Exception:  # a notification problem never breaks the runner
                        log.exception("After-export step failed for job %s", job_id)
            finally:
                # Last: wait() returns once the job is gone from here, and by then its
                # after-export step (the driver's e-mail) has run too.
                with self._lock:
                    self._running.pop(job_id, None)

    def _run(self, job_id: str, cancel: threading.Event,
             on_progress: ProgressHook | None, copy: CopySink | None = None) -> bool:
        with self.ctx.write("exports") as session:
            job = session.scalar(select(ExportJob).where(ExportJob.job_id == job_id)
                                 .with_for_update())
            if job is None or job.status != "pending":
                return False  # cancelled before it began
            job.status = "processing"
            scope = ResolvedScope.from_json(dict(job.scope))
            requester = job.requested_by
        if scope.scope.is_bundle:
            self._bundle(job_id, requester, scope)
            return False
        options = CsvOptions(
            tz=self.ctx.tz, driver_column=scope.scope.driver_column,
            anonymize=scope.scope.anonymize,
            pseudonym_key=self._pseudonym_key() if scope.scope.anonymize else "",
            currency=self.currency,
        )
        path = export_path(self.folder, job_id)

        def progress(done: int, total: int) -> None:
            if not self._store_progress(job_id, done, total):
                cancel.set()  # cancelled (or failed) from elsewhere
            if on_progress is not None:
                on_progress(job_id, done, total)

        try:
            result = write_csv(self.ctx.db.engine, scope.export_filter(self.ctx.tz), options,
                               path, now=self.ctx.clock.now(), progress=progress, cancel=cancel,
                               copy=copy)
        except ExportCancelled:
            if self._closing:
                self._fail(job_id, requester, CLOSED_REASON)
            return True
        except OSError as exc:
            # Disk full, a file size limit, no permission: the reason goes to the job (and so
            # to the screen or the one error line of the CLI), not as a traceback.
            reason = FAILED_PREFIX + describe_write_error(exc, self.folder, "the export folder")
            log.info("Export %s failed: %s", job_id, reason)
            self._fail(job_id, requester, reason)
            return True
        except Exception as exc:
            log.exception("Export %s failed", job_id)
            self._fail(job_id, requester, FAILED_PREFIX + _plain(exc))
            return True
        except BaseException:  # Ctrl+C in the CLI: the job must not stay "processing"
            self._fail(job_id, requester, STOPPED_REASON)
            raise
        self._complete(job_id, requester, path, result.rows)
        return True

    def _bundle(self, job_id: str, requester: int | None, scope: ResolvedScope) -> None:
        """A driver's data bundle: small (one person's rows), written in one go."""
        path = export_path(self.folder, job_id, ".zip")
        try:
            rows = write_bundle(self.ctx, scope.scope.user_id or 0, path)
        except OSError as exc:
            self._fail(job_id, requester, FAILED_PREFIX + describe_write_error(
                exc, self.folder, "the export folder"))
            return
        except Exception as exc:
            log.exception("Export %s failed", job_id)
            self._fail(job_id, requester, FAILED_PREFIX + _plain(exc))
            return
        self._complete(job_id, requester, path, rows)

    def _store_progress(self, job_id: str, done: int, total: int) -> bool:
        """Save progress; False when the job is no longer processing (cancelled elsewhere)."""
        percent = 100 if total <= 0 else min(99, done * 100 // total)
        try:
            with self.ctx.db.write() as session:
                changed = session.execute(
                    update(ExportJob)
                    .where(ExportJob.job_id == job_id, ExportJob.status == "processing")
                    .values(progress=percent, row_count=done, total_rows=total)
                ).rowcount  # type: ignore[attr-defined]
        except Exception:  # e.g. the database is busy for a moment: try again next tick
            log.debug("Could not store export progress", exc_info=True)
            return True
        return bool(changed)

    def _complete(self, job_id: str, requester: int | None, path: Path, rows: int) -> None:
        now = self.ctx.clock.now()
        with self.ctx.write("exports", "activity") as session:
            job = session.scalar(select(ExportJob).where(ExportJob.job_id == job_id)
                                 .with_for_update())
            if job is None or job.status != "processing":
                # Cancelled in the last moment: the finished file must not outlive the job.
                with contextlib.suppress(OSError):
                    path.unlink()
                return
            job.status = "completed"
            job.progress = 100
            job.row_count = rows
            job.total_rows = rows
            job.file_path = str(path)
            job.completed_at = now
            job.expires_at = now + timedelta(hours=self.expiry_hours)
            record(session, requester, "csv_export_completed",
                   {"job_id": job_id, "rows": rows, "scope": job.scope.get("label")}, now)

    def _fail(self, job_id: str, requester: int | None, reason: str) -> None:
        now = self.ctx.clock.now()
        with self.ctx.write("exports", "activity") as session:
            changed = session.execute(
                update(ExportJob)
                .where(ExportJob.job_id == job_id,
                       ExportJob.status.in_(("pending", "processing")))
                .values(status="failed", error_message=reason, completed_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if changed:
                record(session, requester, "csv_export_failed",
                       {"job_id": job_id, "reason": reason}, now)
        with contextlib.suppress(OSError):
            temporary_path(export_path(self.folder, job_id)).unlink()


def _plain(exc: BaseException) -> str:
    from sqlalchemy.exc import OperationalError

    from parking_desktop.domain.errors import DomainError

    if isinstance(exc, DomainError):
        return str(exc)
    if isinstance(exc, OperationalError):
        return "the database could not be read."
    text: Any = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"an unexpected error ({text})."
