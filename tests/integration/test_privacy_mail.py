"""Mail preferences on both databases, with a real SMTP server (aiosmtpd): drivers who opted
out get no reminder or monthly report (the runs count them) but do get the history they ask
for; the reminders and reports that go out carry a visible unsubscribe line and well-formed
List-Unsubscribe / List-Unsubscribe-Post headers; without MAIL_UNSUBSCRIBE_ADDRESS they still go,
without the headers. The CLI changes a driver's preferences and applies unsubscribe requests."""

from __future__ import annotations

from pathlib import Path

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from tests.integration.export_support import finished
from tests.integration.jobs_support import add_driver
from tests.integration.privacy_support import privacy_cli
from tests.mail_support import SmtpServer

ADDRESS = "unsubscribe@parking.example.com"


def _with_address(app: App, address: str = ADDRESS) -> App:
    box = app.email.box
    box.settings = box.settings.with_overrides(mail_unsubscribe_address=address)
    return app


def _actor(app: App, user_id: int) -> Actor:
    user = app.users.get(Actor(user_id=None, username="system", role=Role.MANAGER), user_id)
    return Actor(user_id=user.id, username=user.username, role=user.role)


def test_opted_out_drivers_get_no_reminder_or_report_but_their_history(
    mail_app: App, smtp_server: SmtpServer, manager: Actor, clock: FixedClock
) -> None:
    app = _with_address(mail_app)
    ann, bob, cid = (add_driver(app, name) for name in ("ann", "bob", "cid"))
    app.mail_preferences.set(manager, bob, reminders=False, source="desktop")
    app.mail_preferences.set(manager, cid, reports=False, source="desktop")

    reminders = app.jobs.scheduler.run_job_now("daily_reminder")
    assert reminders.status == "completed"
    assert reminders.counts["queued"] == 2 and reminders.counts["skipped_opted_out"] == 1
    reports = app.jobs.scheduler.run_job_now("monthly_report")
    assert reports.counts["queued"] == 2 and reports.counts["skipped_opted_out"] == 1
    app.jobs.scheduler.run_job_now("outbox_dispatch")
    got = sorted((m.rcpt_tos[0], m.message["Subject"]) for m in smtp_server.received)
    to = [who for who, _ in got]
    assert to.count("ann@example.com") == 2
    assert to.count("bob@example.com") == 1 and to.count("cid@example.com") == 1

    # An opted-out driver still gets what they ask for (transactional mail).
    bob_actor = _actor(app, bob)
    app.mail_preferences.set(manager, bob, reminders=False, reports=False, source="desktop")
    before = len(smtp_server.received)
    view = finished(app, app.exports.email_my_history(bob_actor).job_id)
    assert view.status == "completed"
    assert [m.rcpt_tos for m in smtp_server.received[before:]] == [["bob@example.com"]]
    assert "List-Unsubscribe" not in smtp_server.received[-1].message

    for mail in smtp_server.received[:before]:
        message = mail.message
        assert message["List-Unsubscribe"] == f"<mailto:{ADDRESS}?subject=unsubscribe>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert len(message.get_all("List-Unsubscribe") or []) == 1
        assert ADDRESS in mail.part("text/plain")
        assert ADDRESS in mail.part("text/html")
    assert ann  # (ann is the control: both mails)


def test_without_an_unsubscribe_address_the_mails_go_without_headers(
    mail_app: App, smtp_server: SmtpServer, manager: Actor
) -> None:
    add_driver(mail_app, "dan")
    mail_app.jobs.scheduler.run_job_now("daily_reminder")
    mail_app.jobs.scheduler.run_job_now("outbox_dispatch")
    assert len(smtp_server.received) == 1
    mail = smtp_server.received[0]
    assert "List-Unsubscribe" not in mail.message
    assert "List-Unsubscribe-Post" not in mail.message
    assert "My e-mail choices" in mail.part("text/plain")  # the kiosk way still shown


def test_preference_commands(app: App, db_url: str, tmp_path: Path, manager: Actor) -> None:
    eve = add_driver(app, "eve")
    data = tmp_path / "cli"
    shown = privacy_cli(data, db_url, "user", "prefs", "--username", "eve")
    assert shown.returncode == 0 and shown.stdout.strip() == (
        "eve: reminders on, monthly reports on."
    )
    off = privacy_cli(data, db_url, "user", "prefs", "--username", "eve", "--reminders", "off")
    assert off.returncode == 0 and "reminders off, monthly reports on" in off.stdout
    bad = privacy_cli(data, db_url, "user", "prefs", "--username", "eve", "--reports", "maybe")
    assert bad.returncode == 2
    staff = privacy_cli(data, db_url, "user", "prefs", "--username", "manager1", "--reports", "off")
    assert staff.returncode == 1 and staff.stderr.count("\n") == 1
    assert "Traceback" not in staff.stderr
    requests = "From: eve <EVE@example.com>\nunsubscribe\nstranger@example.org\n"
    applied = privacy_cli(data, db_url, "user", "unsubscribe", "--from", "-", stdin=requests)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.startswith("1 driver unsubscribed")
    assert "stranger@example.org" in applied.stdout
    prefs = app.mail_preferences.get(manager, eve)
    assert (prefs.reminders, prefs.reports, prefs.source) == (False, False, "request")
    nothing = privacy_cli(
        data, db_url, "user", "unsubscribe", "--from", "-", stdin="no address here"
    )
    assert nothing.returncode == 1 and "No e-mail address" in nothing.stderr
