"""The ``job_runs`` ledger: who ran which job for which period, and how it went.

Claiming a period means inserting the row ``(job, period_key)``; the unique key on that pair
makes a period run once even with several machines on one PostgreSQL server. A run whose
heartbeat has gone stale (its machine died half-way) or that failed can be taken over later by
a compare-and-set UPDATE, so exactly one taker wins there too. The jobs themselves are written
so that doing a period's work again is harmless (mail idempotency keys), which is what makes
finishing a dead run safe."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from parking_desktop.adapters.db.models import JobRun
from parking_desktop.domain.roles import Actor
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager

RUNNING, COMPLETED, FAILED, SKIPPED = "running", "completed", "failed", "skipped"
# A running row whose heartbeat is older than this belongs to a process that is gone
# (JOB_STALE_AFTER_SECONDS; a live run beats several times within it).
DEFAULT_STALE_AFTER = timedelta(seconds=60)
# A failed period is retried (by the catch-up sweep) until it has been attempted this often.
MAX_ATTEMPTS = 3
ERROR_LIMIT = 2000


def this_host() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


@dataclass(frozen=True)
class JobRunView:
    id: int
    job: str
    period_key: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None
    host: str | None
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def attempt(self) -> int:
        return int(self.counts.get("attempt", 1))


@dataclass(frozen=True)
class Claim:
    """The right to do one period's work. ``resumed`` is true when an earlier attempt at the
    same period exists (it died or failed): the work may be partly done already."""

    run_id: int
    job: str
    period_key: str
    attempt: int

    @property
    def resumed(self) -> bool:
        return self.attempt > 1


def _view(row: JobRun) -> JobRunView:
    return JobRunView(
        id=row.id, job=row.job, period_key=row.period_key, status=row.status,
        started_at=row.started_at, finished_at=row.finished_at, heartbeat_at=row.heartbeat_at,
        host=row.host, counts=dict(row.counts or {}), error=row.error,
    )


class JobLedger:
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        host: str | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.ctx = ctx
        self.host = host or this_host()
        self.stale_after = stale_after
        self.max_attempts = max_attempts

    # --- claiming ------------------------------------------------------------------------
    def claim(self, job: str, period_key: str) -> Claim | None:
        """Claim ``period_key`` of ``job``; None when another run has it (done, or alive)."""
        now = self.ctx.clock.now()
        try:
            with self.ctx.db.write() as session:
                row = JobRun(job=job, period_key=period_key, status=RUNNING, started_at=now,
                             heartbeat_at=now, host=self.host, counts={"attempt": 1})
                session.add(row)
                session.flush()
                run_id = row.id
        except IntegrityError:
            return self._take_over(job, period_key, now)
        self.ctx.changed("jobs")
        return Claim(run_id=run_id, job=job, period_key=period_key, attempt=1)

    def _take_over(self, job: str, period_key: str, now: datetime) -> Claim | None:
        """The period exists: take it over only if its run died (stale) or failed."""
        with self.ctx.db.write() as session:
            row = session.scalar(
                select(JobRun).where(JobRun.job == job, JobRun.period_key == period_key)
            )
            if row is None or not self._can_take_over(row, now):
                return None
            attempt = int((row.counts or {}).get("attempt", 1)) + 1
            # Compare-and-set: only one contender sees the old state and wins.
            result = session.execute(
                update(JobRun)
                .where(JobRun.id == row.id, JobRun.status == row.status,
                       JobRun.heartbeat_at == row.heartbeat_at)
                .values(status=RUNNING, host=self.host, heartbeat_at=now, finished_at=None,
                        error=None, counts={**(row.counts or {}), "attempt": attempt})
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            run_id = row.id
        self.ctx.changed("jobs")
        return Claim(run_id=run_id, job=job, period_key=period_key, attempt=attempt)

    def _can_take_over(self, row: JobRun, now: datetime) -> bool:
        attempts = int((row.counts or {}).get("attempt", 1))
        if row.status == FAILED:
            return attempts < self.max_attempts
        if row.status == RUNNING:
            beat = row.heartbeat_at or row.started_at
            return beat < now - self.stale_after
        return False

    # --- progress of a claimed run -----------------------------------------------------
    def heartbeat(self, run_id: int) -> None:
        with self.ctx.db.write() as session:
            session.execute(
                update(JobRun).where(JobRun.id == run_id, JobRun.status == RUNNING)
                .values(heartbeat_at=self.ctx.clock.now())
            )

    def complete(self, run_id: int, counts: dict[str, Any]) -> JobRunView:
        return self._finish(run_id, COMPLETED, counts, None)

    def fail(self, run_id: int, error: str, counts: dict[str, Any] | None = None) -> JobRunView:
        return self._finish(run_id, FAILED, counts or {}, error[:ERROR_LIMIT])

    def _finish(
        self, run_id: int, status: str, counts: dict[str, Any], error: str | None
    ) -> JobRunView:
        now = self.ctx.clock.now()
        with self.ctx.db.write() as session:
            row = session.get(JobRun, run_id)
            if row is None:
                raise LookupError(f"job run {run_id} does not exist")
            attempt = (row.counts or {}).get("attempt", 1)
            row.status = status
            row.finished_at = now
            row.heartbeat_at = now
            row.counts = {**counts, "attempt": attempt}
            row.error = error
            session.flush()
            view = _view(row)
        self.ctx.changed("jobs")
        return view

    def record(self, job: str, period_key: str, status: str, counts: dict[str, Any],
               started_at: datetime, error: str | None = None) -> JobRunView:
        """A finished run recorded in one go (for runs that need no claim, e.g. the outbox)."""
        now = self.ctx.clock.now()
        with self.ctx.db.write() as session:
            row = JobRun(job=job, period_key=period_key, status=status, started_at=started_at,
                         finished_at=now, heartbeat_at=now, host=self.host, counts=counts,
                         error=error[:ERROR_LIMIT] if error else None)
            session.add(row)
            session.flush()
            view = _view(row)
        self.ctx.changed("jobs")
        return view

    def abandon(self, run_id: int, error: str) -> bool:
        """Mark a dead run (stale heartbeat) failed without taking it over; False if it came
        back to life or someone else took it meanwhile."""
        now = self.ctx.clock.now()
        with self.ctx.db.write() as session:
            result = session.execute(
                update(JobRun)
                .where(JobRun.id == run_id, JobRun.status == RUNNING,
                       func.coalesce(JobRun.heartbeat_at, JobRun.started_at)
                       < now - self.stale_after)
                .values(status=FAILED, finished_at=now, error=error[:ERROR_LIMIT])
                .execution_options(synchronize_session=False)
            )
            done = bool(result.rowcount)  # type: ignore[attr-defined]
        if done:
            self.ctx.changed("jobs")
        return done

    # --- questions ---------------------------------------------------------------------
    def get(self, job: str, period_key: str) -> JobRunView | None:
        with self.ctx.read() as session:
            row = session.scalar(
                select(JobRun).where(JobRun.job == job, JobRun.period_key == period_key)
            )
            return None if row is None else _view(row)

    def needs_run(self, job: str, period_key: str) -> bool:
        """True when the period has no run yet, or one that a claim could take over now."""
        now = self.ctx.clock.now()
        with self.ctx.read() as session:
            row = session.scalar(
                select(JobRun).where(JobRun.job == job, JobRun.period_key == period_key)
            )
            return row is None or self._can_take_over(row, now)

    def resumable(self, jobs: list[str], since: datetime) -> list[JobRunView]:
        """Runs of ``jobs`` started after ``since`` that died half-way or failed and may be
        taken over now."""
        now = self.ctx.clock.now()
        stale = now - self.stale_after
        with self.ctx.read() as session:
            rows = session.scalars(
                select(JobRun).where(
                    JobRun.job.in_(jobs),
                    JobRun.started_at >= since,
                    or_(JobRun.status == FAILED,
                        and_(JobRun.status == RUNNING,
                             func.coalesce(JobRun.heartbeat_at, JobRun.started_at) < stale)),
                ).order_by(JobRun.started_at)
            ).all()
            return [_view(r) for r in rows if self._can_take_over(r, now)]

    def history(self, actor: Actor, job: str | None = None, limit: int = 50) -> list[JobRunView]:
        require_manager(actor, "see the job history")
        query = select(JobRun)
        if job:
            query = query.where(JobRun.job == job)
        query = query.order_by(JobRun.started_at.desc(), JobRun.id.desc())
        with self.ctx.read() as session:
            rows = session.scalars(query.limit(max(1, min(limit, 1000)))).all()
            return [_view(r) for r in rows]

    def last_runs(self, jobs: list[str]) -> dict[str, JobRunView]:
        """The most recent run of each job (by start time)."""
        latest = (
            select(JobRun.job, func.max(JobRun.id).label("id"))
            .where(JobRun.job.in_(jobs))
            .group_by(JobRun.job)
            .subquery()
        )
        with self.ctx.read() as session:
            rows = session.scalars(select(JobRun).join(latest, latest.c.id == JobRun.id)).all()
            return {r.job: _view(r) for r in rows}

    def prune(self, older_than: datetime, job: str | None = None) -> int:
        """Forget finished runs started before ``older_than`` (the history stays bounded).
        Only ever used far outside every catch-up window: a forgotten period is not rerun
        because catch-up looks at recent periods only."""
        condition = [JobRun.started_at < older_than, JobRun.status != RUNNING]
        if job is not None:
            condition.append(JobRun.job == job)
        with self.ctx.db.write() as session:
            result = session.execute(delete(JobRun).where(*condition))
            return int(result.rowcount)  # type: ignore[attr-defined]
