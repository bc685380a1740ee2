"""cleanup_exports: delete expired export files and mark their jobs expired.

A completed export whose ``expires_at`` has passed loses its file and becomes ``expired``
(saving it is then refused by the export feature with a clear message). A failed or cancelled
export that left a partial file behind loses the file once the expiry time has passed since it
was created. Only files inside UPLOAD_FOLDER are ever deleted: a row pointing elsewhere is
marked, and counted, but its file is left alone."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select

from parking_desktop.adapters.db.models import ExportJob
from parking_desktop.services.context import ServiceContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanupSummary:
    checked: int  # rows looked at
    expired: int  # completed exports marked expired
    files_deleted: int
    files_missing: int  # the row named a file that was already gone
    refused: int  # files outside UPLOAD_FOLDER, left alone
    errors: int  # files that could not be deleted (tried again next run)

    def as_counts(self) -> dict[str, Any]:
        return {"checked": self.checked, "expired": self.expired,
                "files_deleted": self.files_deleted, "files_missing": self.files_missing,
                "refused": self.refused, "errors": self.errors}

    def text(self) -> str:
        return (f"Export cleanup: {self.expired} exports expired, "
                f"{self.files_deleted} files deleted, {self.errors} errors.")


def _inside(folder: Path, candidate: Path) -> bool:
    try:
        candidate.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def cleanup_exports(
    ctx: ServiceContext, upload_folder: Path, expiry_hours: int
) -> CleanupSummary:
    now = ctx.clock.now()
    leftovers_before = now - timedelta(hours=expiry_hours)
    counts = dict(checked=0, expired=0, files_deleted=0, files_missing=0, refused=0, errors=0)
    with ctx.write("exports") as session:
        rows = session.scalars(
            select(ExportJob).where(or_(
                and_(ExportJob.status == "completed", ExportJob.expires_at <= now),
                and_(ExportJob.status.in_(("failed", "cancelled")),
                     ExportJob.file_path.is_not(None),
                     ExportJob.created_at <= leftovers_before),
            )).with_for_update()
        ).all()
        for job in rows:
            counts["checked"] += 1
            if job.file_path:
                outcome = _delete(upload_folder, Path(job.file_path))
                counts[outcome] += 1
                if outcome == "errors":
                    continue  # keep the row as it is, so the next run tries again
                if outcome != "refused":
                    job.file_path = None
            if job.status == "completed":
                job.status = "expired"
                counts["expired"] += 1
    return CleanupSummary(**counts)


def _delete(folder: Path, path: Path) -> str:
    if not path.is_absolute():
        path = folder / path
    if not _inside(folder, path):
        log.warning("Export file %s is outside the upload folder; not deleting it", path)
        return "refused"
    try:
        path.unlink()
    except FileNotFoundError:
        return "files_missing"
    except OSError as exc:
        log.warning("Could not delete expired export %s: %s", path, exc)
        return "errors"
    return "files_deleted"
