"""Printing a PDF (a receipt, a Z-report) through Qt's print dialog, at the kiosk and the desktop.

The documents are made as PDF by ``adapters/pdf`` (the worker has no Qt); here QtPdf (the
PySide6-Pdf wheel) renders each page to an image at the printer's resolution and paints it on
the QPrinter, scaled to fit the printable area, so the same file prints on A4, Letter or a
receipt printer. The painting runs in an ``Op`` (a worker thread: QPainter on a QPrinter is
allowed there), so the window stays responsive while a page is rendered."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from parking_desktop.domain.errors import ValidationError
from parking_desktop.ui.common.ops import Failure, Op

MAX_DPI = 300  # higher gains nothing on paper and costs memory per page image
POINTS_PER_INCH = 72


def load_pdf(data: bytes) -> QPdfDocument:
    """A QPdfDocument of ``data``; ValidationError if Qt cannot read it."""
    document = QPdfDocument()
    buffer = QBuffer(document)  # owned by the document: it must outlive the loading
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
        raise ValidationError(f"The document cannot be printed ({document.error().name}).")
    return document


def print_pdf_to(printer: QPrinter, data: bytes) -> int:
    """Paint every page of the PDF ``data`` on ``printer``; returns the pages printed."""
    document = load_pdf(data)
    dpi = min(printer.resolution(), MAX_DPI)
    painter = QPainter()
    if not painter.begin(printer):
        raise ValidationError("The printer could not be opened.")
    try:
        area = painter.viewport()  # the printable area, in device pixels
        for page in range(document.pageCount()):
            if page:
                printer.newPage()
            points = document.pagePointSize(page)
            size = QSize(
                round(points.width() / POINTS_PER_INCH * dpi),
                round(points.height() / POINTS_PER_INCH * dpi),
            )
            image = document.render(page, size)
            # Fit the page into the printable area, keeping its proportions, top-centred.
            fitted = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            left = area.x() + (area.width() - fitted.width()) // 2
            painter.drawImage(QRect(left, area.y(), fitted.width(), fitted.height()), image)
    finally:
        painter.end()
    return document.pageCount()


def print_pdf(
    parent: QWidget,
    data: bytes,
    title: str,
    *,
    on_done: Callable[[int], None] | None = None,
    on_failure: Callable[[Failure], None] | None = None,
) -> bool:
    """Ask for a printer with Qt's print dialog, then print ``data`` off the GUI thread.
    Returns False when the user cancelled the dialog (nothing printed)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(f"Print {title}")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    op: Op[int] = Op(
        lambda work: print_pdf_to(printer, data),
        on_success=on_done,
        on_failure=on_failure,
        owner=parent,
    )
    op.start()
    return True
