"""A driver's "E-mail me my history": the export runs, then the export-ready mail goes out
through a real SMTP server (aiosmtpd) with the CSV attached."""

from __future__ import annotations

from pathlib import Path

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.exports.scope import ExportScope
from tests.integration.export_support import build_history, finished
from tests.mail_support import SmtpServer


def test_driver_gets_their_history_by_email(
    mail_app: App, smtp_server: SmtpServer, manager: Actor, attendant: Actor, clock: FixedClock
) -> None:
    app = mail_app
    history = build_history(app, manager, attendant, clock)
    job = app.exports.email_my_history(history.sum_driver).job_id
    view = finished(app, job)
    assert view.status == "completed" and view.row_count == 2
    assert view.file_path is not None
    assert len(smtp_server.received) == 1
    mail = smtp_server.received[0]
    assert mail.rcpt_tos == ["sum@example.com"]
    attachments = list(mail.message.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_content_type() == "text/csv"
    payload = attachments[0].get_payload(decode=True)
    assert payload == Path(view.file_path).read_bytes()
    assert payload.startswith("\ufeffReservation ID,".encode())


def test_an_export_not_asked_for_by_mail_sends_nothing(
    mail_app: App, smtp_server: SmtpServer, manager: Actor
) -> None:
    view = finished(mail_app, mail_app.exports.request(manager, ExportScope.everything()))
    assert view.status == "completed"
    assert smtp_server.received == []
    assert mail_app.exports.status(SYSTEM, view.job_id).status == "completed"
