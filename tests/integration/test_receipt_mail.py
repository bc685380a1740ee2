"""E-mailing a receipt on both databases: the PDF travels through the outbox to a real SMTP
server as an attachment that opens and reads right; walk-ins give an address; pressing
"E-mail" twice sends one mail; a driver cannot mail someone else's receipt; no address is a
sentence, not a crash."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader

from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import PermissionDeniedError, ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.documents.receipts import email_receipt
from tests.integration.jobs_support import activity, add_driver, outbox_rows
from tests.mail_support import Received, SmtpServer
from tests.unit.test_pdf_documents import RECEIPT


def pdf_text(mail: Received) -> tuple[str, str]:
    [part] = [p for p in mail.message.walk() if p.is_attachment()]
    assert part.get_content_type() == "application/pdf"
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return str(part.get_filename()), text


def test_the_driver_gets_the_receipt_pdf_once(
    mail_app: App, attendant: Actor, smtp_server: SmtpServer
) -> None:
    uid = add_driver(mail_app, "zoe", full_name="Zoë Ψ")
    queued = email_receipt(mail_app.email, attendant, RECEIPT, user_id=uid)
    again = email_receipt(mail_app.email, attendant, RECEIPT, user_id=uid)  # pressed twice

    assert queued.created and not again.created and again.id == queued.id
    [mail] = smtp_server.received  # delivered at once: the driver is waiting at the kiosk
    assert mail.rcpt_tos == ["zoe@example.com"]
    assert mail.message["Subject"] == "Your parking receipt R-000042"
    body = " ".join(mail.part("text/plain").split())
    assert "Hello Zoë Ψ" in body and "R-000042" in body and "9,00" in body and "Cash" in body
    filename, text = pdf_text(mail)
    assert filename == "receipt-R-000042.pdf"
    assert "Receipt R-000042" in text and "Gare du Nord" in text and "AB123CD" in text
    [row] = outbox_rows(mail_app, "receipt")
    assert (row.status, row.user_id) == ("sent", uid)
    [logged] = activity(mail_app, "receipt_emailed")
    assert logged.activity_data["receipt_number"] == "R-000042"
    assert logged.user_id == attendant.user_id


def test_a_walk_in_types_an_address_and_a_driver_mails_only_their_own(
    mail_app: App, attendant: Actor, smtp_server: SmtpServer
) -> None:
    walk_in = replace(RECEIPT, receipt_number="R-000043", driver="")
    email_receipt(mail_app.email, attendant, walk_in, address=" visitor@example.org ")
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["visitor@example.org"]
    assert "Receipt R-000043" in pdf_text(mail)[1]

    owner = add_driver(mail_app, "owner")
    other = add_driver(mail_app, "other")
    me = Actor(user_id=owner, username="owner", role=Role.DRIVER)
    email_receipt(mail_app.email, me, RECEIPT, user_id=owner)
    with pytest.raises(PermissionDeniedError):
        email_receipt(mail_app.email, me, RECEIPT, user_id=other)
    with pytest.raises(PermissionDeniedError):
        email_receipt(mail_app.email, me, walk_in, address="visitor@example.org")
    assert sorted(m.rcpt_tos[0] for m in smtp_server.received) == [
        "owner@example.com",
        "visitor@example.org",
    ]


def test_no_address_or_a_bad_one_is_refused_and_nothing_is_queued(
    mail_app: App, attendant: Actor
) -> None:
    silent = add_driver(mail_app, "silent", email=False)
    with pytest.raises(ValidationError, match="no e-mail address"):
        email_receipt(mail_app.email, attendant, RECEIPT, user_id=silent)
    with pytest.raises(ValidationError, match="not an e-mail address"):
        email_receipt(mail_app.email, attendant, RECEIPT, address="not-an-address")
    assert outbox_rows(mail_app, "receipt") == []
    assert activity(mail_app, "receipt_emailed") == []
