"""PDF documents (receipts, Z-reports) made with fpdf2: no Qt, so the headless worker can make
and mail them too."""

from parking_desktop.adapters.pdf.receipt import render_receipt_pdf
from parking_desktop.adapters.pdf.shift_report import render_shift_report_pdf

__all__ = ["render_receipt_pdf", "render_shift_report_pdf"]
