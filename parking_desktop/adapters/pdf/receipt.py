"""The receipt a driver keeps: site, lot and address, receipt number, vehicle and times, the
itemised fee, net / VAT / gross when the site charges VAT, and how it was paid."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from parking_desktop.adapters.pdf.layout import A5, Document
from parking_desktop.domain.documents import ReceiptDocument, method_label
from parking_desktop.domain.locale_format import format_amount, format_moment


def render_receipt_pdf(data: ReceiptDocument) -> bytes:
    """The receipt as a one-page A5 PDF (it prints on A4 or a receipt printer, scaled)."""

    def amount(value: Decimal) -> str:
        return format_amount(value, data.currency, data.locale)

    def when(value: datetime) -> str:
        return format_moment(value, data.time_zone, data.locale)

    pdf = Document(
        size=A5,
        title=f"Receipt {data.receipt_number}",
        author=data.site_name,
        created=data.issued_at,
    )
    pdf.footer_text = f"{data.site_name} · receipt {data.receipt_number}"
    pdf.heading(data.site_name, f"Receipt {data.receipt_number}", [data.lot_name, data.lot_address])
    stay = [("Vehicle", data.vehicle)]
    if data.spot:
        stay.append(("Spot", data.spot))
    if data.driver:
        stay.append(("Driver", data.driver))
    stay += [
        ("Arrived", when(data.arrived_at)),
        ("Left", when(data.left_at)),
        ("Issued", when(data.issued_at)),
    ]
    pdf.fields(stay)
    pdf.grid(
        ["Item", "Amount"],
        [[line.text, amount(line.amount)] for line in data.lines],
        widths=[70, 30],
        right=[1],
    )
    totals: list[tuple[str, str]] = []
    if data.vat_rate:
        totals += [("Net", amount(data.net)), (f"VAT {_percent(data.vat_rate)}", amount(data.vat))]
    totals.append(("Total", amount(data.gross)))
    pdf.totals(totals, strong=["Total"])
    paid = [("Payment", method_label(data.payment_method))]
    if data.tendered is not None:
        paid.append(("Tendered", amount(data.tendered)))
    if data.change is not None:
        paid.append(("Change", amount(data.change)))
    paid.append(("Served by", data.attendant or "—"))
    if data.note:
        paid.append(("Note", data.note))
    pdf.fields(paid)
    if not data.vat_rate:
        pdf.note("No VAT charged.")
    pdf.note(f"Amounts in {data.currency}. Times in {data.time_zone}. Keep this receipt.")
    return pdf.to_bytes()


def _percent(rate: Decimal) -> str:
    # 20.00 -> "20%", 7.70 -> "7.7%": the rate as the law writes it.
    text = format(rate.normalize(), "f")
    return f"{text}%"
