"""Mail reaches a real SMTP server (aiosmtpd): plain, STARTTLS with a test CA, implicit TLS,
and login; what the server received is checked part by part."""

from __future__ import annotations

from decimal import Decimal

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Role
from tests.mail_support import Authenticator, SmtpServer, make_test_pki


def _driver(app: App, name: str = "driver1", full_name: str = ""):  # type: ignore[no-untyped-def]
    view = app.users.create(SYSTEM, username=name, password="correct-horse-1", role=Role.DRIVER,
                            email=f"{name}@example.com")
    if full_name:
        view = app.users.update(SYSTEM, view.id, full_name=full_name)
    return view


def test_reminder_arrives_with_both_parts(mail_app: App, smtp_server: SmtpServer) -> None:
    user = _driver(mail_app)
    queued = mail_app.email.send_daily_reminder(user, 3)
    assert queued.created

    report = mail_app.email.outbox.flush()

    assert (report.sent, report.failed, report.pending) == (1, 0, 0)
    [got] = smtp_server.received
    assert got.rcpt_tos == ["driver1@example.com"]
    assert got.mail_from == "parking@example.com"
    msg = got.message
    assert msg["Subject"] == "Free parking spots are waiting for you"
    assert msg.get_content_type() == "multipart/alternative"
    assert "3 parking lots have free spots" in " ".join(got.part("text/plain").split())
    html = got.part("text/html")
    assert "<strong>3 parking lots</strong>" in html
    assert "<style" not in html and 'style="' in html  # CSS inlined for mail clients
