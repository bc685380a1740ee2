"""A desktop export as one Op: ask for it, then follow it to its end.

The export itself runs on the export service's own thread (it goes on if the screen is
closed); the op's callable waits for it on the long-work pool. The service's progress
callback (plain Python, on the export's thread) becomes the op's progress signal, so the
screen never polls the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from parking_desktop.domain.roles import Actor
from parking_desktop.services.exports.exports import ExportJobView, ExportService
from parking_desktop.services.exports.scope import ExportForm
from parking_desktop.ui.common.ops import Work

FOLLOW_STEP_S = 0.25  # how often the follower looks at its cancel flag while it waits


def progress_percent(done: int, total: int) -> int:
    """As the export service stores it: 99 at most until the file is complete."""
    return 100 if total <= 0 else min(99, done * 100 // total)


def with_progress(job: ExportJobView, done: int, total: int) -> ExportJobView:
    """``job`` as the newest progress report describes it."""
    return replace(job, status="processing", row_count=done, total_rows=total,
                   progress=progress_percent(done, total))


def export_and_follow(exports: ExportService, actor: Actor,
                      form: ExportForm) -> Callable[[Work], ExportJobView]:
    """The op's callable. Progress reports ``(rows done, total rows)``; the first report after
    the request has total 0 (started, not counted yet). Cancelling the op stops following,
    not the export (the Cancel button asks the service for that)."""

    def work(follow: Work) -> ExportJobView:
        def progress(_job_id: str, done: int, total: int) -> None:  # the export's thread
            follow.progress(done, total, f"{done:,} of {total:,} rows")

        job_id = exports.request_form(actor, form, on_progress=progress)
        follow.progress(0, 0, "started")
        while not exports.wait(job_id, FOLLOW_STEP_S):
            follow.check()
        return exports.status(actor, job_id)

    return work
