"""Printing a PDF receipt or Z-report through Qt: every page reaches the printer (here a QPrinter
writing a PDF file, no real printer), the dialog's Cancel prints nothing, and a file Qt cannot
read is refused in a sentence."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.adapters.pdf import render_receipt_pdf, render_shift_report_pdf
from parking_desktop.domain.documents import ExceptionLine
from parking_desktop.domain.errors import ValidationError
from parking_desktop.ui.common import print_pdf as printing
from tests.unit.test_pdf_documents import ARRIVED, RECEIPT, REPORT


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def inked_share(path: Path, page: int = 0) -> float:
    """The share of clearly non-white pixels on a printed page (0: a blank page)."""
    document = printing.load_pdf(path.read_bytes())
    image = document.render(page, QSize(300, 420))
    dark = sum(
        1
        for y in range(0, image.height(), 3)
        for x in range(0, image.width(), 3)
        if QColor(image.pixel(x, y)).lightness() < 200
    )
    return dark / ((image.height() // 3) * (image.width() // 3))


def test_every_page_of_a_long_report_is_printed_with_ink(qtbot: QtBot, tmp_path: Path) -> None:
    long_report = replace(
        REPORT,
        exceptions=tuple(
            ExceptionLine("discount", f"Reason {i}", Decimal(i), ARRIVED, "Ann") for i in range(80)
        ),
    )
    source = render_shift_report_pdf(long_report)
    pages = len(PdfReader(io.BytesIO(source)).pages)
    assert pages > 1
    out = tmp_path / "printed.pdf"
    assert printing.print_pdf_to(pdf_printer(out), source) == pages
    assert len(PdfReader(out).pages) == pages
    for page in range(pages):
        assert inked_share(out, page) > 0.002, page


def test_the_dialog_prints_off_the_gui_thread_and_cancel_prints_nothing(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "receipt.pdf"
    answers = [QDialog.DialogCode.Rejected, QDialog.DialogCode.Accepted]

    class ChosenPrinter(QPrintDialog):
        def exec(self) -> int:  # what a user picks: a PDF file as the printer
            self.printer().setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            self.printer().setOutputFileName(str(out))
            return int(answers.pop(0).value)

    monkeypatch.setattr(printing, "QPrintDialog", ChosenPrinter)
    parent = QWidget()
    qtbot.addWidget(parent)
    done: list[int] = []
    data = render_receipt_pdf(RECEIPT)
    assert printing.print_pdf(parent, data, "Receipt R-000042", on_done=done.append) is False
    assert not out.exists()
    assert printing.print_pdf(parent, data, "Receipt R-000042", on_done=done.append) is True
    qtbot.waitUntil(lambda: done == [1], timeout=30_000)
    assert len(PdfReader(out).pages) == 1
    assert inked_share(out) > 0.002


def test_a_file_qt_cannot_read_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be printed"):
        printing.print_pdf_to(pdf_printer(tmp_path / "x.pdf"), b"not a pdf at all")
