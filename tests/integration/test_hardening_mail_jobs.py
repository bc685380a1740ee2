"""Hardening of mail, jobs and the worker, with real processes, a real SMTP server (aiosmtpd),
real databases and a real TCP proxy in front of PostgreSQL:

- the SMTP password never crosses an unencrypted connection (the server never sees AUTH);
- bad mail settings are refused at start, a vanished CA file fails mails at once;
- `mail test` answers in exactly one line, control characters escaped;
- `mail flush` says so (exit 1) when rows are held as 'sending' under a lease;
- a worker stops promptly on SIGTERM in the middle of a large outbox, the rest stays queued;
- a worker says once that the database went away and once that it is back, no traceback;
- a job run killed with SIGKILL is taken over once its heartbeat is JOB_STALE_AFTER_SECONDS old.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from parking_desktop.adapters.db.models import JobRun
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.adapters.mail.transport import SmtpConfig, plaintext_login_problem
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import ConfigError, load_settings
from parking_desktop.services.health import check_health
from parking_desktop.services.mail.outbox import OutgoingMail
from tests.conftest import truncate_all
from tests.integration.hardening_support import (
    ROOT,
    SlowHandler,
    TcpProxy,
    Worker,
    main_py,
    program_env,
)
from tests.mail_support import Authenticator, SmtpServer, wait_for

SECRET = "pw-never-in-clear-1"


def _mail(n: int, to: str = "driver@example.com") -> OutgoingMail:
    return OutgoingMail(recipient=to, subject=f"mail {n}", text="t", html=None, kind="test",
                        idempotency_key=f"bulk:{n}")


def _statuses(app: App) -> dict[str, int]:
    with app.db.read() as session:
        rows = session.execute(select(EmailOutbox.status, func.count(EmailOutbox.id))
                               .group_by(EmailOutbox.status)).all()
    return {str(status): int(n) for status, n in rows}


def _one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[:2000]
    return lines[0]


# --- no SMTP password in clear ------------------------------------------------------------
def test_no_login_over_an_unencrypted_connection(mail_app: App) -> None:
    auth = Authenticator("mailer", SECRET)
    server = SmtpServer(authenticator=auth, auth_require_tls=False).start()
    try:
        box = mail_app.email.box
        box.settings = box.settings.with_overrides(mail_port=server.port, mail_username="mailer")
        mail_app.email.secrets.set_smtp_password("mailer", SECRET)
        mail_app.email.outbox.enqueue(_mail(1))
        report = mail_app.email.outbox.flush()
    finally:
        server.stop()

    # A permanent failure with its reason: nothing will make this configuration safe.
    assert (report.sent, report.failed, report.retrying) == (0, 1, 0)
    [row] = _rows(mail_app)
    assert row.status == "failed"
    assert row.last_error is not None and "unencrypted connection" in row.last_error
    assert "MAIL_USE_TLS" in row.last_error
    # The server never saw a login, nor even a connection.
    assert auth.attempts == [] and server.handler.ehlos == 0 and server.received == []


def test_plaintext_login_allowed_only_to_the_loopback_interface(mail_app: App) -> None:
    # 192.0.2.2 is a documentation address (RFC 5737): it is refused before any connection,
    # so no packet leaves this machine. The allow flag does not stretch past loopback.
    box = mail_app.email.box
    box.settings = box.settings.with_overrides(
        mail_server="192.0.2.2", mail_port=2525, mail_username="mailer",
        mail_allow_plaintext_login=True)
    mail_app.email.secrets.set_smtp_password("mailer", SECRET)
    mail_app.email.outbox.enqueue(_mail(1))
    report = mail_app.email.outbox.flush()

    assert (report.sent, report.failed) == (0, 1)
    assert "only allows it to a server on this machine" in report.errors[0]


def test_the_connected_address_decides_not_the_host_name() -> None:
    # A host name that resolved to loopback but connected elsewhere is still refused.
    config = SmtpConfig(host="localhost", port=25, username="mailer",
                        allow_plaintext_login=True)
    assert plaintext_login_problem(config, peer="127.0.0.1") is None
    assert plaintext_login_problem(config, peer="::1") is None
    problem = plaintext_login_problem(config, peer="192.0.2.2")
    assert problem is not None and "unencrypted connection" in problem


def test_mail_test_refuses_a_plaintext_login_in_one_line(tmp_path: Path, db_url: str) -> None:
    auth = Authenticator("mailer", SECRET)
    server = SmtpServer(authenticator=auth, auth_require_tls=False).start()
    try:
        done = main_py(tmp_path / "data", db_url, "mail", "test", "--to", "ops@example.com",
                       env={"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(server.port),
                            "MAIL_USERNAME": "mailer", "MAIL_PASSWORD": SECRET,
                            "MAIL_DEFAULT_SENDER": "parking@example.com"})
    finally:
        server.stop()
    assert done.returncode == 1 and done.stdout == ""
    line = _one_line(done.stderr)
    assert line.startswith("error: ") and "unencrypted connection" in line
    assert auth.attempts == [] and server.received == []


def test_health_says_when_the_login_would_be_in_clear(tmp_path: Path) -> None:
    def mail_login(**env: str) -> tuple[bool, str]:
        settings = load_settings(data_dir=tmp_path / "data", environ=env,
                                 dotenv_path=tmp_path / "no.env")
        [check] = [c for c in check_health(settings).checks if c.name == "mail login"]
        return check.ok, check.detail

    ok, detail = mail_login(MAIL_SERVER="smtp.example.com", MAIL_USERNAME="mailer")
    assert not ok and "unencrypted connection" in detail
    ok, detail = mail_login(MAIL_SERVER="smtp.example.com", MAIL_USERNAME="mailer",
                            MAIL_ALLOW_PLAINTEXT_LOGIN="true")  # not this machine
    assert not ok and "only allows it to a server on this machine" in detail
    assert mail_login(MAIL_SERVER="127.0.0.1", MAIL_USERNAME="mailer",
                      MAIL_ALLOW_PLAINTEXT_LOGIN="true")[0]
    assert mail_login(MAIL_SERVER="smtp.example.com", MAIL_USERNAME="mailer",
                      MAIL_USE_TLS="true")[0]
    assert mail_login(MAIL_SERVER="smtp.example.com")[0]  # no login at all


# --- settings validated up front ----------------------------------------------------------
def test_a_bad_sender_or_a_missing_ca_file_stops_the_start(tmp_path: Path) -> None:
    def load(**env: str) -> None:
        load_settings(data_dir=tmp_path / "data", environ=env, dotenv_path=tmp_path / "no.env")

    with pytest.raises(ConfigError, match="MAIL_DEFAULT_SENDER must be an e-mail address"):
        load(MAIL_DEFAULT_SENDER="not")
    with pytest.raises(ConfigError, match=r"MAIL_CA_FILE .*gone\.pem does not exist"):
        load(MAIL_CA_FILE=str(tmp_path / "gone.pem"))
    load(MAIL_DEFAULT_SENDER="parking@example.com")  # a good one passes

    done = main_py(tmp_path / "cli", f"sqlite:///{tmp_path / 'cli.db'}", "mail", "flush",
                   env={"MAIL_DEFAULT_SENDER": "not\r\nBcc: x@example.com"})
    assert done.returncode == 1 and done.stdout == ""
    line = _one_line(done.stderr)
    assert "MAIL_DEFAULT_SENDER must be an e-mail address" in line and "\\r\\n" in line
    assert not (tmp_path / "cli.db").exists()  # refused before anything was created


def test_a_ca_file_that_vanished_fails_the_mail_at_once(mail_app: App, tmp_path: Path,
                                                        smtp_server: SmtpServer) -> None:
    box = mail_app.email.box
    box.settings = box.settings.with_overrides(mail_use_tls=True,
                                               mail_ca_file=str(tmp_path / "gone.pem"))
    mail_app.email.outbox.enqueue(_mail(1))
    report = mail_app.email.outbox.flush()
    assert (report.failed, report.retrying) == (1, 0)  # not retried for hours
    [row] = _rows(mail_app)
    assert row.status == "failed" and "MAIL_CA_FILE" in (row.last_error or "")
    assert smtp_server.received == []


# --- one line, control characters escaped ---------------------------------------------------
def test_mail_test_answers_in_one_line(tmp_path: Path, db_url: str,
                                       smtp_server: SmtpServer) -> None:
    env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
           "MAIL_DEFAULT_SENDER": "parking@example.com"}
    data = tmp_path / "data"

    huge = main_py(data, db_url, "mail", "test", "--to", "a" * 100_000 + "@example.com",
                   env=env)
    assert huge.returncode == 1 and huge.stdout == ""
    line = _one_line(huge.stderr)
    assert "is not an e-mail address" in line and len(line) < 300

    crlf = main_py(data, db_url, "mail", "test", "--to", "ops@example.com\r\nBcc: x@evil.test",
                   env=env)
    assert crlf.returncode == 1 and crlf.stdout == ""
    assert "\\r\\n" in _one_line(crlf.stderr)

    smtp_server.handler.reject["bad@example.com"] = "550 5.1.1 no such user"
    refused = main_py(data, db_url, "mail", "test", "--to", "bad@example.com", env=env)
    assert refused.returncode == 1 and refused.stdout == ""
    line = _one_line(refused.stderr)  # no logged WARNING before it
    assert line.startswith("error: Not sent:") and "550 5.1.1 no such user" in line
    assert smtp_server.received == []

    sent = main_py(data, db_url, "mail", "test", "--to", "ops@example.com", env=env)
    assert sent.returncode == 0 and sent.stderr == ""
    assert _one_line(sent.stdout).startswith("Sent to ops@example.com")


# --- rows held as 'sending' ---------------------------------------------------------------
def test_mail_flush_fails_while_rows_are_held_as_sending(mail_app: App, tmp_path: Path,
                                                         db_url: str,
                                                         smtp_server: SmtpServer) -> None:
    for n in range(3):
        mail_app.email.outbox.enqueue(_mail(n))
    held = mail_app.email.outbox._claim("other-host:4242:dead", 2, None)
    assert len(held) == 2
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    with mail_app.db.write() as session:  # a dispatcher that died a moment ago (real time)
        session.execute(update(EmailOutbox).where(EmailOutbox.status == "sending")
                        .values(lease_until=until))

    env = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
           "MAIL_DEFAULT_SENDER": "parking@example.com"}
    done = main_py(tmp_path / "data", db_url, "mail", "flush", env=env)
    assert done.returncode == 1
    assert done.stdout.startswith("sent 1, failed 0, pending 2")
    line = _one_line(done.stderr)
    assert "2 mail(s) are held as 'sending'" in line
    assert until.strftime("%Y-%m-%d %H:%M:%S") in line  # APP_TIMEZONE is UTC here
    assert len(smtp_server.received) == 1 and _statuses(mail_app) == {"sending": 2, "sent": 1}


# --- SIGTERM during a large outbox ---------------------------------------------------------
def test_worker_stops_on_sigterm_in_the_middle_of_a_large_outbox(app: App, tmp_path: Path,
                                                                 db_url: str) -> None:
    server = SmtpServer()
    server.handler = SlowHandler(pause=0.02)
    server.start()
    total = 3000
    app.email.outbox.enqueue_many([_mail(n) for n in range(total)])
    worker = Worker(tmp_path / "worker", db_url, {
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(server.port),
        "MAIL_DEFAULT_SENDER": "parking@example.com"})
    try:
        assert wait_for(lambda: len(server.received) >= 20, timeout=90), worker.stderr
        code = worker.terminate(timeout=30)
        assert code == 0, f"the worker did not stop after SIGTERM: {worker.stderr[-2000:]}"
    finally:
        worker.kill()
        server.stop()

    counts = _statuses(app)
    assert "sending" not in counts, counts
    assert counts.get("sent", 0) == len(server.received) < total
    assert counts["pending"] == total - counts["sent"]
    with app.db.read() as session:  # the rest is untouched: no attempt charged
        assert session.scalar(select(func.max(EmailOutbox.attempts))
                              .where(EmailOutbox.status == "pending")) == 0
    assert "Traceback" not in worker.stderr


# --- PostgreSQL unreachable ----------------------------------------------------------------
@pytest.mark.postgres
def test_worker_reports_a_database_outage_once_and_recovers(
        pg_database_url: str, tmp_path: Path) -> None:
    truncate_all(pg_database_url)
    proxy = TcpProxy(5432).start()
    url = pg_database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert url != pg_database_url
    worker = Worker(tmp_path / "worker", url, {"JOB_STALE_AFTER_SECONDS": "2"})
    try:
        assert worker.wait_for("Worker running", timeout=90), worker.stderr
        proxy.cut()
        assert worker.wait_for("database unreachable since", timeout=60), worker.stderr
        time.sleep(3)  # let it retry a few times while the database is away
        proxy.restore()
        assert worker.wait_for("database back", timeout=90), worker.stderr
        assert worker.terminate(timeout=30) == 0, worker.stderr
    finally:
        worker.kill()
        proxy.cut()

    assert "Traceback" not in worker.stderr, worker.stderr
    assert sum("database unreachable since" in line for line in worker.lines) == 1
    assert "retrying every" in worker.stderr
    assert sum("database back" in line for line in worker.lines) == 1


@pytest.mark.postgres
def test_the_desktop_scheduler_comes_back_after_an_outage_without_a_worker_loop(
        pg_database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Only the triggers notice the outage here (no worker loop probes): they must keep
    probing with backoff, or the jobs would stay held forever."""
    truncate_all(pg_database_url)
    proxy = TcpProxy(5432).start()
    url = pg_database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    app = build_app(load_settings(data_dir=tmp_path / "data", database_url=url,
                                  environ={"APP_TIMEZONE": "UTC"},
                                  dotenv_path=tmp_path / "no.env"))
    jobs_log = logging.getLogger("parking_desktop.jobs")
    # An in-process `worker` run in an earlier test stops this logger propagating to caplog.
    propagate, jobs_log.propagate = jobs_log.propagate, True
    scheduler = app.jobs.scheduler
    try:
        scheduler.start(catch_up=False)
        proxy.cut()
        scheduler.run_soon("outbox_dispatch")
        assert wait_for(lambda: scheduler.watch.down, timeout=30)
        proxy.restore()

        def back() -> bool:
            scheduler.run_soon("outbox_dispatch")  # as the minute trigger would
            time.sleep(0.2)
            return not scheduler.watch.down

        assert wait_for(back, timeout=60)
    finally:
        scheduler.shutdown(wait=True)
        jobs_log.propagate = propagate
        app.close()
        proxy.cut()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("database unreachable since" in m for m in messages) == 1, messages
    assert sum("database back" in m for m in messages) == 1, messages
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


