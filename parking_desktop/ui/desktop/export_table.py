"""The exports table: one row per export job, with a progress bar drawn in its Progress cell."""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from parking_desktop.services.exports.exports import ExportJobView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import SORT_ROLE, Column, RowTableModel
from parking_desktop.ui.desktop.screen import SignedIn

STATUS_TEXT = {"pending": "Waiting", "processing": "Running", "completed": "Ready",
               "failed": "Failed", "cancelled": "Cancelled", "expired": "Expired"}
TRACK, FILL, FILL_DONE = "#e2e8f0", "#3b82f6", "#16a34a"
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


def progress_value(job: ExportJobView) -> int | None:
    """The bar's value: only for an export that runs or ran to its end (a cancelled or failed
    one shows no bar: its percentage would read like work still going on)."""
    if job.expired or job.status not in ("pending", "processing", "completed"):
        return None
    return job.progress


def progress_text(job: ExportJobView) -> str:
    value = progress_value(job)
    return "—" if value is None else f"{value}%"


def suggested_filename(job: ExportJobView, session: SignedIn) -> str:
    """'parking-export-2026-03-02-lot-city-center.csv' for the save dialog."""
    day = fmt.date_only(job.created_at, session.tz)
    slug = re.sub(r"[^a-z0-9]+", "-", job.label.lower()).strip("-")[:40] or "export"
    return f"parking-export-{day}-{slug}{file_suffix(job)}"


def file_suffix(job: ExportJobView) -> str:
    """".zip" for a driver's data bundle, ".csv" for every other export."""
    return ".zip" if (job.file_path or "").endswith(".zip") else ".csv"


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
        Column("Progress", progress_text, sort_value=progress_value, numeric=True),
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
    """Paints the cell's value (0-100, from SORT_ROLE) as a thin bar with its percentage at the
    right, on the same line as the text of the other cells; no value: the plain text ("—")."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(SORT_ROLE)
        if not isinstance(value, int | float):
            super().paint(painter, option, index)
            return
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        # The row's background and selection, without text.
        blank = QStyleOptionViewItem(option)
        self.initStyleOption(blank, index)
        blank.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, blank, painter, widget)
        rect = option.rect.adjusted(8, 0, -8, 0)
        text = f"{int(value)}%"
        text_width = option.fontMetrics.horizontalAdvance("100%") + 8
        track = QRect(rect.left(), rect.center().y() - 3, max(0, rect.width() - text_width), 6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(TRACK))
        painter.drawRoundedRect(track, 3, 3)
        done = QRect(track)
        done.setWidth(round(track.width() * max(0, min(100, int(value))) / 100))
        painter.setBrush(QColor(FILL_DONE if value >= 100 else FILL))
        if done.width() > 0:
            painter.drawRoundedRect(done, 3, 3)
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
        painter.restore()
