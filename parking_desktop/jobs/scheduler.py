"""SchedulerService: the jobs on an APScheduler 3.x BackgroundScheduler.

Built this way on purpose: one memory job store per process, jobs defined in code, never a
shared job store; APScheduler's misfire handling is not trusted to catch up - a sweep does that
from the ``job_runs`` ledger at start and every few minutes (so a laptop that slept through
18:00 still sends the reminders when it wakes); BackgroundScheduler, not QtScheduler, so the
GUI thread never does job work. Pausing is per process (this computer)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from parking_desktop.config import Settings
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.roles import Actor
from parking_desktop.jobs.db_watch import DatabaseWatch
from parking_desktop.jobs.definitions import JOB_ORDER, OUTBOX_DISPATCH, JobSpec
from parking_desktop.jobs.events import CHANGED, JobEvent, JobListener
from parking_desktop.jobs.runner import JobRunner
from parking_desktop.services.guards import require_manager
from parking_desktop.services.jobs.ledger import JobRunView

log = logging.getLogger("parking_desktop.jobs")

SWEEP_ID = "_catch_up"
SWEEP_EVERY = timedelta(minutes=5)
# Late by more than this, a trigger is left to the sweep (which knows about periods).
MISFIRE_GRACE_SECONDS = 300

SpecFactory = Callable[[Settings], dict[str, JobSpec]]


@dataclass(frozen=True)
class JobInfo:
    name: str
    title: str
    description: str
    schedule: str
    next_run: datetime | None  # None when paused or the scheduler is not running
    paused: bool
    running: bool
    last_run: JobRunView | None


class SchedulerService:
    def __init__(
        self,
        runner: JobRunner,
        settings: Settings,
        spec_factory: SpecFactory,
        *,
        sweep_every: timedelta = SWEEP_EVERY,
    ) -> None:
        self.runner = runner
        self.settings = settings
        self._spec_factory = spec_factory
        self._sweep_every = sweep_every
        self._scheduler: BackgroundScheduler | None = None
        self._paused: set[str] = set()
        self._lock = threading.RLock()
        # While the database is away the triggers do nothing and one line says so; when it is
        # back, the sweep finishes what was missed.
        self.watch = DatabaseWatch(runner.ledger.ctx.db.engine, on_back=self.run_soon_after_outage)
        runner.explain_failure = self.watch.explain

    # --- life cycle ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self, *, catch_up: bool = True) -> None:
        """Start the jobs; the catch-up sweep runs at once (on a scheduler thread)."""
        with self._lock:
            if self.running:
                return
            self.runner.allow_runs()
            scheduler = BackgroundScheduler(
                timezone=self.settings.tz,
                job_defaults={"coalesce": True, "max_instances": 1,
                              "misfire_grace_time": MISFIRE_GRACE_SECONDS},
                # Instances, not plugin names: no entry-point lookup (frozen builds), and the
                # job store is memory only - never shared between processes.
                jobstores={"default": MemoryJobStore()},
                executors={"default": ThreadPoolExecutor(max_workers=4)},
            )
            for spec in self.runner.specs.values():
                self._add(scheduler, spec)
            first: dict[str, Any] = {"next_run_time": datetime.now(self.settings.tz)}
            scheduler.add_job(
                self._sweep, IntervalTrigger(seconds=self._sweep_every.total_seconds(),
                                             timezone=self.settings.tz),
                id=SWEEP_ID, name="catch-up", **(first if catch_up else {}),
            )
            scheduler.add_listener(self._on_scheduler_event,
                                   EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
            scheduler.start(paused=False)
            self._scheduler = scheduler
            log.info("Scheduler started (%s) with jobs: %s", self.settings.app_timezone,
                     ", ".join(self.runner.specs))

    def shutdown(self, wait: bool = True) -> None:
        """Stop the triggers; running jobs stop at their next step and are finished later."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        self.runner.request_stop()
        scheduler.shutdown(wait=wait)
        log.info("Scheduler stopped")

    def _add(self, scheduler: BackgroundScheduler, spec: JobSpec) -> None:
        scheduler.add_job(
            self._fire, spec.schedule.trigger(self.settings.tz), args=[spec.name],
            id=spec.name, name=spec.title, replace_existing=True,
        )
        if spec.name in self._paused:
            scheduler.pause_job(spec.name)

    # --- what the triggers do ------------------------------------------------------------
    def _held(self) -> bool:
        """True while the database is away. A trigger that finds it away probes again when
        the backoff allows (the desktop has no worker loop to do it); the probe that finds it
        back starts the sweep."""
        return self.watch.down and not (self.watch.due() and self.watch.probe())

    def _fire(self, name: str) -> None:
        if self._held():
            return  # the sweep after the outage catches this period up
        spec = self.runner.spec(name)
        now = self.runner.clock.now()
        due = spec.schedule.latest_due(now, self.settings.tz) or now
        try:
            self.runner.run_due(name, due)
        except Exception as exc:
            if not self.watch.explain(exc):
                raise

    def _sweep(self) -> None:
        if self._held():
            return
        try:
            self.runner.catch_up(skip=frozenset(self._paused))
        except Exception as exc:
            if not self.watch.explain(exc):
                log.exception("The catch-up sweep failed; it is tried again in a few minutes")

    def run_soon(self, job_id: str) -> None:
        """Fire a job's trigger (or the sweep, SWEEP_ID) now, on a scheduler thread."""
        with self._lock:
            scheduler = self._scheduler
            if (scheduler is not None and job_id not in self._paused
                    and scheduler.get_job(job_id) is not None):
                scheduler.modify_job(job_id, next_run_time=datetime.now(self.settings.tz))

    def run_soon_after_outage(self) -> None:
        self.run_soon(SWEEP_ID)
        self.run_soon(OUTBOX_DISPATCH)

    def catch_up(self) -> list[JobRunView]:
        """Run the sweep now, in the caller's thread (tests, ``worker --once``)."""
        return self.runner.catch_up(skip=frozenset(self._paused))

    def _on_scheduler_event(self, event: SchedulerEvent) -> None:
        job_id = getattr(event, "job_id", "")
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            log.error("Scheduled job %s crashed: %s", job_id, event.exception)
        elif isinstance(event, JobSubmissionEvent | JobExecutionEvent):
            log.info("Scheduled job %s was skipped by the scheduler (%s); the catch-up sweep "
                     "takes care of its period", job_id, type(event).__name__)
        else:
            log.info("Scheduler event %s for %s", event.code, job_id)

    # --- administration -----------------------------------------------------------------
    def run_job_now(self, name: str) -> JobRunView:
        """Run a job at once in the caller's thread (the system acts)."""
        return self.runner.run_now(name)

    def run_now(self, actor: Actor, name: str) -> JobRunView:
        """"Run now" from the Jobs screen: managers only (the GUI calls it on a worker)."""
        require_manager(actor, "run a job")
        return self.runner.run_now(name, by=actor.username)

    def jobs(self, actor: Actor | None = None) -> list[JobInfo]:
        if actor is not None:
            require_manager(actor, "see the scheduled jobs")
        specs = self.runner.specs
        names = [n for n in JOB_ORDER if n in specs] + [n for n in specs if n not in JOB_ORDER]
        last = self.runner.ledger.last_runs(names)
        out = []
        with self._lock:
            scheduler = self._scheduler
            for name in names:
                spec = specs[name]
                if scheduler is not None:
                    job = scheduler.get_job(name)
                    next_run = getattr(job, "next_run_time", None) if job is not None else None
                elif name in self._paused:
                    next_run = None
                else:  # not running here (the CLI): when it would run next
                    now = self.runner.clock.now().astimezone(self.settings.tz)
                    next_run = spec.schedule.trigger(self.settings.tz).get_next_fire_time(
                        None, now)
                out.append(JobInfo(
                    name=name, title=spec.title, description=spec.description,
                    schedule=spec.schedule.describe(), next_run=next_run,
                    paused=name in self._paused, running=self.runner.is_running(name),
                    last_run=last.get(name),
                ))
        return out

    def history(self, actor: Actor, job: str | None = None, limit: int = 50) -> list[JobRunView]:
        if job is not None:
            self.runner.spec(job)
        return self.runner.ledger.history(actor, job, limit)

    def pause(self, actor: Actor, name: str) -> None:
        require_manager(actor, "pause a job")
        spec = self.runner.spec(name)
        with self._lock:
            if name in self._paused:
                raise ConflictError(f"{spec.title} is already paused.")
            self._paused.add(name)
            if self._scheduler is not None:
                self._scheduler.pause_job(name)
        self.runner.events.emit(JobEvent(CHANGED, name, f"{spec.title} paused."))

    def resume(self, actor: Actor, name: str) -> None:
        require_manager(actor, "resume a job")
        spec = self.runner.spec(name)
        with self._lock:
            if name not in self._paused:
                raise ConflictError(f"{spec.title} is not paused.")
            self._paused.discard(name)
            if self._scheduler is not None:
                self._scheduler.resume_job(name)
        self.runner.events.emit(JobEvent(CHANGED, name, f"{spec.title} resumed."))

    def is_paused(self, name: str) -> bool:
        return name in self._paused

    def apply_settings(self, settings: Settings) -> list[str]:
        """New times (or time zone) from the Settings screen take effect without a restart;
        returns the jobs whose schedule changed."""
        with self._lock:
            old = self.runner.specs
            tz_changed = settings.app_timezone != self.settings.app_timezone
            self.settings = settings
            new = self._spec_factory(settings)
            self.runner.set_specs(new)
            changed = [n for n, spec in new.items()
                       if tz_changed or n not in old or old[n].schedule != spec.schedule]
            if self._scheduler is not None:
                # The zone lives in each trigger, so re-adding the jobs is enough.
                for name in changed:
                    self._add(self._scheduler, new[name])
        for name in changed:
            spec = new[name]
            log.info("%s rescheduled: %s", name, spec.schedule.describe())
            self.runner.events.emit(
                JobEvent(CHANGED, name, f"{spec.title} now runs {spec.schedule.describe()}."))
        return changed

    # --- events --------------------------------------------------------------------------
    def subscribe(self, listener: JobListener) -> None:
        self.runner.events.subscribe(listener)

    def unsubscribe(self, listener: JobListener) -> None:
        self.runner.events.unsubscribe(listener)
