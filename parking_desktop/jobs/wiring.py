"""Builds the SchedulerService for an App (called from bootstrap) and keeps its schedule in step
with the settings: when the Settings screen saves (change topic "settings"), the job times are
read again - environment first, then the settings file - and the jobs are rescheduled."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from parking_desktop.config import (
    ConfigError,
    Settings,
    clean_values,
    names_for,
    refreshed,
    save_settings,
    settings_as_env,
)
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.jobs.definitions import (
    NO_SHOWS,
    OUTBOX_DISPATCH,
    ExceptionsDigest,
    JobDeps,
    build_specs,
)
from parking_desktop.jobs.mail import (
    MonthlyReportQueue,
    ReminderQueue,
    dispatch_counts,
    render_report_html,
    report_workers,
)
from parking_desktop.jobs.runner import JobRunner, heartbeat_every
from parking_desktop.jobs.scheduler import SWEEP_EVERY, SchedulerService
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.exports.exports import ExportService
from parking_desktop.services.guards import require_manager
from parking_desktop.services.jobs.ledger import JobLedger
from parking_desktop.services.mail.email import EmailService
from parking_desktop.services.mail.monthly_report import Month, MonthlyReport, preview_report
from parking_desktop.services.parking.activity import record
from parking_desktop.services.parking.no_shows import cancel_no_shows
from parking_desktop.services.parking.parking import ParkingService

log = logging.getLogger("parking_desktop.jobs")

OUTBOX_HISTORY = timedelta(days=31)
JOB_HISTORY = timedelta(days=400)

# The job times the Jobs screen edits (APP_TIMEZONE is not among them: the whole program
# reads it at start).
SCHEDULE_NAMES = names_for("jobs")


def schedule_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> Settings:
    """``settings`` with the job times as they are now in the environment / settings file."""
    return refreshed(settings, SCHEDULE_NAMES, environ)


class JobsAdmin:
    """What the Jobs screen, ``jobs`` commands and ``worker`` use: the scheduler plus the
    monthly-report preview."""

    def __init__(self, ctx: ServiceContext, email: EmailService, scheduler: SchedulerService,
                 environ: Mapping[str, str] | None = None) -> None:
        self._ctx = ctx
        self._email = email
        self.scheduler = scheduler
        self._env = environ

    def preview_report(self, actor: Actor, user_id: int, month: str) -> tuple[MonthlyReport, str]:
        """A driver's report for a month ('YYYY-MM'), and its HTML as the mail shows it."""
        report = preview_report(self._ctx, actor, user_id, Month.parse(month))
        return report, render_report_html(self._email, report)

    def run_now_audience(self, actor: Actor, name: str) -> int | None:
        """How many drivers "Run now" of job ``name`` would e-mail (None: a job that mails
        nobody), for the question asked before it runs."""
        require_manager(actor, "run a job")
        spec = self.scheduler.runner.spec(name)
        if spec.audience is None or spec.period_of is None:
            return None
        return spec.audience(spec.period_of(self._ctx.clock.now()))

    def previous_month(self) -> str:
        return Month.previous(self._ctx.clock.now(), self._ctx.tz).key

    # --- job times (the Jobs screen's "Schedule…") ----------------------------------------
    def schedule_values(self, actor: Actor) -> dict[str, str]:
        """The job times in force, under their environment names (e.g. "18:00", "1")."""
        require_manager(actor, "see the job times")
        return settings_as_env(self.scheduler.settings, SCHEDULE_NAMES)

    def locked_by_environment(self) -> list[str]:
        env = self._environ
        return [name for name in SCHEDULE_NAMES if env.get(name)]

    def save_schedule(self, actor: Actor, values: Mapping[str, str]) -> list[str]:
        """Save new job times to the settings file; the jobs are rescheduled at once (no
        restart). Returns the jobs whose schedule changed."""
        require_manager(actor, "change the job times")
        unknown = set(values) - set(SCHEDULE_NAMES)
        if unknown:
            raise ValidationError(f"Unknown job setting: {', '.join(sorted(unknown))}.")
        before = self.schedule_values(actor)
        try:
            clean = clean_values(values)
        except ConfigError as exc:
            raise ValidationError(str(exc)) from None
        for name, text in clean.items():
            if text != before[name] and self._environ.get(name):
                raise ValidationError(f"{name} is set in the environment, which wins over "
                                      "this screen: change it there.")
        changes = {k: {"before": before[k], "after": v} for k, v in clean.items()
                   if before[k] != v}
        if not changes:
            return []
        save_settings(self.scheduler.settings.settings_file, clean)
        ctx = self._ctx
        with ctx.write("activity") as session:
            record(session, actor.user_id, "settings_changed",
                   {"section": "jobs", "changes": changes}, ctx.clock.now())
        try:
            changed = self.scheduler.apply_settings(
                schedule_settings(self.scheduler.settings, self._environ))
        finally:
            ctx.changed("settings")  # other screens (and our listener: already applied)
        return changed

    @property
    def _environ(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env


def build_jobs(
    ctx: ServiceContext, settings: Settings, email: EmailService,
    exports: ExportService | None = None, *, environ: Mapping[str, str] | None = None,
    exceptions_digest: ExceptionsDigest | None = None,
) -> JobsAdmin:
    scheduler = build_scheduler(ctx, settings, email, exports, environ=environ,
                                exceptions_digest=exceptions_digest)
    return JobsAdmin(ctx, email, scheduler, environ)


def build_scheduler(
    ctx: ServiceContext, settings: Settings, email: EmailService,
    exports: ExportService | None = None, *, environ: Mapping[str, str] | None = None,
    exceptions_digest: ExceptionsDigest | None = None,
) -> SchedulerService:
    deps = JobDeps(
        ctx=ctx,
        reminder_queue=ReminderQueue(email),
        monthly_queue=MonthlyReportQueue(email),
        monthly_workers=lambda: report_workers(email),
        dispatch=lambda should_stop: dispatch_counts(email, should_stop),
        exceptions_digest=exceptions_digest,
    )
    if exports is not None:
        deps.cleanup = exports.cleanup
    # The driver's own cancel path; its writes tell the cache and the screens like any other.
    parking = ParkingService(ctx)
    deps.no_shows = lambda beat: cancel_no_shows(
        parking, settings.reservation_hold_minutes,
        lambda session, user, booking, hold: email.send_no_show(user, booking, hold,
                                                                session=session),
        heartbeat=beat)

    def factory(settings: Settings) -> dict[str, Any]:
        return build_specs(settings, deps)

    stale_after = timedelta(seconds=settings.job_stale_after_seconds)
    ledger = JobLedger(ctx, stale_after=stale_after)
    deps.prune_history = lambda: _prune(ledger)
    runner = JobRunner(ledger, factory(settings), clock=ctx.clock,
                       tz=settings.tz, notifier=email.notify_chat,
                       heartbeat_seconds=heartbeat_every(stale_after))
    # A dead run is found by the sweep: sweeping as often as a run can go stale keeps the
    # take-over close to JOB_STALE_AFTER_SECONDS.
    scheduler = SchedulerService(runner, settings, factory,
                                 sweep_every=min(SWEEP_EVERY, stale_after))
    ctx.listeners.append(_settings_listener(scheduler, environ))
    return scheduler


def _prune(ledger: JobLedger) -> int:
    """Outbox and no-show runs (up to one a minute, one every 5 minutes) are kept a month, the
    daily and monthly runs 13 months: far longer than any catch-up window."""
    now = ledger.ctx.clock.now()
    return (ledger.prune(now - OUTBOX_HISTORY, OUTBOX_DISPATCH)
            + ledger.prune(now - OUTBOX_HISTORY, NO_SHOWS)
            + ledger.prune(now - JOB_HISTORY))


def _settings_listener(
    scheduler: SchedulerService, environ: Mapping[str, str] | None
) -> Callable[[frozenset[str]], None]:
    def on_change(topics: frozenset[str]) -> None:
        if "settings" not in topics:
            return
        try:
            scheduler.apply_settings(schedule_settings(scheduler.settings, environ))
        except (ConfigError, ValidationError) as exc:
            log.warning("Job times not changed: %s", exc)

    return on_change
