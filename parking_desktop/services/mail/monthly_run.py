"""Running the monthly report: every reachable driver's report, queued once.

A hundred thousand reports take most of their time in Python - adding up each driver's month
and rendering two templates per driver - which one process runs on one core. From
``PROCESSES_FROM`` recipients on, the drivers are split into contiguous id ranges and each of
the ``ReportWorkers.processes`` worker processes computes, renders and queues its share over its
own database connection, in the same batches as the one-process run (a batch's mails and
activity rows in one transaction). So a run stopped or killed half-way leaves whole batches,
and the next run of the month queues nothing twice, however many processes either used.

Processes are started by ``services/processes.py`` (spawned, one queue, a stop event). The
parent keeps the job's heartbeat, stops the workers between batches when the job is asked to
stop, and fails the run with the first worker's error (one line). A worker whose parent died
stops at its next batch."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from parking_desktop.adapters.db.engine import Database
from parking_desktop.adapters.mail.templates import MailRenderer
from parking_desktop.domain.clock import Clock, FixedClock, SystemClock
from parking_desktop.domain.errors import DomainError
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.mail.batches import BatchResult, JobMail, MailQueue, Recipient
from parking_desktop.services.mail.monthly_mail import build_monthly_mail
from parking_desktop.services.mail.monthly_report import (
    BATCH_SIZE,
    Month,
    MonthlyReport,
    MonthlySummary,
    count_opted_out,
    queue_reports,
    recipients_of,
)
from parking_desktop.services.mail.outbox import enqueue_many_in
from parking_desktop.services.processes import spawned

# Below this many recipients one process is quicker: a worker spends about a second starting.
PROCESSES_FROM = 5_000
POLL_S = 0.2  # how often the parent beats (and so notices a stop) while the workers run
JOIN_S = 10.0  # a worker asked to stop finishes its batch; one stuck longer is ended


@dataclass(frozen=True)
class ReportWorkers:
    """What a worker process needs to render and queue mails, as plain values: it has no
    EmailService of its own (no keyring, no SMTP)."""

    url: str
    processes: int
    site_fields: dict[str, Any]  # the template fields every mail has (EmailService.site_fields)
    sender: str  # the From address: message ids are made from it
    templates: str | None = None  # the templates folder, when not the one shipped


@dataclass(frozen=True)
class _Share:
    recipients: list[Recipient]
    month: str
    zone: str
    currency: str
    now: datetime | None  # the frozen time of a FixedClock (tests, benchmarks); None: real
    batch_size: int


class _Stopped(Exception):
    pass


def run_monthly_report(
    ctx: ServiceContext,
    queue: MailQueue[MonthlyReport],
    month: Month,
    *,
    heartbeat: Callable[[], None] = lambda: None,
    batch_size: int = BATCH_SIZE,
    workers: ReportWorkers | None = None,
    processes_from: int = PROCESSES_FROM,
) -> MonthlySummary:
    """Queue ``month``'s report for every active driver with an e-mail address (in
    ``workers.processes`` processes when there are many). Running it again for the same month
    queues nothing twice."""
    with ctx.read() as session:
        recipients = recipients_of(session)
        opted = count_opted_out(session)
    processes = workers.processes if workers and len(recipients) >= processes_from else 1
    if workers is not None and processes > 1:
        try:
            result, with_activity = _in_processes(ctx, workers, month,
                                                  split(recipients, processes), heartbeat,
                                                  batch_size)
        finally:
            # What the workers queued - all of it, or whole batches before a stop or a
            # failure - is announced here: their own writes reach no listener.
            ctx.changed("activity", "outbox")
    else:
        result, with_activity = queue_reports(ctx, queue, month, recipients,
                                              heartbeat=heartbeat, batch_size=batch_size)
    return MonthlySummary(month=month.key, recipients=len(recipients),
                          with_activity=with_activity, queued=result.queued,
                          already_queued=result.repeated, skipped_opted_out=opted)


def split(recipients: Sequence[Recipient], parts: int) -> list[list[Recipient]]:
    """Contiguous shares of about equal size (the recipients are in user id order, so each
    share is an id range); no empty share."""
    size = -(-len(recipients) // max(1, parts))
    return [list(recipients[i:i + size]) for i in range(0, len(recipients), size)] or [[]]


def _frozen_time(clock: Clock) -> datetime | None:
    # A worker process cannot share the parent's clock object: a clock that only moves when
    # told to is handed over as its time, any other clock is the system's.
    return clock.now() if isinstance(clock, FixedClock) else None


def _in_processes(ctx: ServiceContext, workers: ReportWorkers, month: Month,
                  shares: list[list[Recipient]], heartbeat: Callable[[], None],
                  batch_size: int) -> tuple[BatchResult, int]:
    args = [(workers, _Share(share, month.key, ctx.tz.key, ctx.currency, _frozen_time(ctx.clock),
                             batch_size), os.getpid())
            for share in shares]
    queued = repeated = with_activity = finished = 0
    # The heartbeat raises when the job is asked to stop: leaving the block stops the workers.
    with spawned(work, args, name="monthly-report", join_s=JOIN_S) as pool:
        for kind, value in pool.messages(
                poll_s=POLL_S, idle=heartbeat,
                lost="A monthly report process ended without its result."):
            if kind != "done":
                raise DomainError(f"A monthly report process failed: {value}")
            finished += 1
            queued += value[0]
            repeated += value[1]
            with_activity += value[2]
            if finished == len(args):
                break
    return BatchResult(queued=queued, repeated=repeated), with_activity


class _WorkerQueue:
    """The worker's MailQueue: renders with the shared builder, stores in the outbox."""

    def __init__(self, renderer: MailRenderer, workers: ReportWorkers, clock: Clock) -> None:
        self.renderer = renderer
        self.workers = workers
        self.clock = clock

    def __call__(self, mails: Sequence[JobMail[MonthlyReport]]) -> Callable[[Session], set[str]]:
        built = [build_monthly_mail(self.renderer, self.workers.site_fields, m.recipient,
                                    m.payload, m.idempotency_key) for m in mails]

        def store(session: Session) -> set[str]:
            results = enqueue_many_in(session, built, now=self.clock.now(),
                                      sender=self.workers.sender)
            return {m.idempotency_key for m, r in zip(built, results, strict=True) if r.created}

        return store


def work(workers: ReportWorkers, share: _Share, parent: int, out: Any, stop: Any) -> None:
    """A worker's life: its own connection, its share queued batch by batch, then one 'done'
    with (queued, repeated, with activity) - or 'error' with one line, or 'stopped'."""
    try:
        db = Database(workers.url)
        try:
            clock: Clock = SystemClock() if share.now is None else FixedClock(share.now)
            ctx = ServiceContext(db=db, clock=clock, tz=ZoneInfo(share.zone),
                                 currency=share.currency)
            folder = Path(workers.templates) if workers.templates else None
            mail_queue = _WorkerQueue(MailRenderer(ctx.tz, folder), workers, clock)

            def between_batches() -> None:
                if stop.is_set() or os.getppid() != parent:
                    raise _Stopped

            ids = (share.recipients[0].user_id, share.recipients[-1].user_id)
            result, with_activity = queue_reports(
                ctx, mail_queue, Month.parse(share.month), share.recipients,
                heartbeat=between_batches, batch_size=share.batch_size, user_range=ids)
        finally:
            db.engine.dispose()
        out.put(("done", (result.queued, result.repeated, with_activity)))
    except _Stopped:
        out.put(("stopped", None))
    except Exception as exc:
        out.put(("error", f"{type(exc).__name__}: {exc}"))
