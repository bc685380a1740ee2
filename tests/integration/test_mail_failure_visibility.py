"""Mail that does not leave looks like a failure: the jobs log "queued", the outbox logs "sent"
only when the server took the mail, an outbox pass that delivers nothing is a failed run with
its reason, the outbox's health says how many wait and why, `mail flush` / `jobs run` exit 1 —
and "Run now" can say first how many drivers it would e-mail. Real SMTP server (aiosmtpd),
stopped and started again on the same port; SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.bootstrap import App
from parking_desktop.cli.main import run
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.services.mail.outbox import OutgoingMail
from tests.integration.jobs_support import activity, add_driver, job_runs
from tests.mail_support import SmtpServer


def test_a_stopped_server_makes_a_failed_outbox_run_and_sent_comes_only_with_delivery(
    mail_app: App, smtp_server: SmtpServer, manager: Actor, clock: FixedClock,
) -> None:
    app = mail_app
    drivers = [add_driver(app, name) for name in ("ann", "bob")]
    smtp_server.stop()

    monthly = app.jobs.scheduler.run_job_now("monthly_report")
    assert monthly.status == "completed" and monthly.counts["queued"] == 2
    assert sorted(a.user_id for a in activity(app, "monthly_report_queued")) == drivers
    assert activity(app, "monthly_report_sent") == []  # nothing has left yet

    outbox = app.jobs.scheduler.run_job_now("outbox_dispatch")
    assert outbox.status == "failed"
    assert outbox.error is not None
    assert outbox.error.startswith("No e-mail could be delivered: Cannot reach the mail server "
                                   f"127.0.0.1:{smtp_server.port}")
    assert "2 e-mails waiting for a retry" in outbox.error
    assert [r.status for r in job_runs(app, "outbox_dispatch")] == ["failed"]
    health = app.email.outbox.health(manager)
    assert (health.waiting, health.failing, health.failed) == (2, 2, 0)
    assert health.troubled and app.email.outbox.delivery_delayed()
    assert health.last_error is not None and "Cannot reach" in health.last_error
    assert health.since == clock.now()
    assert activity(app, "monthly_report_sent") == []

    again = app.jobs.scheduler.run_job_now("monthly_report")  # a re-run queues nothing twice
    assert (again.counts["queued"], again.counts["already_queued"]) == (0, 2)

    smtp_server.start()  # the same port again
    clock.advance(seconds=120)  # past the first retry delay
    delivered = app.jobs.scheduler.run_job_now("outbox_dispatch")
    assert delivered.status == "completed" and delivered.counts["sent"] == 2
    assert len(smtp_server.received) == 2
    sent = activity(app, "monthly_report_sent")
    assert sorted(a.user_id for a in sent) == drivers
    assert all(a.activity_data["kind"] == "monthly_report" for a in sent)
    healthy = app.email.outbox.health(manager)
    assert (healthy.waiting, healthy.failing) == (0, 0) and not healthy.troubled
    assert not app.email.outbox.delivery_delayed()


def test_run_now_audience_counts_the_drivers_a_run_would_mail(
    app: App, manager: Actor,
) -> None:
    for name in ("ann", "bob", "cyd"):
        add_driver(app, name)
    add_driver(app, "nomail", email=False)
    add_driver(app, "gone", active=False)
    jobs = app.jobs
    assert jobs.run_now_audience(manager, "monthly_report") == 3
    assert jobs.run_now_audience(manager, "daily_reminder") == 3  # never signed in: all due
    assert jobs.run_now_audience(manager, "cleanup_exports") is None

    jobs.scheduler.run_job_now("monthly_report")
    assert jobs.run_now_audience(manager, "monthly_report") == 0  # already queued this month
    add_driver(app, "deb")
    assert jobs.run_now_audience(manager, "monthly_report") == 1
    jobs.scheduler.run_job_now("daily_reminder")
    assert jobs.run_now_audience(manager, "daily_reminder") == 0


def test_run_now_audience_is_for_managers(app: App, attendant: Actor) -> None:
    from parking_desktop.domain.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        app.jobs.run_now_audience(attendant, "monthly_report")


@pytest.fixture
def cli_args(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer, tmp_path: Path,
             db_url: str) -> list[str]:
    for name, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
                        "MAIL_DEFAULT_SENDER": "parking@example.com",
                        "APP_TIMEZONE": "Europe/Paris"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAIL_USERNAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return ["--data-dir", str(tmp_path / "cli-data"), "--db", db_url]


def test_flush_and_jobs_run_exit_1_with_the_reason_when_nothing_leaves(
    app: App, cli_args: list[str], smtp_server: SmtpServer, clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app.email.outbox.enqueue(OutgoingMail(
        recipient="ann@example.com", subject="Hello", text="Hi", html=None, kind="test",
        idempotency_key="visibility:1"))
    smtp_server.stop()

    assert run([*cli_args, "mail", "flush"]) == 1
    out = capsys.readouterr()
    assert out.out.startswith("sent 0, failed 0, pending 1")
    assert out.err.startswith("error: No e-mail could be delivered: Cannot reach the mail server")
    assert out.err.count("\n") == 1 and "Traceback" not in out.err

    with app.db.write() as session:  # due again now (the flush put it off for a minute)
        session.execute(update(EmailOutbox).values(next_attempt_at=clock.now()))
    assert run([*cli_args, "jobs", "run", "outbox_dispatch"]) == 1
    out = capsys.readouterr()
    assert out.out.startswith("outbox_dispatch failed")
    assert out.err.startswith("error: outbox_dispatch failed: No e-mail could be delivered")

    smtp_server.start()
    with app.db.write() as session:
        session.execute(update(EmailOutbox).values(next_attempt_at=clock.now()))
    assert run([*cli_args, "mail", "flush"]) == 0
    assert capsys.readouterr().out.startswith("sent 1, failed 0, pending 0")
