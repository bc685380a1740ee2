"""`smtp set-password`, `mail test`, `mail flush --json` through the real entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from parking_desktop.bootstrap import App
from parking_desktop.cli.main import run
from parking_desktop.services.mail.outbox import OutgoingMail
from tests.mail_support import MemoryKeyring, SmtpServer


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer, tmp_path: Path,
            db_url: str):  # type: ignore[no-untyped-def]
    for name, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
                        "MAIL_DEFAULT_SENDER": "parking@example.com",
                        "APP_TIMEZONE": "Europe/Paris"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAIL_USERNAME", raising=False)
    monkeypatch.delenv("MAIL_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return ["--data-dir", str(tmp_path / "cli-data"), "--db", db_url]


def test_set_password_reads_stdin_and_stores_it_in_the_keyring(
        cli_env: list[str], memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAIL_USERNAME", "mailer")
    monkeypatch.setattr("sys.stdin", io.StringIO("pa ss-word!\n"))
    assert run([*cli_env, "smtp", "set-password"]) == 0
    out = capsys.readouterr()
    assert memory_keyring.secrets == {("ParkingDesktop SMTP", "mailer"): "pa ss-word!"}
    assert "stored" in out.out and "pa ss-word!" not in out.out + out.err


def test_set_password_is_refused_without_a_user_name_or_a_secure_keyring(
        cli_env: list[str], memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert run([*cli_env, "smtp", "set-password"]) == 1
    assert "MAIL_USERNAME is not set" in capsys.readouterr().err

    monkeypatch.setenv("MAIL_USERNAME", "mailer")
    keyring.set_keyring(fail.Keyring())  # the fixture puts its own back afterwards
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert run([*cli_env, "smtp", "set-password"]) == 1
    err = capsys.readouterr().err
    assert "No secure keyring is available" in err and "MAIL_PASSWORD" in err
    assert "Traceback" not in err


def test_mail_test_sends_and_reports(cli_env: list[str], smtp_server: SmtpServer,
                                     memory_keyring: MemoryKeyring,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*cli_env, "mail", "test", "--to", "ops@example.com"]) == 0
    assert "Sent to ops@example.com" in capsys.readouterr().out
    [got] = smtp_server.received
    assert got.rcpt_tos == ["ops@example.com"]
    assert got.message["Subject"] == "Parking Desktop test message"


def test_mail_test_failure_is_one_line(cli_env: list[str], smtp_server: SmtpServer,
                                       memory_keyring: MemoryKeyring,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    smtp_server.stop()
    assert run([*cli_env, "mail", "test", "--to", "ops@example.com"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Not sent: Cannot reach the mail server") and err.count("\n") == 1
    smtp_server.start()


def test_mail_flush_json(cli_env: list[str], app: App, smtp_server: SmtpServer,
                         memory_keyring: MemoryKeyring,
                         capsys: pytest.CaptureFixture[str]) -> None:
    smtp_server.handler.reject["bad@example.com"] = "550 5.1.1 unknown"
    for n, to in enumerate(["a@example.com", "b@example.com", "bad@example.com"]):
        app.email.outbox.enqueue(OutgoingMail(recipient=to, subject=f"s{n}", text="t",
                                              html="<p>t</p>", kind="test",
                                              idempotency_key=f"cli{n}"))

    code = run([*cli_env, "mail", "flush", "--json"])
    out = capsys.readouterr()
    document = json.loads(out.out)

    assert code == 1  # one mail failed: scripts can tell
    assert (document["sent"], document["failed"], document["pending"]) == (2, 1, 0)
    assert "550 5.1.1 unknown" in document["errors"][0]
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["a@example.com",
                                                                   "b@example.com"]
    assert run([*cli_env, "mail", "flush", "--json"]) == 0  # nothing left to do
    assert json.loads(capsys.readouterr().out) == {"sent": 0, "failed": 0, "pending": 0,
                                                   "retrying": 0, "errors": [], "sending": 0,
                                                   "sending_until": None}
