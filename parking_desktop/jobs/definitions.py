"""The scheduled jobs, defined in code from the settings (never stored in a job store).

Each job is a ``JobSpec``: a schedule, the work (a function of a ``RunContext`` returning a
``JobOutcome``), and how a due time maps to the period it claims in the ``job_runs`` ledger:
the local date for daily jobs, the reported month for the monthly report. The outbox
dispatcher runs every minute without periods: the outbox itself makes it safe to run anywhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from parking_desktop.config import Settings
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.jobs.schedules import DailyAt, Every, EveryMinutes, MonthlyAt, Schedule
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.exports.cleanup import CleanupSummary, cleanup_exports
from parking_desktop.services.mail.batches import MailQueue
from parking_desktop.services.mail.monthly_report import Month, MonthlyReport, count_to_report
from parking_desktop.services.mail.monthly_run import ReportWorkers, run_monthly_report
from parking_desktop.services.mail.reminders import Reminder, count_to_remind, run_daily_reminder
from parking_desktop.services.money.views import DigestSummary
from parking_desktop.services.parking.no_shows import NoShowSummary
from parking_desktop.services.privacy.retention import RetentionPolicy, RetentionService

# Queues the managers' digest of one day's exceptions (services/money).
ExceptionsDigest = Callable[..., DigestSummary]

DAILY_REMINDER = "daily_reminder"
MONTHLY_REPORT = "monthly_report"
CLEANUP_EXPORTS = "cleanup_exports"
OUTBOX_DISPATCH = "outbox_dispatch"
EXCEPTIONS_DIGEST = "exceptions_digest"
NO_SHOWS = "no_shows"
RETENTION = "retention"
JOB_ORDER = (DAILY_REMINDER, MONTHLY_REPORT, CLEANUP_EXPORTS, RETENTION, NO_SHOWS,
             OUTBOX_DISPATCH, EXCEPTIONS_DIGEST)
DISPATCH_EVERY_SECONDS = 60
# How often stale bookings are looked for: a no-show is cancelled at most this long after its
# hold ran out.
NO_SHOW_EVERY = EveryMinutes(5)


@dataclass(frozen=True)
class RunContext:
    job: str
    period: str | None  # the logical period (a date or a month); None for interval jobs
    manual: bool
    heartbeat: Callable[[], None]  # call between steps; raises JobInterrupted on shutdown
    resumed: bool = False  # an earlier attempt at this period died or failed
    # True once a shutdown was asked for: for work that stops by itself (the outbox puts its
    # untried mails back) rather than by the exception ``heartbeat`` raises.
    stopping: Callable[[], bool] = lambda: False


@dataclass(frozen=True)
class JobOutcome:
    counts: dict[str, Any]
    summary: str | None = None  # one line for the managers' chat
    worth_recording: bool = True  # an interval job that did nothing leaves no history row
    # Set when the run did not do its job (e.g. no mail got out): the run is recorded as
    # failed with this sentence, never as a green "completed".
    problem: str | None = None


@dataclass(frozen=True)
class JobSpec:
    name: str
    title: str
    description: str
    schedule: Schedule
    work: Callable[[RunContext], JobOutcome]
    # Due time (UTC) -> the period key it claims; None for jobs without periods.
    period_of: Callable[[datetime], str] | None = None
    # A missed period is caught up only this long after it fell due (a reminder from
    # yesterday evening is pointless tomorrow evening; a month's report is not).
    catch_up_within: timedelta = field(default=timedelta(0))
    notify: bool = False
    # Period -> how many people a run now would e-mail (asked before "Run now" sends).
    audience: Callable[[str], int] | None = None

    @property
    def ledgered(self) -> bool:
        return self.period_of is not None


@dataclass
class JobDeps:
    """What the jobs need besides the settings (wired in bootstrap)."""

    ctx: ServiceContext
    reminder_queue: MailQueue[Reminder]
    monthly_queue: MailQueue[MonthlyReport]
    # Worker processes for a monthly report to many drivers (None: always in this process).
    monthly_workers: Callable[[], ReportWorkers] | None = None
    # The outbox dispatcher; its argument says when to stop (between mails).
    dispatch: Callable[[Callable[[], bool]], dict[str, Any]] | None = None
    # The export feature's cleanup (it also removes stray temporary files); by default the
    # bare cleanup of expired exports.
    cleanup: Callable[[], CleanupSummary] | None = None
    # Forgets old job history (the nightly cleanup calls it); returns rows removed.
    prune_history: Callable[[], int] | None = None
    # Cancels the bookings past RESERVATION_HOLD_MINUTES and tells their drivers; its argument
    # is the run's heartbeat.
    no_shows: Callable[[Callable[[], None]], NoShowSummary] | None = None
    exceptions_digest: ExceptionsDigest | None = None


def _mails(n: int) -> str:
    return f"{n} e-mail" + ("" if n == 1 else "s")


def delivery_problem(counts: dict[str, Any]) -> str | None:
    """A sentence when mails of this pass did not get out (None: all that was tried went)."""
    failed, retrying = int(counts.get("failed", 0)), int(counts.get("retrying", 0))
    if not failed and not retrying:
        return None
    errors = counts.get("errors") or []
    reason = f": {str(errors[-1]).rstrip('.')}" if errors else ""
    sent, pending = int(counts.get("sent", 0)), int(counts.get("pending", 0))
    head = (f"No e-mail could be delivered{reason}" if not sent else
            f"{_mails(failed + retrying)} could not be delivered ({sent} sent){reason}")
    tail = [f"{failed} given up" if failed else "",
            f"{_mails(pending)} waiting for a retry" if pending else ""]
    return head + "".join(f"; {part}" for part in tail if part)


def delivery_summary(counts: dict[str, Any]) -> str:
    sent, pending = int(counts.get("sent", 0)), int(counts.get("pending", 0))
    text = f"Mail outbox: {_mails(sent)} sent"
    return text + (f", {pending} waiting (due later)." if pending else ".")


def _daily_period(tz: ZoneInfo) -> Callable[[datetime], str]:
    return lambda due: due.astimezone(tz).date().isoformat()


def _report_month(tz: ZoneInfo) -> Callable[[datetime], str]:
    # The report that falls due in March is February's.
    return lambda due: Month.previous(due, tz).key


def _day_before(tz: ZoneInfo) -> Callable[[datetime], str]:
    # The digest that falls due on Tuesday morning is Monday's.
    return lambda due: (due.astimezone(tz).date() - timedelta(days=1)).isoformat()


def build_specs(settings: Settings, deps: JobDeps) -> dict[str, JobSpec]:
    tz = settings.tz
    ctx = deps.ctx

    def reminders(run: RunContext) -> JobOutcome:
        assert run.period is not None
        period = date.fromisoformat(run.period)
        summary = run_daily_reminder(ctx, deps.reminder_queue, period, heartbeat=run.heartbeat)
        return JobOutcome(summary.as_counts(), summary.text(period))

    def monthly(run: RunContext) -> JobOutcome:
        assert run.period is not None
        workers = deps.monthly_workers() if deps.monthly_workers is not None else None
        summary = run_monthly_report(ctx, deps.monthly_queue, Month.parse(run.period),
                                     heartbeat=run.heartbeat, workers=workers)
        return JobOutcome(summary.as_counts(), summary.text())

    def cleanup(run: RunContext) -> JobOutcome:
        run.heartbeat()
        if deps.cleanup is not None:
            summary = deps.cleanup()
        else:
            summary = cleanup_exports(ctx, settings.upload_folder,
                                      settings.csv_export_expiry_hours)
        counts = summary.as_counts()
        run.heartbeat()  # a shutdown during the file deletions stops before the pruning
        if deps.prune_history is not None:
            counts["job_runs_pruned"] = deps.prune_history()
        return JobOutcome(counts, summary.text())

    def retention(run: RunContext) -> JobOutcome:
        service = RetentionService(ctx, RetentionPolicy.from_settings(settings))
        summary = service.run(SYSTEM, heartbeat=run.heartbeat)
        return JobOutcome(summary.as_counts(), summary.text())

    specs = [
        JobSpec(
            DAILY_REMINDER, "Daily reminders",
            "E-mails drivers who have not signed in for 7 days or booked for 14 days.",
            DailyAt(settings.daily_reminder_time), reminders, _daily_period(tz),
            catch_up_within=timedelta(hours=12), notify=True,
            audience=lambda period: count_to_remind(ctx, date.fromisoformat(period)),
        ),
        JobSpec(
            MONTHLY_REPORT, "Monthly reports",
            "E-mails every driver their activity report for the previous month.",
            MonthlyAt(settings.monthly_report_day, settings.monthly_report_time), monthly,
            _report_month(tz), catch_up_within=timedelta(days=27), notify=True,
            audience=lambda period: count_to_report(ctx, Month.parse(period)),
        ),
        JobSpec(
            CLEANUP_EXPORTS, "Export cleanup",
            "Deletes expired CSV export files and marks their exports expired.",
            DailyAt(settings.cleanup_time), cleanup, _daily_period(tz),
            catch_up_within=timedelta(hours=23),
        ),
        JobSpec(
            RETENTION, "Retention",
            "Masks old vehicle numbers and deletes old activity, mail bodies and export "
            "records, as the RETAIN_* settings say.",
            DailyAt(settings.cleanup_time), retention, _daily_period(tz),
            catch_up_within=timedelta(hours=23),
        ),
    ]
    if deps.no_shows is not None:
        cancel = deps.no_shows

        def no_shows(run: RunContext) -> JobOutcome:
            summary = cancel(run.heartbeat)
            return JobOutcome(summary.as_counts(), summary.text(settings.reservation_hold_minutes))

        specs.append(JobSpec(
            NO_SHOWS, "No-shows",
            f"Cancels bookings not parked within {settings.reservation_hold_minutes} minutes "
            "(the spot is freed) and e-mails their drivers.",
            NO_SHOW_EVERY, no_shows, NO_SHOW_EVERY.period_of,
            # The latest slot is always caught up (a missed one has nothing the next lacks).
            catch_up_within=timedelta(minutes=NO_SHOW_EVERY.minutes),
        ))
    if deps.exceptions_digest is not None:
        digest = deps.exceptions_digest

        def exceptions(run: RunContext) -> JobOutcome:
            assert run.period is not None
            done = digest(date.fromisoformat(run.period), heartbeat=run.heartbeat)
            return JobOutcome(
                {"exceptions": done.exceptions, "queued": done.mails},
                f"Exceptions digest of {run.period}: {done.exceptions} exception(s), "
                f"{_mails(done.mails)} queued to managers.")

        specs.append(JobSpec(
            EXCEPTIONS_DIGEST, "Exceptions digest",
            "E-mails the managers the day before's free exits, discounts, refunds, voids, "
            "force-releases and cash differences.",
            DailyAt(settings.exceptions_digest_time), exceptions, _day_before(tz),
            catch_up_within=timedelta(hours=23),
        ))
    if deps.dispatch is not None:
        dispatch = deps.dispatch

        def outbox(run: RunContext) -> JobOutcome:
            counts = dispatch(run.stopping)
            busy = bool(counts.get("sent") or counts.get("failed") or counts.get("retrying"))
            return JobOutcome(counts, summary=delivery_summary(counts),
                              worth_recording=busy or run.manual,
                              problem=delivery_problem(counts))

        specs.append(JobSpec(
            OUTBOX_DISPATCH, "Mail outbox",
            "Delivers queued e-mails, retrying the ones the server could not take.",
            Every(DISPATCH_EVERY_SECONDS), outbox,
        ))
    return {spec.name: spec for spec in specs}
