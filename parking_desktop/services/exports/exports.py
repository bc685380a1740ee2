"""CSV exports: request, status, save, history,
cancel, the manager's list of all jobs, clean-up, and crash recovery at start.

A request creates a ``pending`` job and starts it in the background (export_runner); screens
poll ``status``. ``save`` copies the finished file to where the user chose (the desktop's save
dialog); once the job has expired that is refused with a clear message.
Scopes and roles: export_scope. The file itself: adapters.csv_export."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from parking_desktop.adapters.csv_export import CopySink, temporary_path
from parking_desktop.adapters.db.models import ExportJob, User
from parking_desktop.adapters.job_lease import JobLeases, Lease
from parking_desktop.config import Settings
from parking_desktop.domain.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.files import (
    UnsafePathError,
    WriteBehind,
    atomic_write,
    check_file_target,
    describe_write_error,
    ensure_private_dir,
)
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.exports.cleanup import CleanupSummary, cleanup_exports
from parking_desktop.services.exports.runner import ExportRunner, ProgressHook, export_path
from parking_desktop.services.exports.scope import (
    ExportForm,
    ExportScope,
    resolve,
    scope_from_form,
)
from parking_desktop.services.guards import require_manager
from parking_desktop.services.parking.activity import record
from parking_desktop.services.views import HistoryRequest, Page, UserView

log = logging.getLogger(__name__)

STATUSES = ("pending", "processing", "completed", "failed", "cancelled", "expired")
OPEN_STATUSES = ("pending", "processing")
HISTORY_SIZE = 10
ONE_OPEN_JOB = ("You already have an export in progress; wait for it to finish or cancel it "
                "before asking for another.")
INTERRUPTED = ("The export was interrupted: the program stopped before it finished. "
               "Request it again.")
KEY_FILE = "export-pseudonym.key"


class ExportExpiredError(ConflictError):
    """The export's file is gone for good: it expired and was cleaned up."""


@dataclass(frozen=True)
class ExportJobView:
    job_id: str
    requested_by: int | None
    requester: str  # username, or "system"
    label: str  # the scope in words
    scope: dict[str, Any]
    status: str
    progress: int
    row_count: int
    total_rows: int | None
    file_path: str | None
    error_message: str | None
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    expired: bool

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def can_save(self) -> bool:
        return self.status == "completed" and not self.expired

    @property
    def status_text(self) -> str:
        if self.expired:
            return "expired"
        if self.status == "processing" and self.total_rows:
            return f"processing ({self.row_count:,} of {self.total_rows:,} rows)"
        return self.status


# Called when a job the requester wanted e-mailed is complete (see mail_notifier).
Notify = Callable[[UserView, ExportJobView], None]


class _ExportMailer(Protocol):
    outbox: Any

    def send_export_ready(self, user: Any, job: Any) -> Any: ...


def mail_notifier(email: Callable[[], _ExportMailer]) -> Notify:
    """Queue the export-ready mail (file attached when small) and try to deliver it at once;
    if the server is unreachable it stays in the outbox and is retried by the dispatcher.
    ``email`` gives the mail service when a mail is due: an export that mails nothing (the
    CLI's) never loads it."""

    def notify(user: UserView, job: ExportJobView) -> None:
        if not user.email:
            return
        mailer = email()
        queued = mailer.send_export_ready(user, job)
        mailer.outbox.deliver_now(queued.id)

    return notify


