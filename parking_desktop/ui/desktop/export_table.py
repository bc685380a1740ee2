"""The exports table: one row per export job, with a progress bar drawn in its Progress cell."""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QWidget,
)

from parking_desktop.services.exports.exports import ExportJobView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import SORT_ROLE, Column, RowTableModel
from parking_desktop.ui.desktop.screen import SignedIn

STATUS_TEXT = {"pending": "Waiting", "processing": "Running", "completed": "Ready",
               "failed": "Failed", "cancelled": "Cancelled", "expired": "Expired"}
STATUS_COLOUR = {"failed": "#b91c1c", "completed": "#15803d", "expired": "#64748b",
                 "cancelled": "#64748b"}


def status_text(job: ExportJobView) -> str:
    return STATUS_TEXT["expired"] if job.expired else STATUS_TEXT.get(job.status, job.status)


def rows_text(job: ExportJobView) -> str:
    if job.status == "processing" and job.total_rows:
        return f"{fmt.count(job.row_count)} of {fmt.count(job.total_rows)}"
    if job.status in ("completed", "expired"):
        return fmt.count(job.row_count)
    return "—"


def suggested_filename(job: ExportJobView, session: SignedIn) -> str:
    """'parking-export-2026-03-02-lot-city-center.csv' for the save dialog."""
    day = fmt.date_only(job.created_at, session.tz)
    slug = re.sub(r"[^a-z0-9]+", "-", job.label.lower()).strip("-")[:40] or "export"
    return f"parking-export-{day}-{slug}.csv"


def export_columns(session: SignedIn) -> list[Column[ExportJobView]]:
    tz = session.tz
    return [
        Column("Requested", lambda j: fmt.date_time(j.created_at, tz),
               sort_value=lambda j: j.created_at),
        Column("By", lambda j: j.requester),
        Column("What", lambda j: j.label, tooltip=lambda j: j.label),
        Column("Status", status_text,
               colour=lambda j: STATUS_COLOUR["expired"] if j.expired
               else STATUS_COLOUR.get(j.status),
               tooltip=lambda j: j.error_message or ""),
        Column("Progress", lambda j: f"{j.progress}%", sort_value=lambda j: j.progress,
               numeric=True),
        Column("Rows", rows_text, sort_value=lambda j: j.row_count, numeric=True),
        Column("Expires", lambda j: fmt.date_time(j.expires_at, tz),
               sort_value=lambda j: j.expires_at),
    ]


class ExportsModel(RowTableModel[ExportJobView]):
    REQUESTED, BY, WHAT, STATUS, PROGRESS, ROWS, EXPIRES = range(7)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.COLUMNS = export_columns(session)


class ProgressDelegate(QStyledItemDelegate):
    """Paints the cell's value (0-100, from SORT_ROLE) as a progress bar."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(SORT_ROLE)
        if not isinstance(value, int | float):
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 8, -4, -8)
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = int(value)
        bar.text = f"{int(value)}%"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)
