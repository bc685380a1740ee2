"""The jobs' mail queues on top of the EmailService (templates) and its outbox.

Mails are rendered first, outside any transaction, then written in one batch together with the
job's activity rows; the outbox's idempotency keys turn a repeat into a no-op."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from parking_desktop.services.mail.batches import JobMail, Recipient, StoreMails
from parking_desktop.services.mail.email import EmailService
from parking_desktop.services.mail.monthly_report import MonthlyReport
from parking_desktop.services.mail.monthly_run import ReportWorkers
from parking_desktop.services.mail.outbox import OutgoingMail
from parking_desktop.services.mail.reminders import Reminder

PREVIEW_ADDRESS = "preview@example.invalid"  # the report preview of a driver without e-mail


def _store(email: EmailService, built: list[OutgoingMail]) -> StoreMails:
    def store(session: Session) -> set[str]:
        results = email.outbox.enqueue_many(built, session=session)
        return {m.idempotency_key for m, r in zip(built, results, strict=True) if r.created}

    return store


class ReminderQueue:
    def __init__(self, email: EmailService) -> None:
        self.email = email

    def __call__(self, mails: Sequence[JobMail[Reminder]]) -> StoreMails:
        built = [
            self.email.build_daily_reminder(m.recipient, m.payload.lots_with_free_spots,
                                            key=m.idempotency_key)
            for m in mails
        ]
        return _store(self.email, built)


class MonthlyReportQueue:
    def __init__(self, email: EmailService) -> None:
        self.email = email

    def __call__(self, mails: Sequence[JobMail[MonthlyReport]]) -> StoreMails:
        built = [self.email.build_monthly_report(m.recipient, m.payload, key=m.idempotency_key)
                 for m in mails]
        return _store(self.email, built)


# More report processes than this gain little: each reads the month again, and on SQLite they
# take turns to write.
MAX_REPORT_PROCESSES = 4


def report_workers(email: EmailService) -> ReportWorkers:
    """How a monthly report to many drivers is spread over processes: one per core (up to
    MAX_REPORT_PROCESSES); one only for a database other processes cannot open (in memory)."""
    url = email.ctx.db.url
    shared = ":memory:" not in url and "mode=memory" not in url
    folder = email.renderer.directory
    return ReportWorkers(
        url=url,
        processes=min(MAX_REPORT_PROCESSES, os.cpu_count() or 1) if shared else 1,
        site_fields=email.site_fields(), sender=email.sender(),
        templates=str(folder) if folder is not None else None)


def render_report_html(email: EmailService, report: MonthlyReport) -> str:
    """The report exactly as the mail's HTML part would show it (for the desktop preview)."""
    recipient = Recipient(user_id=report.user_id, username=report.username,
                          email=report.email or PREVIEW_ADDRESS, full_name=report.full_name)
    mail = email.build_monthly_report(recipient, report, key=f"preview:{report.user_id}")
    return mail.html or ""


def dispatch_counts(email: EmailService,
                    should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """One pass of the outbox dispatcher, as job counts."""
    report = email.outbox.dispatch(should_stop=should_stop)
    counts: dict[str, Any] = {"sent": report.sent, "failed": report.failed,
                              "retrying": report.retrying, "pending": report.pending}
    if report.stopped:
        counts["stopped"] = True
    if report.errors:
        counts["errors"] = report.errors[:3]
    return counts
