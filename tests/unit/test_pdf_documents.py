"""The PDF receipt and Z-report, opened with pypdf: what a person reads on them."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from pypdf import PdfReader

from parking_desktop.adapters.pdf import fonts, render_receipt_pdf, render_shift_report_pdf
from parking_desktop.domain.documents import (
    ExceptionLine,
    FeeLine,
    MethodTotal,
    ReceiptDocument,
    ShiftReportDocument,
)
from parking_desktop.domain.locale_format import format_amount

ARRIVED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LEFT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)

RECEIPT = ReceiptDocument(
    site_name="Parking Zoë",
    lot_name="Gare du Nord",
    lot_address="18 Rue de Dunkerque, Paris",
    receipt_number="R-000042",
    vehicle="AB123CD",
    arrived_at=ARRIVED,
    left_at=LEFT,
    lines=(FeeLine("2.5 h × 4.00", D("10.00")), FeeLine("Regular customer discount", D("-1.00"))),
    net=D("7.50"),
    vat_rate=D("20.00"),
    vat=D("1.50"),
    gross=D("9.00"),
    currency="EUR",
    payment_method="cash",
    attendant="Ann Attendant",
    issued_at=LEFT,
    time_zone="Europe/Paris",
    locale="fr_FR",
    tendered=D("20.00"),
    change=D("11.00"),
    spot="A-07",
    driver="Άλκηστις Ψ.",
)

REPORT = ShiftReportDocument(
    site_name="Parking Zoë",
    shift_id=17,
    attendant="Ann Attendant",
    kiosk="gate-east",
    opened_at=ARRIVED,
    closed_at=LEFT,
    opening_float=D("100.00"),
    payments=(
        MethodTotal("cash", 12, D("96.50")),
        MethodTotal("card", 5, D("40.00")),
        MethodTotal("waived", 1, D("0.00")),
    ),
    refunds=D("4.00"),
    refund_count=1,
    exceptions=(
        ExceptionLine("free exit", "Ambulance on call", D("0.00"), ARRIVED, "Ann"),
        ExceptionLine("refund", "Charged twice", D("-4.00"), LEFT, "Manny Manager"),
    ),
    check_ins=20,
    check_outs=18,
    expected_cash=D("192.50"),
    counted_cash=D("190.00"),
    difference=D("-2.50"),
    difference_reason="Coins dropped behind the till",
    currency="INR",
    issued_at=LEFT,
    time_zone="Asia/Kolkata",
    locale="en_IN",
)


def spaced(text: str) -> str:
    # CLDR puts no-break spaces in amounts ("10,00\xa0€"); text extraction gives plain ones.
    return text.replace("\xa0", " ").replace("\u202f", " ")


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return spaced("\n".join(page.extract_text() for page in reader.pages))


def test_receipt_shows_number_lot_vehicle_times_lines_tax_and_payment() -> None:
    pdf = render_receipt_pdf(RECEIPT)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in (
        "Parking Zoë",
        "Receipt R-000042",
        "Gare du Nord",
        "18 Rue de Dunkerque, Paris",
        "AB123CD",
        "A-07",
        "Άλκηστις Ψ.",
        "2.5 h × 4.00",
        "Regular customer discount",
        "VAT 20%",
        "Cash",
        "Ann Attendant",
    ):
        assert expected in text, expected
    # French locale: comma decimals and the euro sign after the amount, spaced per CLDR.
    for amount in ("10.00", "-1.00", "7.50", "1.50", "9.00", "20.00", "11.00"):
        assert spaced(format_amount(D(amount), "EUR", "fr_FR")) in text, amount
    assert "€" in text
    # Times in the site's zone (Paris is UTC+1 in March), not UTC.
    assert "09:00" in text and "11:30" in text
    assert "Total" in text and "Net" in text


def test_receipt_without_vat_has_no_tax_lines_and_card_has_no_change() -> None:
    plain = replace(
        RECEIPT,
        vat_rate=D(0),
        vat=D(0),
        net=D("9.00"),
        payment_method="card",
        tendered=None,
        change=None,
        currency="GBP",
        locale="en_GB",
    )
    text = text_of(render_receipt_pdf(plain))
    assert "VAT 20%" not in text and "Net" not in text
    assert "No VAT charged." in text
    assert "£9.00" in text and "Card" in text
    assert "Tendered" not in text and "Change" not in text


def test_receipt_embeds_its_font_so_rupee_signs_survive() -> None:
    pdf = render_receipt_pdf(replace(RECEIPT, currency="INR", locale="en_IN"))
    text = text_of(pdf)
    assert "₹9.00" in text
    fonts_used = {
        str(font.get("/BaseFont", ""))
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
        for font in [font.get_object()]
    }
    assert any("DejaVuSans" in name for name in fonts_used), fonts_used


def test_z_report_shows_methods_refunds_exceptions_and_the_cash_count() -> None:
    # Words flattened: a long cell wraps onto two lines ("Manny\nManager").
    text = " ".join(text_of(render_shift_report_pdf(REPORT)).split())
    for expected in (
        "Z-report — shift 17",
        "Ann Attendant",
        "gate-east",
        "Cash",
        "Card",
        "Waived",
        "₹96.50",
        "₹40.00",
        "₹136.50",
        "Refunds",
        "-₹4.00",
        "Opening float",
        "₹100.00",
        "₹192.50",
        "₹190.00",
        "-₹2.50",
        "Coins dropped behind the till",
        "Exceptions (2)",
        "free exit",
        "Ambulance on call",
        "Charged twice",
        "Manny Manager",
    ):
        assert expected in text, expected
    assert "Check-ins 20" in text and "Check-outs 18" in text


def test_z_report_of_an_open_shift_without_exceptions() -> None:
    open_shift = replace(
        REPORT,
        closed_at=None,
        counted_cash=None,
        difference=None,
        difference_reason="",
        exceptions=(),
        refunds=D(0),
        refund_count=0,
    )
    text = text_of(render_shift_report_pdf(open_shift))
    assert "still open" in text
    assert "None in this shift." in text
    assert "Refunds" not in text and "Difference" not in text


def test_many_exceptions_flow_onto_more_pages() -> None:
    many = replace(
        REPORT,
        exceptions=tuple(
            ExceptionLine("discount", f"Reason number {i}", D(i), ARRIVED, "Ann") for i in range(80)
        ),
    )
    pdf = render_shift_report_pdf(many)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1
    text = text_of(pdf)
    assert "Reason number 0" in text and "Reason number 79" in text


def test_a_missing_font_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fonts, "fonts_dir", lambda: tmp_path)
    with pytest.raises(FileNotFoundError, match=r"DejaVuSans\.ttf"):
        render_receipt_pdf(RECEIPT)
