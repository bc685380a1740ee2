"""A shift's Z-report: who worked where and when, the money taken by method, refunds, the
exceptions with their reasons, check-ins and check-outs, and the cash count."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from parking_desktop.adapters.pdf.layout import A4, Document
from parking_desktop.domain.documents import ShiftReportDocument, method_label
from parking_desktop.domain.locale_format import format_amount, format_moment


def render_shift_report_pdf(data: ShiftReportDocument) -> bytes:
    """The Z-report as an A4 PDF (several pages when a shift had many exceptions)."""

    def amount(value: Decimal) -> str:
        return format_amount(value, data.currency, data.locale)

    def when(value: datetime | None) -> str:
        return format_moment(value, data.time_zone, data.locale) if value else "still open"

    pdf = Document(
        size=A4,
        title=f"Z-report, shift {data.shift_id}",
        author=data.site_name,
        created=data.issued_at,
    )
    pdf.footer_text = f"{data.site_name} · Z-report, shift {data.shift_id}"
    pdf.heading(
        data.site_name,
        f"Z-report — shift {data.shift_id}",
        [f"Printed {when(data.issued_at)} ({data.time_zone})"],
    )
    pdf.fields(
        [
            ("Attendant", data.attendant),
            ("Kiosk", data.kiosk or "—"),
            ("Opened", when(data.opened_at)),
            ("Closed", when(data.closed_at)),
            ("Check-ins", str(data.check_ins)),
            ("Check-outs", str(data.check_outs)),
        ]
    )

    pdf.section("Payments by method")
    total = sum((p.amount for p in data.payments), Decimal(0))
    rows = [[method_label(p.method), str(p.count), amount(p.amount)] for p in data.payments]
    rows.append(["Total taken", str(sum(p.count for p in data.payments)), amount(total)])
    if data.refund_count or data.refunds:
        rows.append(["Refunds", str(data.refund_count), amount(-data.refunds)])
    pdf.grid(["Method", "Payments", "Amount"], rows, widths=[90, 40, 52], right=[1, 2])

    pdf.section("Cash count")
    count = [
        ("Opening float", amount(data.opening_float)),
        ("Expected in the drawer", amount(data.expected_cash)),
        ("Counted", amount(data.counted_cash) if data.counted_cash is not None else "—"),
    ]
    if data.difference is not None:
        sign = "+" if data.difference > 0 else ""
        count.append(("Difference", sign + amount(data.difference)))
    pdf.totals(count, strong=["Difference"])
    if data.difference:
        pdf.fields([("Reason", data.difference_reason or "(none given)")], label_width=22)

    pdf.section(f"Exceptions ({len(data.exceptions)})")
    if data.exceptions:
        pdf.grid(
            ["Type", "Reason", "By", "When", "Amount"],
            [
                [
                    e.kind,
                    e.reason,
                    e.by or "—",
                    when(e.at) if e.at else "—",
                    amount(e.amount) if e.amount is not None else "—",
                ]
                for e in data.exceptions
            ],
            widths=[26, 62, 26, 36, 32],
            right=[4],
        )
    else:
        pdf.note("None in this shift.")
    pdf.ln(2)
    pdf.note(f"Amounts in {data.currency}. Expected cash = float + cash payments − cash refunds.")
    return pdf.to_bytes()
