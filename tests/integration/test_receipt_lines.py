"""The PDF receipt carries the tariff's itemised lines (read back with pypdf), the same lines the
check-out's Receipt has, on both databases."""

from __future__ import annotations

import io

from pypdf import PdfReader

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from tests.integration.test_offline_journal import make_lot
from tests.integration.test_tariffs_service import day_night


def words(text: str) -> str:
    return " ".join(text.split())  # a long line may wrap in its cell


def test_the_pdf_receipt_lists_the_tariff_lines(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    lot = make_lot(app, manager)
    app.tariffs.save(lot, day_night(clock.now()), manager)
    app.parking.check_in(attendant, lot, "PDF1")  # Mon 10:00 Paris
    clock.advance(hours=10, minutes=7)  # day rate, night rate, then the daily maximum
    receipt = app.parking.check_out(attendant, "PDF1")
    assert receipt.payment is not None and len(receipt.lines) == 3

    data = app.money.receipt(attendant, receipt.payment.id)
    assert [text for text, _ in data.lines] == [line.text for line in receipt.lines]
    assert sum(amount for _, amount in data.lines) == receipt.cost

    pdf = app.money.receipt_pdf(attendant, receipt.payment.id)
    text = words("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    for line in receipt.lines:
        assert words(line.text) in text
    assert "day rate" in text and "night rate" in text and "daily maximum applied" in text
    assert "Parking 10." not in text  # not the flat rule's one line any more
    assert f"€{receipt.cost}" in text