class ExportService:
    def __init__(
        self,
        ctx: ServiceContext,
        upload_folder: Path,
        expiry_hours: int,
        *,
        key_file: Path | None = None,
        notify: Notify | None = None,
        mail_delayed: Callable[[], bool] | None = None,
        currency: str = "EUR",
    ) -> None:
        self.ctx = ctx
        # Whether queued mail is failing to get out right now (the outbox's health).
        self._mail_delayed = mail_delayed or (lambda: False)
        self.folder = upload_folder
        self.expiry_hours = expiry_hours
        self._key_file = key_file or upload_folder.parent / KEY_FILE
        self._notify = notify
        self.leases = JobLeases(ctx.db.engine, upload_folder)
        self._held: dict[str, Lease] = {}  # leases of jobs created with start=False
        self.runner = ExportRunner(ctx, upload_folder, expiry_hours, self.pseudonym_key,
                                   on_finished=self._after_job, currency=currency)

    # --- asking for an export -------------------------------------------------------------
    def request(self, actor: Actor, scope: ExportScope, *,
                on_progress: ProgressHook | None = None, start: bool = True) -> str:
        """Create a job and start it in the background; returns its job id.

        ``start=False`` leaves it pending for ``run`` (the CLI runs it in the foreground)."""
        if actor.user_id is not None:
            # A job of theirs that a killed process left "in progress" must not block them.
            self._recover(self._open_jobs(ExportJob.requested_by == actor.user_id))
        job_id = str(uuid.uuid4())
        now = self.ctx.clock.now()
        lease = self.leases.acquire(job_id)  # held from before the row exists: see recover()
        try:
            with self.ctx.write("exports", "activity", conflict=ONE_OPEN_JOB) as session:
                resolved = resolve(session, actor, scope, now, self.ctx.tz)
                if resolved.scope.email:
                    self._check_mail_address(session, actor)
                if actor.user_id is not None and session.scalar(
                    select(ExportJob.id).where(ExportJob.requested_by == actor.user_id,
                                               ExportJob.status.in_(OPEN_STATUSES))
                ):
                    raise ConflictError(ONE_OPEN_JOB)
                session.add(ExportJob(
                    job_id=job_id, requested_by=actor.user_id, scope=resolved.to_json(),
                    status="pending", progress=0, row_count=0, created_at=now,
                ))
                record(session, actor.user_id, "csv_export_requested",
                       {"job_id": job_id, "scope": resolved.label}, now)
        except BaseException:
            lease.release()
            raise
        if start:
            self.runner.start(job_id, lease, on_progress)
        else:
            self._held[job_id] = lease
        return job_id

    def request_form(self, actor: Actor, form: ExportForm, *,
                     on_progress: ProgressHook | None = None) -> str:
        """``request`` for a form as typed (the desktop): the scope is built and checked
        here, a wrong field refused with a FieldError naming it."""
        with self.ctx.read() as session:
            scope = scope_from_form(session, actor, form)
        return self.request(actor, scope, on_progress=on_progress)

    def run(self, job_id: str, on_progress: ProgressHook | None = None, *,
            copy: CopySink | None = None) -> ExportJobView:
        """Run a job created with ``start=False`` on the calling thread; returns its end state.
        A CSV job's bytes also go to ``copy`` as they are written (see ``run_to``)."""
        lease = self._held.pop(job_id, None)
        if lease is None:
            raise ConflictError("That export is not waiting to be run here.")
        self.runner.run(job_id, lease, on_progress, copy)
        return self._view_of(job_id)

    def run_to(self, actor: Actor, job_id: str, destination: Path | str,
               on_progress: ProgressHook | None = None) -> ExportJobView:
        """``run`` then ``save`` (``main.py export --out``), with the file written to
        ``destination`` as it is made instead of copied from the finished one: the same two
        private files, each complete or absent, without writing hundreds of MB twice in a row.
        ``destination`` is only replaced when the export completes."""
        target = _save_target(destination)
        with self.ctx.read() as session:
            job, _ = self._load(session, job_id)
            self._check_owner(actor, job, "save")
        if job_id not in self._held:
            raise ConflictError("That export is not waiting to be run here.")
        copy = _Copy()
        try:
            with contextlib.ExitStack() as stack:
                try:
                    stack.enter_context(_saving(target))
                    handle = stack.enter_context(atomic_write(target))
                except BaseException:
                    # The destination cannot be opened: the export is made all the same (in
                    # the history, as when save() fails after run()), then the save's error.
                    self.run(job_id, on_progress)
                    raise
                copy.handle = WriteBehind(handle)
                written = self.run(job_id, on_progress, copy=copy)
                if written.status != "completed" or not copy.used:
                    raise _NotSaved(written)  # nothing at destination
                if copy.error is not None:
                    raise copy.error  # a failed save, as in save(): the export is complete
        except _NotSaved as not_saved:
            if not_saved.view.status == "completed":  # a data bundle: written in one go
                self.save(actor, job_id, target)
            return not_saved.view
        self._record_download(actor, job_id, written.row_count, target)
        return written

    def email_my_history(self, actor: Actor) -> HistoryRequest:
        """The kiosk's "E-mail me my history": export the driver's own history and mail it.
        Says too whether mail is delayed right now, so the driver is promised no more than
        the outbox can keep."""
        if actor.role is not Role.DRIVER:
            raise PermissionDeniedError("Only a driver can have their history e-mailed.")
        job_id = self.request(actor, ExportScope.driver(actor.user_id or 0, email=True))
        return HistoryRequest(job_id, self._mail_delayed())

    # --- following it ---------------------------------------------------------------------
    def status(self, actor: Actor, job_id: str) -> ExportJobView:
        with self.ctx.read() as session:
            job, username = self._load(session, job_id)
            self._check_owner(actor, job, "see")
            view = self._view(job, username)
        if view.is_open and self._recover([view.job_id]):
            view = self._view_of(view.job_id)
        return view

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait for a job running in this process to end (tests, CLI, shutdown)."""
        return self.runner.wait(job_id, timeout)

    def history(self, actor: Actor) -> list[ExportJobView]:
        """The actor's own last ten exports, newest first, each with its expired flag."""
        owner = (ExportJob.requested_by.is_(None) if actor.user_id is None
                 else ExportJob.requested_by == actor.user_id)
        query = (self._query().where(owner)
                 .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(HISTORY_SIZE))
        with self.ctx.read() as session:
            views = [self._view(job, name) for job, name in session.execute(query).all()]
        if self._recover([v.job_id for v in views if v.is_open]):
            with self.ctx.read() as session:
                views = [self._view(job, name) for job, name in session.execute(query).all()]
        return views

    def jobs(self, actor: Actor, *, status: str | None = None, offset: int = 0,
             limit: int = 50) -> Page[ExportJobView]:
        """Every export (managers): newest first, optionally one status, in pages. "expired"
        includes finished exports whose time is up but which the clean-up has not reached."""
        require_manager(actor, "see everyone's exports")
        if status and status not in STATUSES:
            raise ValidationError(f"Status '{status}' is not one of {', '.join(STATUSES)}.")
        now = self.ctx.clock.now()
        condition: Any = None
        if status == "expired":
            condition = or_(ExportJob.status == "expired",
                            and_(ExportJob.status == "completed", ExportJob.expires_at <= now))
        elif status == "completed":
            condition = and_(ExportJob.status == "completed",
                             or_(ExportJob.expires_at.is_(None), ExportJob.expires_at > now))
        elif status:
            condition = ExportJob.status == status
        limit = max(1, min(limit, 500))
        query = self._query()
        count = select(func.count(ExportJob.id))
        if condition is not None:
            query = query.where(condition)
            count = count.where(condition)
        query = (query.order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
                 .offset(max(0, offset)).limit(limit))
        with self.ctx.read() as session:
            total = session.scalar(count) or 0
            items = [self._view(job, name) for job, name in session.execute(query).all()]
        if self._recover([v.job_id for v in items if v.is_open]):
            with self.ctx.read() as session:  # a recovered job may have left this page's filter
                total = session.scalar(count) or 0
                items = [self._view(job, name) for job, name in session.execute(query).all()]
        return Page(items=items, total=total, offset=offset, limit=limit)

    # --- cancelling and saving ------------------------------------------------------------
    def cancel(self, actor: Actor, job_id: str) -> ExportJobView:
        now = self.ctx.clock.now()
        with self.ctx.write("exports", "activity") as session:
            job, username = self._load(session, job_id, lock=True)
            self._check_owner(actor, job, "cancel")
            if job.status not in OPEN_STATUSES:
                raise ConflictError(f"This export is {self._status_word(job)}; only an export "
                                    "that is waiting or running can be cancelled.")
            job.status = "cancelled"
            job.completed_at = now
            record(session, actor.user_id, "csv_export_cancelled",
                   {"job_id": job_id, "rows_done": job.row_count,
                    "for_user_id": job.requested_by}, now)
            view = self._view(job, username)
        self.runner.cancel(job_id)  # this process's thread stops at once; others at next tick
        return view

    def save(self, actor: Actor, job_id: str, destination: Path | str) -> Path:
        """Copy the finished file to ``destination`` (the path the save dialog returned)."""
        target = _save_target(destination)
        with self.ctx.read() as session:
            job, _ = self._load(session, job_id)
            self._check_owner(actor, job, "save")
            if self._expired(job):
                raise ExportExpiredError(self._expired_message(job))
            if job.status != "completed" or not job.file_path:
                raise ConflictError(f"This export is {self._status_word(job)}; only a finished "
                                    "export can be saved.")
            source = Path(job.file_path)
            rows = job.row_count
        if not source.is_file():
            # Files live in each computer's UPLOAD_FOLDER: a job made on another desktop
            # sharing the PostgreSQL database has its file over there.
            raise NotFoundError("The export's file is not on this computer (it was made on "
                                "another one, or has been deleted); request a new export here.")
        _copy_private(source, target)
        self._record_download(actor, job_id, rows, target)
        return target

    def _record_download(self, actor: Actor, job_id: str, rows: int, target: Path) -> None:
        with self.ctx.write("activity") as session:
            record(session, actor.user_id, "csv_export_downloaded",
                   {"job_id": job_id, "rows": rows, "to": str(target)}, self.ctx.clock.now())

    # --- housekeeping ---------------------------------------------------------------------
    def cleanup(self, actor: Actor = SYSTEM) -> CleanupSummary:
        """Delete expired files and mark their jobs expired ("Clean up now", the nightly job);
        also removes temporary files that crashed exports left behind."""
        require_manager(actor, "clean up exports")
        summary = cleanup_exports(self.ctx, self.folder, self.expiry_hours)
        self._remove_stray_temporaries()
        return summary

    def recover(self) -> int:
        """A job still pending or processing whose lease nobody holds was left by a process
        that stopped (a crash, a power cut, kill -9): mark it failed, saying why. Runs at start,
        and again for the jobs a screen looks at (status, history, the jobs list) or whose
        requester asks for a new export, so a program that stays open for days never shows a
        dead export as "in progress"."""
        return self._recover(self._open_jobs(None))

    def _open_jobs(self, condition: Any) -> list[str]:
        query = select(ExportJob.job_id).where(ExportJob.status.in_(OPEN_STATUSES))
        if condition is not None:
            query = query.where(condition)
        with self.ctx.read() as session:
            return list(session.scalars(query).all())

    def _recover(self, job_ids: Iterable[str]) -> int:
        recovered = 0
        for job_id in job_ids:
            if (self.runner.is_running(job_id) or job_id in self._held
                    or not self.leases.is_free(job_id)):
                continue  # running here or in another live process
            now = self.ctx.clock.now()
            with self.ctx.write("exports", "activity") as session:
                requester = session.scalar(
                    select(ExportJob.requested_by).where(ExportJob.job_id == job_id))
                changed = session.execute(
                    update(ExportJob)
                    .where(ExportJob.job_id == job_id, ExportJob.status.in_(OPEN_STATUSES))
                    .values(status="failed", error_message=INTERRUPTED, completed_at=now)
                ).rowcount  # type: ignore[attr-defined]
                if changed:
                    record(session, requester, "csv_export_failed",
                           {"job_id": job_id, "reason": INTERRUPTED}, now)
                    recovered += 1
            with contextlib.suppress(OSError):
                temporary_path(export_path(self.folder, job_id)).unlink()
        if recovered:
            log.warning("%d interrupted export(s) marked failed", recovered)
        return recovered

    def shutdown(self) -> None:
        """Stop this process's running exports (they end as failed, saying why)."""
        self.runner.shutdown()
        for lease in self._held.values():
            with contextlib.suppress(Exception):
                lease.release()
        self._held.clear()

    def pseudonym_key(self) -> str:
        """The site's key for driver pseudonyms (same driver, same pseudonym, every export).
        Kept in a private file next to the exports folder, created on first use."""
        with contextlib.suppress(FileNotFoundError):
            key = self._key_file.read_text(encoding="ascii").strip()
            if key:
                return key
        ensure_private_dir(self._key_file.parent)
        key = secrets.token_hex(32)
        try:
            fd = os.open(self._key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return self._key_file.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
        return key

    # --- internals ------------------------------------------------------------------------
    def _after_job(self, job_id: str) -> None:
        """E-mail the requester when they asked for it (the kiosk), attaching small files."""
        if self._notify is None:
            return
        with self.ctx.read() as session:
            job, username = self._load(session, job_id)
            if job.status != "completed" or not job.scope.get("email") or not job.requested_by:
                return
            user = session.get(User, job.requested_by)
            if user is None:
                return
            view = self._view(job, username)
            recipient = UserView(
                id=user.id, username=user.username, email=user.email, full_name=user.full_name,
                role=Role(user.role), is_active=user.is_active, last_login=user.last_login,
                last_booking=user.last_booking, created_at=user.created_at,
            )
        self._notify(recipient, view)

    @staticmethod
    def _check_mail_address(session: Session, actor: Actor) -> None:
        address = session.scalar(select(User.email).where(User.id == actor.user_id))
        if not address:
            raise ValidationError("Your account has no e-mail address; ask the staff to add "
                                  "one, then try again.")

    def _remove_stray_temporaries(self) -> None:
        for temp in self.folder.glob(".export-*.csv.part"):
            job_id = temp.name[len(".export-"):-len(".csv.part")]
            if not self.runner.is_running(job_id) and self.leases.is_free(job_id):
                with contextlib.suppress(OSError):
                    temp.unlink()

    @staticmethod
    def _query() -> Any:
        return select(ExportJob, User.username).outerjoin(User, User.id == ExportJob.requested_by)

    def _load(self, session: Session, job_id: str,
              lock: bool = False) -> tuple[ExportJob, str | None]:
        query = self._query().where(ExportJob.job_id == str(job_id).strip())
        if lock:
            query = query.with_for_update(of=ExportJob)
        row = session.execute(query).first()
        if row is None:
            raise NotFoundError(f"There is no export {job_id}.")
        return row[0], row[1]

    def _view_of(self, job_id: str) -> ExportJobView:
        with self.ctx.read() as session:
            job, username = self._load(session, job_id)
            return self._view(job, username)

    @staticmethod
    def _check_owner(actor: Actor, job: ExportJob, verb: str) -> None:
        if actor.is_manager or job.requested_by == actor.user_id:
            return
        raise PermissionDeniedError(f"You can only {verb} your own exports.")

    def _expired(self, job: ExportJob) -> bool:
        if job.status == "expired":
            return True
        return (job.status == "completed" and job.expires_at is not None
                and job.expires_at <= self.ctx.clock.now())

    def _expired_message(self, job: ExportJob) -> str:
        when = (job.expires_at.astimezone(self.ctx.tz).strftime("%Y-%m-%d %H:%M")
                if job.expires_at else "")
        return (f"This export expired{' on ' + when if when else ''} and its file has been "
                "deleted; request a new export.")

    def _status_word(self, job: ExportJob) -> str:
        if self._expired(job):
            return "expired"
        return {"pending": "waiting to start", "processing": "still running"}.get(
            job.status, job.status)

    def _view(self, job: ExportJob, username: str | None) -> ExportJobView:
        scope = dict(job.scope or {})
        return ExportJobView(
            job_id=job.job_id, requested_by=job.requested_by,
            requester=username or ("system" if job.requested_by is None else "(deleted)"),
            label=str(scope.get("label", "")), scope=scope, status=job.status,
            progress=job.progress, row_count=job.row_count, total_rows=job.total_rows,
            file_path=job.file_path, error_message=job.error_message, created_at=job.created_at,
            completed_at=job.completed_at, expires_at=job.expires_at, expired=self._expired(job),
        )


class _NotSaved(Exception):
    """run_to: the export ended without a file for the destination (failed, cancelled, or a
    bundle, which is saved afterwards)."""

    def __init__(self, view: ExportJobView) -> None:
        super().__init__(view.status)
        self.view = view


class _Copy:
    """The destination's bytes as the export writes them (a CopySink). A write error is kept,
    not raised: the export in UPLOAD_FOLDER goes on, and run_to reports it as a failed save."""

    def __init__(self) -> None:
        self.handle: WriteBehind | None = None
        self.error: OSError | None = None
        self.used = False

    def write(self, data: bytes, /) -> object:
        self.used = True
        if self.error is None and self.handle is not None:
            try:
                self.handle.write(data)
            except OSError as exc:
                self.error = exc
        return None


def _save_target(destination: Path | str) -> Path:
    target = Path(destination).expanduser()
    try:
        check_file_target(target)
    except UnsafePathError as exc:
        raise ValidationError(f"{exc} Choose a file name.") from None
    return target


@contextlib.contextmanager
def _saving(target: Path) -> Iterator[None]:
    """Errors writing ``target`` as the one-line refusals of a save."""
    if not target.parent.is_dir():
        raise ValidationError(f"The folder {target.parent} does not exist.")
    try:
        yield
    except UnsafePathError as exc:
        raise ValidationError(f"{exc} Choose a file name.") from None
    except OSError as exc:
        raise DomainError("The export could not be saved: "
                          + describe_write_error(exc, target.parent, "the folder")) from None


def _copy_private(source: Path, target: Path) -> None:
    """Copy through a temporary file in the target folder, then rename over the target (a
    regular file or a new name, never a device, FIFO, folder or link): the user never sees a
    half-copied file under the name they chose. The copy is private (0600): it holds personal
    data. A temporary that a killed copy left there is removed by the next copy into that
    folder (files.py)."""
    with _saving(target), atomic_write(target) as out, source.open("rb") as src:
        _copy_bytes(src, out)


def _copy_bytes(src: BinaryIO, out: BinaryIO) -> None:
    """Copy ``src`` to ``out`` in the kernel where it can (an export can be hundreds of MB;
    copy_file_range also lets the file system share the blocks), else through a buffer."""
    out.flush()
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        try:
            while copy_range(src.fileno(), out.fileno(), 1 << 30):
                pass
            return
        except OSError as exc:
            # Not supported between these file systems (or at all): copy in user space, from
            # where the kernel stopped. Any other error is a real one.
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
        src.seek(os.lseek(src.fileno(), 0, os.SEEK_CUR))
        out.seek(os.lseek(out.fileno(), 0, os.SEEK_CUR))
    while chunk := src.read(1 << 20):
        out.write(chunk)


def build_export_service(ctx: ServiceContext, settings: Settings,
                         email: Callable[[], _ExportMailer] | None = None) -> ExportService:
    """The export service for ``build_app``; marks exports a crash left behind as failed.
    ``email`` builds (or returns) the mail service on first need, not here."""
    service = ExportService(
        ctx, settings.upload_folder, settings.csv_export_expiry_hours,
        key_file=settings.data_dir / KEY_FILE,
        notify=mail_notifier(email) if email is not None else None,
        mail_delayed=(lambda: bool(email().outbox.delivery_delayed()))
        if email is not None else None,
        currency=settings.currency,
    )
    service.recover()
    return service
