"""Retention: personal data older than the site's limits is masked or deleted, in batches.

Four limits (days; 0 = keep for ever, the behaviour before they existed):

* vehicle numbers of closed stays (completed or cancelled) whose stay ended before the limit
  are masked exactly as anonymised exports mask them (the same SQL, ``csv_export.mask_sql``:
  only the last two characters stay). Lot, spot, times, price and cost are untouched, so the
  dashboard and the monthly figures are the same before and after. The activity entries of
  the same age lose the vehicle number in their details the same way;
* activity entries older than the limit are deleted;
* sent (or given-up) mails older than the limit lose their bodies and attachments; the row
  stays (recipient, subject, status, idempotency key), so a job run again never mails twice;
* finished export records (failed, cancelled, expired) older than the limit are deleted. A
  completed export becomes expired through the nightly export clean-up, which deletes its file.

Each batch is its own short transaction of at most ``batch_rows`` rows, followed by a pause at
least as long as the batch took: SQLite has one writer at a time, and a kiosk waiting for it
polls with growing sleeps (up to 100 ms), so a job that took the lock back at once could keep
it waiting batch after batch. The job takes at most half of the write time; a check-in waits
for one batch at most (scripts/retention_benchmark.py measures it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, delete, func, literal_column, or_, select, update

from parking_desktop.adapters.csv_export import mask_sql, mask_vehicle
from parking_desktop.adapters.db.models import ExportJob, Reservation, UserActivity
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.config import Settings
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.parking.activity import record

BATCH_ROWS = 2000  # rows per transaction: a check-in waits for one batch at most
PAUSE_SECONDS = 0.05  # at least, after each write batch: a waiting kiosk gets the write lock
CLOSED = (BookingStatus.COMPLETED.value, BookingStatus.CANCELLED.value)
FINISHED_EXPORTS = ("failed", "cancelled", "expired")
FINISHED_MAILS = ("sent", "failed")


@dataclass(frozen=True)
class RetentionPolicy:
    plates_days: int = 0
    activity_days: int = 0
    mail_bodies_days: int = 0
    export_records_days: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            settings.retain_plates_days,
            settings.retain_activity_days,
            settings.retain_mail_bodies_days,
            settings.retain_export_records_days,
        )

    @property
    def any(self) -> bool:
        return any(
            (self.plates_days, self.activity_days, self.mail_bodies_days, self.export_records_days)
        )


@dataclass
class RetentionSummary:
    plates_masked: int = 0
    activity_plates_masked: int = 0
    activity_deleted: int = 0
    mail_bodies_pruned: int = 0
    export_records_deleted: int = 0
    batches: int = 0
    limits: dict[str, int] = field(default_factory=dict)

    def as_counts(self) -> dict[str, Any]:
        return {
            "plates_masked": self.plates_masked,
            "activity_plates_masked": self.activity_plates_masked,
            "activity_deleted": self.activity_deleted,
            "mail_bodies_pruned": self.mail_bodies_pruned,
            "export_records_deleted": self.export_records_deleted,
            "batches": self.batches,
            "limits": dict(self.limits),
        }

    def text(self) -> str:
        if not any(self.limits.values()):
            return "Retention: no limits are set (RETAIN_* settings), nothing was removed."
        return (
            f"Retention: {self.plates_masked} vehicle numbers masked "
            f"({self.activity_plates_masked} in activity entries), "
            f"{self.activity_deleted} activity entries deleted, "
            f"{self.mail_bodies_pruned} mail bodies pruned, "
            f"{self.export_records_deleted} export records deleted."
        )


class RetentionService:
    def __init__(
        self,
        ctx: ServiceContext,
        policy: RetentionPolicy,
        *,
        batch_rows: int = BATCH_ROWS,
        pause: float = PAUSE_SECONDS,
    ) -> None:
        self.ctx = ctx
        self.policy = policy
        self.batch_rows = max(1, batch_rows)
        self.pause = pause
        self._tick: Callable[[], None] = lambda: None

    def run(self, actor: Actor, heartbeat: Callable[[], None] = lambda: None) -> RetentionSummary:
        """Apply every limit now (the nightly job, ``retention run``); records what it
        removed as one activity entry."""
        require_manager(actor, "apply the retention limits")
        p = self.policy
        summary = RetentionSummary(
            limits={
                "plates_days": p.plates_days,
                "activity_days": p.activity_days,
                "mail_bodies_days": p.mail_bodies_days,
                "export_records_days": p.export_records_days,
            }
        )
        now = self.ctx.clock.now()
        self._tick = heartbeat
        if p.plates_days:
            cutoff = now - timedelta(days=p.plates_days)
            summary.plates_masked = self._mask_reservations(cutoff, summary)
            summary.activity_plates_masked = self._mask_activity(cutoff, summary)
        if p.activity_days:
            summary.activity_deleted = self._delete_activity(
                now - timedelta(days=p.activity_days), summary
            )
        if p.mail_bodies_days:
            summary.mail_bodies_pruned = self._prune_mail(
                now - timedelta(days=p.mail_bodies_days), summary
            )
        if p.export_records_days:
            summary.export_records_deleted = self._delete_exports(
                now - timedelta(days=p.export_records_days), summary
            )
        with self.ctx.write("activity") as session:
            record(
                session,
                actor.user_id,
                "retention_applied",
                summary.as_counts(),
                self.ctx.clock.now(),
            )
        touched = summary.plates_masked or summary.activity_plates_masked
        if touched:
            self.ctx.changed("reservations")  # cached views may show the old plates
        return summary

    # --- vehicle numbers --------------------------------------------------------------------
    def _mask_reservations(self, cutoff: datetime, summary: RetentionSummary) -> int:
        """One UPDATE per range of ids (the primary key: each one a small index range whatever
        the table's size), with the very SQL expression anonymised exports mask with."""
        r = Reservation
        with self.ctx.read() as session:
            dialect = session.get_bind().dialect.name
            low, high = session.execute(select(func.min(r.id), func.max(r.id))).one()
        if low is None:
            return 0
        masked_plate = literal_column(mask_sql(dialect, "vehicle_number"), String())
        masked = 0
        start = int(low) - 1
        while start < int(high):
            end = start + self.batch_rows
            due = (
                r.id > start,
                r.id <= end,
                r.status.in_(CLOSED),
                func.coalesce(r.left_at, r.reserved_at) < cutoff,
                r.vehicle_number != masked_plate,
            )
            # A read first (it takes no lock): a range with nothing left to mask - every range,
            # on the nights after the first - costs the kiosks nothing.
            with self.ctx.read() as session:
                found = session.scalar(select(r.id).where(*due).limit(1))
            if found is not None:
                masked += self._write(
                    update(r)
                    .where(*due)
                    .values(vehicle_number=masked_plate)
                    .execution_options(synchronize_session=False),
                    summary,
                )
            start = end
            self._tick()
        return masked

    def _mask_activity(self, cutoff: datetime, summary: RetentionSummary) -> int:
        a = UserActivity
        with self.ctx.read() as session:
            low, high = session.execute(
                select(func.min(a.id), func.max(a.id)).where(a.timestamp < cutoff)
            ).one()
        if low is None:
            return 0
        masked = 0
        statement = update(a).execution_options(synchronize_session=False)
        start = int(low) - 1
        while start < int(high):
            end = start + self.batch_rows
            with self.ctx.read() as session:
                rows = session.execute(
                    select(a.id, a.activity_data).where(
                        a.id > start, a.id <= end, a.timestamp < cutoff
                    )
                ).all()
            changes = []
            for aid, data in rows:
                plate = (data or {}).get("vehicle")
                if isinstance(plate, str) and mask_vehicle(plate) != plate:
                    changes.append(
                        {"id": aid, "activity_data": {**data, "vehicle": mask_vehicle(plate)}}
                    )
            if changes:
                self._write(statement, summary, changes)
                masked += len(changes)
            start = end
            self._tick()
        return masked

    # --- deletions: a batch is "the oldest N rows still due", until none is left ----------
    def _delete_activity(self, cutoff: datetime, summary: RetentionSummary) -> int:
        a = UserActivity
        batch = select(a.id).where(a.timestamp < cutoff).order_by(a.id).limit(self.batch_rows)
        return self._repeat(lambda: delete(a).where(a.id.in_(batch.scalar_subquery())), summary)

    def _prune_mail(self, cutoff: datetime, summary: RetentionSummary) -> int:
        m = EmailOutbox
        due = and_(
            m.status.in_(FINISHED_MAILS),
            m.created_at < cutoff,
            or_(m.body_text != "", m.body_html.is_not(None)),
        )
        batch = select(m.id).where(due).order_by(m.id).limit(self.batch_rows)
        return self._repeat(
            lambda: (
                update(m)
                .where(m.id.in_(batch.scalar_subquery()))
                .values(body_text="", body_html=None, attachments=[])
            ),
            summary,
        )

    def _delete_exports(self, cutoff: datetime, summary: RetentionSummary) -> int:
        e = ExportJob
        due = and_(
            e.status.in_(FINISHED_EXPORTS), func.coalesce(e.completed_at, e.created_at) < cutoff
        )
        batch = select(e.id).where(due).order_by(e.id).limit(self.batch_rows)
        return self._repeat(lambda: delete(e).where(e.id.in_(batch.scalar_subquery())), summary)

    def _repeat(self, statement: Callable[[], Any], summary: RetentionSummary) -> int:
        total = 0
        while True:
            done = self._write(statement().execution_options(synchronize_session=False), summary)
            total += done
            self._tick()
            if done < self.batch_rows:
                return total

    def _write(
        self, statement: Any, summary: RetentionSummary, params: list[dict[str, Any]] | None = None
    ) -> int:
        """One batch in its own short transaction; returns the rows it changed."""
        started = time.monotonic()
        with self.ctx.write() as session:
            result = session.execute(statement, params) if params else session.execute(statement)
            changed = len(params) if params else int(getattr(result, "rowcount", 0) or 0)
        summary.batches += 1
        self.ctx.db.checkpoint()  # this job's pages, not a kiosk's commit, pay for the log
        if self.pause:
            time.sleep(max(self.pause, time.monotonic() - started))
        return changed