# --- a job run killed with SIGKILL ---------------------------------------------------------
_RUN_UNTIL_KILLED = """
import sys, time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from parking_desktop.bootstrap import build_app
from parking_desktop.config import load_settings
from parking_desktop.jobs.definitions import JobOutcome

data_dir, url = Path(sys.argv[1]), sys.argv[2]
app = build_app(load_settings(data_dir=data_dir, database_url=url,
                              dotenv_path=data_dir / "no.env"))
runner = app.jobs.scheduler.runner

def work(run):
    print("working", flush=True)
    time.sleep(600)
    return JobOutcome({})

spec = runner.spec("daily_reminder")
runner.set_specs({**runner.specs, "daily_reminder": replace(spec, work=work)})
runner.run_due("daily_reminder", datetime.now(UTC))
"""


def test_a_run_killed_mid_job_is_taken_over_after_the_stale_setting(
        app: App, tmp_path: Path, db_url: str) -> None:
    now = datetime.now(UTC)
    env = {"JOB_STALE_AFTER_SECONDS": "3", "DAILY_REMINDER_TIME": f"{now:%H:%M}"}
    (tmp_path / "victim").mkdir()
    with subprocess.Popen(
            [sys.executable, "-c", _RUN_UNTIL_KILLED, str(tmp_path / "victim"), db_url],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            text=True, env=program_env(**env), cwd=ROOT) as victim:
        try:
            assert victim.stdout is not None and victim.stdout.readline() == "working\n"
            os.kill(victim.pid, signal.SIGKILL)
            assert victim.wait(30) == -signal.SIGKILL
        finally:
            if victim.poll() is None:
                victim.kill()
    [dead] = _runs(app)
    assert (dead.status, dead.period_key) == ("running", f"{now:%Y-%m-%d}")

    worker = Worker(tmp_path / "worker", db_url, env)
    try:
        assert wait_for(lambda: _runs(app)[0].status == "completed", timeout=60), worker.stderr
        assert worker.terminate(timeout=30) == 0
    finally:
        worker.kill()
    [run] = _runs(app)
    assert run.counts["attempt"] == 2 and run.host != dead.host
    assert "Traceback" not in worker.stderr


def _rows(app: App) -> list[EmailOutbox]:
    with app.db.read() as session:
        return list(session.scalars(select(EmailOutbox).order_by(EmailOutbox.id)))


def _runs(app: App) -> list[JobRun]:
    with app.db.read() as session:
        return list(session.scalars(select(JobRun).where(JobRun.job == "daily_reminder")))
