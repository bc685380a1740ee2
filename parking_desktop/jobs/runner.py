"""Runs a job for a period: claim it in the ledger, keep a heartbeat, record the outcome.

Used by the scheduler (a trigger fired, or the catch-up sweep found a missed or dead period),
by "Run now" in the Jobs screen and by ``jobs run``. A manual run claims a period of its own
(``manual-<time>``), so it never takes a scheduled period's place; the mail idempotency keys
make sure that a manual reminder run and the evening's scheduled run still e-mail each driver
once that day."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from parking_desktop.adapters.db.lost import is_connection_error
from parking_desktop.domain.clock import Clock
from parking_desktop.domain.errors import ConflictError, DomainError, NotFoundError
from parking_desktop.jobs.definitions import JobSpec, RunContext
from parking_desktop.jobs.events import FAILED, FINISHED, SKIPPED, STARTED, EventHub, JobEvent
from parking_desktop.services.jobs.ledger import COMPLETED, Claim, JobLedger, JobRunView
from parking_desktop.services.jobs.ledger import FAILED as FAILED_STATUS

log = logging.getLogger("parking_desktop.jobs")

MANUAL_PREFIX = "manual-"
HEARTBEAT_SECONDS = 10.0
INTERRUPTED = "Stopped by a shutdown before it finished; it is finished at the next start."
TOO_LATE = "The process running it stopped half-way, too long ago to finish it now."
STOPPED = "The process running it stopped before it finished (run it again if needed)."

Notifier = Callable[[str], object]  # its result, if any, is ignored


def heartbeat_every(stale_after: timedelta) -> float:
    """Beat several times within the stale limit, so one slow write never looks like death."""
    return max(0.5, min(HEARTBEAT_SECONDS, stale_after.total_seconds() / 6))


def _not_explained(exc: BaseException) -> bool:
    return False


class JobInterrupted(Exception):
    """Raised inside a job (at its next step) when the program is shutting down."""


class _Heartbeat:
    """Refreshes the run's heartbeat from a side thread while the job works, so a live run
    doing one long query never looks dead to other machines."""

    def __init__(self, beat: Callable[[], None], every: float) -> None:
        self._beat = beat
        self._every = every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._done.wait(self._every):
            try:
                self._beat()
            except Exception as exc:
                if not is_connection_error(exc):  # the database watch reports an outage
                    log.warning("Could not refresh a job heartbeat", exc_info=True)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return str(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class JobRunner:
    def __init__(
        self,
        ledger: JobLedger,
        specs: dict[str, JobSpec],
        *,
        clock: Clock,
        tz: ZoneInfo,
        events: EventHub | None = None,
        notifier: Notifier | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.tz = tz
        self.events = events or EventHub()
        self.notifier = notifier
        self.heartbeat_seconds = heartbeat_seconds
        self._specs = dict(specs)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._stopping = threading.Event()
        # Says whether a failure is the database being away (then it is reported once by the
        # database watch and the run is left to be finished later, not logged as a crash).
        self.explain_failure: Callable[[BaseException], bool] = _not_explained

    # --- the jobs ----------------------------------------------------------------------
    @property
    def specs(self) -> dict[str, JobSpec]:
        return dict(self._specs)

    def set_specs(self, specs: dict[str, JobSpec]) -> None:
        self._specs = dict(specs)

    def spec(self, name: str) -> JobSpec:
        spec = self._specs.get(name)
        if spec is None:
            known = ", ".join(self._specs)
            raise NotFoundError(f"There is no job called '{name}' (jobs: {known}).")
        return spec

    def is_running(self, name: str) -> bool:
        return self._lock(name).locked()

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())

    # --- stopping ----------------------------------------------------------------------
    def request_stop(self) -> None:
        """Running jobs stop at their next step (their period is finished at the next start)."""
        self._stopping.set()

    def allow_runs(self) -> None:
        self._stopping.clear()

    def _check_stop(self) -> None:
        if self._stopping.is_set():
            raise JobInterrupted(INTERRUPTED)

    # --- running -----------------------------------------------------------------------
    def run_due(self, name: str, due: datetime) -> JobRunView | None:
        """The scheduled run for the period ``due`` belongs to (None: nothing to do here)."""
        spec = self.spec(name)
        if spec.period_of is None:
            return self._run_unledgered(spec, manual=False)
        return self.run_period(name, spec.period_of(due))

    def run_period(self, name: str, period: str) -> JobRunView | None:
        spec = self.spec(name)
        lock = self._lock(name)
        if not lock.acquire(blocking=False):
            log.info("%s is already running in this process; %s left to it", name, period)
            return None
        try:
            if self._stopping.is_set():
                return None
            claim = self.ledger.claim(name, period)
            if claim is None:
                log.info("%s %s: already done, or running on another machine", name, period)
                self.events.emit(JobEvent(SKIPPED, name, f"{spec.title} for {period} was "
                                          "already done or is running elsewhere."))
                return None
            return self._execute(spec, claim, period, manual=False)
        finally:
            lock.release()

    def run_now(self, name: str, by: str = "") -> JobRunView:
        """Run a job at once ("Run now", ``jobs run``), for the current period; ``by`` (a
        username) is kept with the run's counts so its history can say who asked."""
        spec = self.spec(name)
        lock = self._lock(name)
        if not lock.acquire(blocking=False):
            raise ConflictError(f"{spec.title} is already running; wait for it to finish.")
        try:
            if spec.period_of is None:
                return self._run_unledgered(spec, manual=True)
            now = self.clock.now()
            period = spec.period_of(now)
            key = f"{MANUAL_PREFIX}{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
            claim = self.ledger.claim(name, key)
            if claim is None:  # pragma: no cover - a fresh random key cannot clash
                raise ConflictError(f"{spec.title} could not be started; try again.")
            return self._execute(spec, claim, period, manual=True, by=by)
        finally:
            lock.release()

    def _execute(self, spec: JobSpec, claim: Claim, period: str, manual: bool,
                 by: str = "") -> JobRunView:
        how = "manual run" if manual else ("resumed run" if claim.resumed else "run")
        log.info("%s %s started (%s, attempt %d)", spec.name, period, how, claim.attempt)
        self.events.emit(JobEvent(STARTED, spec.name, f"{spec.title} started ({period})."))
        started = time.monotonic()
        context = RunContext(job=spec.name, period=period, manual=manual,
                             heartbeat=self._check_stop, resumed=claim.resumed,
                             stopping=self._stopping.is_set)
        try:
            with _Heartbeat(lambda: self.ledger.heartbeat(claim.run_id), self.heartbeat_seconds):
                outcome = spec.work(context)
        except JobInterrupted as exc:
            view = self.ledger.fail(claim.run_id, str(exc))
            log.warning("%s %s interrupted by shutdown", spec.name, period)
            self.events.emit(JobEvent(FAILED, spec.name, f"{spec.title} was interrupted.", view))
            return view
        except Exception as exc:
            if self.explain_failure(exc):
                raise  # its period stays claimed and goes stale: finished after the outage
            log.exception("%s %s failed", spec.name, period)
            view = self.ledger.fail(claim.run_id, _error_text(exc))
            self.events.emit(JobEvent(FAILED, spec.name,
                                      f"{spec.title} failed: {view.error}", view))
            self._notify(f"{spec.title} ({period}) failed: {view.error}")
            return view
        view = self.ledger.complete(claim.run_id,
                                    {**outcome.counts, "by": by} if by else outcome.counts)
        log.info("%s %s completed in %.1f s: %s", spec.name, period,
                 time.monotonic() - started, outcome.counts)
        self.events.emit(JobEvent(FINISHED, spec.name,
                                  outcome.summary or f"{spec.title} finished.", view))
        if spec.notify and outcome.summary:
            self._notify(outcome.summary)
        return view

    def _run_unledgered(self, spec: JobSpec, manual: bool) -> JobRunView:
        """A job without periods (the outbox): history only when it did something."""
        started_at = self.clock.now()
        key = f"at-{started_at:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        context = RunContext(job=spec.name, period=None, manual=manual,
                             heartbeat=self._check_stop, stopping=self._stopping.is_set)
        try:
            outcome = spec.work(context)
        except Exception as exc:
            if self.explain_failure(exc):
                raise
            log.exception("%s failed", spec.name)
            view = self.ledger.record(spec.name, key, "failed", {}, started_at,
                                      error=_error_text(exc))
            self.events.emit(JobEvent(FAILED, spec.name,
                                      f"{spec.title} failed: {view.error}", view))
            return view
        if outcome.problem is not None:
            view = self.ledger.record(spec.name, key, FAILED_STATUS, outcome.counts, started_at,
                                      error=outcome.problem)
            log.warning("%s: %s", spec.name, outcome.problem)
            self.events.emit(JobEvent(FAILED, spec.name,
                                      f"{spec.title}: {outcome.problem}", view))
            return view
        if not outcome.worth_recording:
            return JobRunView(id=0, job=spec.name, period_key=key, status=COMPLETED,
                              started_at=started_at, finished_at=self.clock.now(),
                              heartbeat_at=None, host=self.ledger.host, counts=outcome.counts)
        view = self.ledger.record(spec.name, key, COMPLETED, outcome.counts, started_at)
        log.info("%s: %s", spec.name, outcome.counts)
        self.events.emit(JobEvent(FINISHED, spec.name,
                                  outcome.summary or f"{spec.title} finished.", view))
        return view

    def _notify(self, text: str) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier(text)
        except Exception:  # the chat being away never fails a job
            log.warning("Could not post a job summary to the chat", exc_info=True)

    # --- catching up -------------------------------------------------------------------
    def catch_up(self, skip: frozenset[str] = frozenset()) -> list[JobRunView]:
        """Finish runs that died or failed, and run each job's latest period if its time has
        passed without a completed run (within the job's catch-up window)."""
        now = self.clock.now()
        specs = [s for s in self._specs.values() if s.ledgered and s.name not in skip]
        if not specs:
            return []
        results: list[JobRunView] = []
        longest = max(s.catch_up_within for s in specs)
        for run in self.ledger.resumable([s.name for s in specs], since=now - longest
                                         - timedelta(days=1)):
            spec = self._specs[run.job]
            manual = run.period_key.startswith(MANUAL_PREFIX)
            if manual or now - run.started_at > spec.catch_up_within:
                if run.status == "running":  # its process is gone: say so in the history
                    self.ledger.abandon(run.id, STOPPED if manual else TOO_LATE)
                continue
            if (view := self.run_period(run.job, run.period_key)) is not None:
                results.append(view)
        for spec in specs:
            due = spec.schedule.latest_due(now, self.tz)
            if due is None or spec.period_of is None or now - due > spec.catch_up_within:
                continue
            period = spec.period_of(due)
            if (self.ledger.needs_run(spec.name, period)
                    and (view := self.run_period(spec.name, period)) is not None):
                results.append(view)
        return results
