"""Mail reaches a real SMTP server (aiosmtpd): plain, STARTTLS with a test CA the client
trusts, implicit TLS, and login; what the server received is checked part by part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from parking_desktop.adapters.mail.transport import SmtpConfig, SmtpTransport
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Role
from parking_desktop.services.mail import email as email_module
from parking_desktop.services.mail.messages import BookingLine, MonthlyReportData
from parking_desktop.services.views import UserView
from tests.mail_support import Authenticator, Pki, SmtpServer, make_test_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


def _driver(app: App, name: str = "driver1", full_name: str = "") -> UserView:
    view = app.users.create(SYSTEM, username=name, password="correct-horse-1", role=Role.DRIVER,
                            email=f"{name}@example.com")
    if full_name:
        view = app.users.update(SYSTEM, view.id, full_name=full_name)
    return view


def _point_at(app: App, server: SmtpServer, **changes: object) -> None:
    box = app.email.box
    box.settings = box.settings.with_overrides(
        mail_server="127.0.0.1", mail_port=server.port,
        mail_default_sender="parking@example.com", **changes)


def test_reminder_arrives_with_both_parts(mail_app: App, smtp_server: SmtpServer) -> None:
    user = _driver(mail_app)
    assert mail_app.email.send_daily_reminder(user, 3).created

    report = mail_app.email.outbox.flush()

    assert (report.sent, report.failed, report.pending) == (1, 0, 0)
    [got] = smtp_server.received
    assert got.rcpt_tos == ["driver1@example.com"]
    assert got.mail_from == "parking@example.com"
    msg = got.message
    assert msg["Subject"] == "Free parking spots are waiting for you"
    assert msg["To"] == "driver1@example.com"
    assert msg["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"
    assert "3 parking lots have free spots" in " ".join(got.part("text/plain").split())
    html = got.part("text/html")
    assert "<strong>3 parking lots</strong>" in html
    assert "<style" not in html and 'style="' in html  # CSS inlined for mail clients


def test_values_are_escaped_in_html_and_plain_in_text(mail_app: App,
                                                      smtp_server: SmtpServer) -> None:
    user = _driver(mail_app, full_name='<script>alert("x")</script> & Co')
    mail_app.email.send_daily_reminder(user, 1)
    mail_app.email.outbox.flush()

    [got] = smtp_server.received
    html = got.part("text/html")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "&amp; Co" in html
    assert 'Hello <script>alert("x")</script> & Co,' in got.part("text/plain")
    assert "1 parking lot has free spots" in " ".join(got.part("text/plain").split())


def test_monthly_report_has_figures_table_and_charts(mail_app: App,
                                                     smtp_server: SmtpServer) -> None:
    user = _driver(mail_app)
    at = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
    report = MonthlyReportData(
        month=date(2026, 2, 1), bookings=3, total_spent=Decimal("47.50"),
        hours_parked=Decimal("9.5"), most_used_lot="<b>Central</b>",
        last_bookings=[BookingLine("<b>Central</b>", "P001", "AB12CD", at, at + timedelta(hours=2),
                                   Decimal("2"), Decimal("10.00"))],
        daily_spending=[(date(2026, 2, 10), Decimal("10.00")), (date(2026, 2, 20),
                                                                Decimal("37.50"))],
        spending_by_lot=[("<b>Central</b>", Decimal("37.50")), ("North", Decimal("10.00"))],
    )
    mail_app.email.send_monthly_report(user, report)
    mail_app.email.outbox.flush()

    [got] = smtp_server.received
    assert got.message["Subject"] == "Your parking report for February 2026"
    html = got.part("text/html")
    assert "47.50" in html and "9.5" in html
    assert "&lt;b&gt;Central&lt;/b&gt;" in html and "<b>Central</b>" not in html
    # Charts: one column per day of February, and a bar per lot scaled to the largest.
    assert html.count('class="chart columns"') == 1
    assert html.count('title="') >= 28
    assert 'title="20: 37.50"' in html and 'title="10: 10.00"' in html
    assert 'width="100%"><tr>' in html.replace("\n", "") or 'width="100%"' in html
    assert 'class="chart hbar"' in html and 'width="27%"' in html  # 10.00 of 37.50
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    text = got.part("text/plain")
    assert "Total spent:   47.50" in text
    assert "<b>Central</b>" in text and "#" * 30 in text  # the text part's bar chart
    assert "AB12CD" in text


def test_monthly_report_without_bookings_is_the_short_version(
        mail_app: App, smtp_server: SmtpServer) -> None:
    user = _driver(mail_app)
    mail_app.email.send_monthly_report(
        user, MonthlyReportData(month=date(2026, 2, 1), bookings=0, total_spent=Decimal(0),
                                hours_parked=Decimal(0)))
    mail_app.email.outbox.flush()
    [got] = smtp_server.received
    assert "You did not park with us in February 2026" in " ".join(got.part("text/html").split())
    assert "chart" not in got.part("text/html")


@dataclass(frozen=True)
class _Job:
    job_id: str
    row_count: int
    created_at: datetime
    expires_at: datetime | None
    file_path: str | None


def test_export_ready_attaches_a_small_file_only(mail_app: App, smtp_server: SmtpServer,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    user = _driver(mail_app)
    small = tmp_path / "history.csv"
    small.write_bytes("\ufeffReservation ID,Cost\r\n1,10.00\r\n".encode())
    now = mail_app.ctx.clock.now()
    mail_app.email.send_export_ready(user, _Job("job-1", 1, now, now + timedelta(hours=24),
                                                 str(small)))
    monkeypatch.setattr(email_module, "ATTACH_LIMIT_BYTES", 10)
    mail_app.email.send_export_ready(user, _Job("job-2", 1, now, None, str(small)))
    mail_app.email.outbox.flush()

    first, second = sorted(smtp_server.received, key=lambda r: r.part("text/plain"))
    attached = [p for p in first.message.walk() if p.is_attachment()] + [
        p for p in second.message.walk() if p.is_attachment()]
    assert len(attached) == 1
    assert attached[0].get_filename() == "history.csv"
    assert attached[0].get_content_type() == "text/csv"
    assert attached[0].get_payload(decode=True) == small.read_bytes()
    texts = first.part("text/plain") + second.part("text/plain")
    assert "is attached to this message" in texts and "Open the Exports screen" in texts
    assert "2026-03-03 10:00" in texts  # expiry shown in the site's time zone (Paris)


def test_system_alert_goes_to_active_managers_once(mail_app: App, smtp_server: SmtpServer,
                                                   make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("boss", Role.MANAGER, "boss@example.com")
    make_user("nomail", Role.MANAGER, None)
    gone = make_user("gone", Role.MANAGER, "gone@example.com")
    mail_app.users.set_active(SYSTEM, gone.user_id, False)
    make_user("drv", Role.DRIVER, "drv@example.com")

    first = mail_app.email.send_system_alert("Backup failed", "Disk <full>", chat=False)
    again = mail_app.email.send_system_alert("Backup failed", "Disk <full>", chat=False)
    mail_app.email.outbox.flush()

    assert [q.created for q in first] == [True] and [q.created for q in again] == [False]
    [got] = smtp_server.received
    assert got.rcpt_tos == ["boss@example.com"]
    assert "Disk &lt;full&gt;" in got.part("text/html")


def test_starttls_with_a_test_ca_and_login(mail_app: App, pki: Pki) -> None:
    auth = Authenticator("mailer", "s3cret-pass")
    server = SmtpServer(tls_context=pki.server_context(), require_starttls=True,
                        authenticator=auth).start()  # AUTH only after STARTTLS (the default)
    try:
        _point_at(mail_app, server, mail_use_tls=True, mail_ca_file=str(pki.ca_file),
                  mail_username="mailer")
        mail_app.email.secrets.set_smtp_password("mailer", "s3cret-pass")
        mail_app.email.send_daily_reminder(_driver(mail_app), 2)
        report = mail_app.email.outbox.flush()
    finally:
        server.stop()
    assert report.sent == 1, report.errors
    assert auth.attempts == ["mailer"]
    assert server.received[0].rcpt_tos == ["driver1@example.com"]


def test_starttls_refuses_a_certificate_it_cannot_verify(mail_app: App, pki: Pki) -> None:
    server = SmtpServer(tls_context=pki.server_context(), require_starttls=True).start()
    try:
        _point_at(mail_app, server, mail_use_tls=True)  # no MAIL_CA_FILE: the test CA is unknown
        mail_app.email.send_daily_reminder(_driver(mail_app), 2)
        report = mail_app.email.outbox.flush()
    finally:
        server.stop()
    assert (report.sent, report.retrying) == (0, 1)
    assert "certificate" in report.errors[0] and "MAIL_CA_FILE" in report.errors[0]
    assert server.received == []


def test_implicit_tls(mail_app: App, pki: Pki) -> None:
    server = SmtpServer(ssl_context=pki.server_context()).start()
    try:
        _point_at(mail_app, server, mail_use_ssl=True, mail_ca_file=str(pki.ca_file))
        mail_app.email.send_daily_reminder(_driver(mail_app), 2)
        report = mail_app.email.outbox.flush()
    finally:
        server.stop()
    assert report.sent == 1, report.errors


def test_login_without_tls_to_a_local_relay_when_allowed(mail_app: App) -> None:
    # A relay on this machine's loopback interface, with MAIL_ALLOW_PLAINTEXT_LOGIN on.
    auth = Authenticator("mailer", "pw-1")
    server = SmtpServer(authenticator=auth, auth_require_tls=False).start()
    try:
        _point_at(mail_app, server, mail_username="mailer", mail_allow_plaintext_login=True)
        mail_app.email.secrets.set_smtp_password("mailer", "wrong-pw")
        mail_app.email.send_daily_reminder(_driver(mail_app), 2)
        refused = mail_app.email.outbox.flush()
        mail_app.email.secrets.set_smtp_password("mailer", "pw-1")
        mail_app.ctx.clock.advance(minutes=2)  # type: ignore[attr-defined]
        accepted = mail_app.email.outbox.flush()
    finally:
        server.stop()
    assert refused.retrying == 1 and "refused the user name or password" in refused.errors[0]
    assert "wrong-pw" not in refused.errors[0]
    assert accepted.sent == 1 and len(server.received) == 1


def test_no_login_without_a_user_name(mail_app: App, smtp_server: SmtpServer) -> None:
    # A local relay takes mail without AUTH: nothing is asked of the keyring.
    mail_app.email.secrets.set_smtp_password("someone", "unused")
    mail_app.email.send_daily_reminder(_driver(mail_app), 2)
    assert mail_app.email.outbox.flush().sent == 1


def test_transport_reconnects_when_the_server_drops_the_connection(
        smtp_server: SmtpServer) -> None:
    from parking_desktop.adapters.mail.message import build_message

    config = SmtpConfig(host="127.0.0.1", port=smtp_server.port, sender="p@example.com",
                        timeout=5)
    transport = SmtpTransport(config, lambda: None)

    def message(n: int):  # type: ignore[no-untyped-def]
        return build_message(sender="p@example.com", recipient="x@example.com",
                             subject=f"m{n}", text="t", html=None,
                             message_id=f"<m{n}@example.com>", date=datetime.now(UTC))

    with transport:
        transport.send(message(1))
        smtp_server.stop()
        smtp_server.start()  # the old connection is gone
        transport.send(message(2))
    assert [r.message["Subject"] for r in smtp_server.received] == ["m1", "m2"]
    assert transport.connections_opened == 2
