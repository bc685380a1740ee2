"""The money data as the PDF renderer's documents (domain/documents.py): a payment's
``ReceiptData`` as a ``ReceiptDocument``, a ``ShiftReport`` as a ``ShiftReportDocument``."""

from __future__ import annotations

from parking_desktop.domain.documents import (
    ExceptionLine,
    FeeLine,
    MethodTotal,
    ReceiptDocument,
    ShiftReportDocument,
)
from parking_desktop.domain.money import PaymentKind, ReceiptData, ShiftReport


def receipt_document(data: ReceiptData, *, time_zone: str, driver: str = "") -> ReceiptDocument:
    note = data.reason or ""
    if data.kind is not PaymentKind.PAYMENT:
        note = f"{data.kind.value.capitalize()}: {note}".rstrip(": ")
    return ReceiptDocument(
        site_name=data.site_name,
        lot_name=data.lot_name,
        lot_address=data.lot_address,
        receipt_number=data.receipt_number,
        vehicle=data.vehicle_number,
        arrived_at=data.parked_at,
        left_at=data.left_at,
        lines=tuple(FeeLine(text, amount) for text, amount in data.lines),
        net=data.vat.net,
        vat_rate=data.vat.rate,
        vat=data.vat.vat,
        gross=data.vat.gross,
        currency=data.currency,
        payment_method=data.method.value,
        attendant=data.taken_by,
        issued_at=data.taken_at,
        time_zone=time_zone,
        locale=data.locale,
        spot=data.spot_number,
        driver=driver,
        tendered=data.tendered,
        change=data.change,
        note=note,
    )


def shift_document(report: ShiftReport, *, time_zone: str) -> ShiftReportDocument:
    return ShiftReportDocument(
        site_name=report.site_name,
        shift_id=report.shift_id,
        attendant=report.attendant,
        kiosk=report.host,
        opened_at=report.opened_at,
        closed_at=report.closed_at,
        opening_float=report.opening_float,
        payments=tuple(MethodTotal(t.method.value, t.count, t.amount) for t in report.by_method),
        refunds=report.refunds,
        refund_count=report.refund_count,
        exceptions=tuple(
            ExceptionLine(
                kind=e.kind.value.replace("_", " "),
                reason=f"{e.reason_code.value.replace('_', ' ')}: {e.reason_text}",
                amount=e.amount,
                at=e.created_at,
                by=e.actor + (f" (approved by {e.approved_by})" if e.approved_by else ""),
            )
            for e in report.exceptions
        ),
        check_ins=report.check_ins,
        check_outs=report.check_outs,
        expected_cash=report.expected_cash,
        counted_cash=report.counted_cash,
        difference=report.difference,
        difference_reason=report.difference_reason or "",
        currency=report.currency,
        issued_at=report.closed_at or report.opened_at,
        time_zone=time_zone,
        locale=report.locale,
    )
