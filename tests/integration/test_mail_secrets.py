"""The SMTP password is never in the database, the settings file or the log."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.models import Base
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.mail_support import Authenticator, MemoryKeyring, SmtpServer

PASSWORD = "Tr0ub4dor&3-never-shown"


def _dump_database(app: App) -> str:
    parts = []
    with app.db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                parts.append(repr(tuple(row)))
    if app.db.is_sqlite:  # the raw file and its write-ahead log too
        path = Path(app.db.engine.url.database or "")
        for candidate in (path, Path(f"{path}-wal")):
            if candidate.exists():
                parts.append(candidate.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_password_never_reaches_database_settings_file_or_log(
        app: App, manager: Actor, memory_keyring: MemoryKeyring,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    server = SmtpServer(authenticator=Authenticator("mailer", PASSWORD),
                        auth_require_tls=False).start()
    # A login without TLS, allowed because the server is on the loopback interface.
    box = app.email.box
    box.settings = box.settings.with_overrides(mail_allow_plaintext_login=True)
    try:
        app.email.save_mail_settings(manager, {
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(server.port),
            "MAIL_USERNAME": "mailer", "MAIL_DEFAULT_SENDER": "parking@example.com",
            "MAIL_USE_TLS": "false", "MAIL_USE_SSL": "false",
        })
        app.email.set_smtp_password(manager, "wrong-" + PASSWORD)  # a refused login first
        refused = app.email.send_test(manager, "ops@example.com")
        view = app.email.set_smtp_password(manager, PASSWORD)
        app.ctx.clock.advance(minutes=5)  # type: ignore[attr-defined]
        accepted = app.email.send_test(manager, "ops@example.com")
    finally:
        server.stop()

    assert not refused.ok and "refused the user name or password" in refused.message
    assert accepted.ok and view.password == "keyring"
    # The secret is where it belongs (so this test can fail) ...
    assert memory_keyring.secrets[("ParkingDesktop SMTP", "mailer")] == PASSWORD
    # ... and nowhere else.
    outputs = capsys.readouterr()
    places = {
        "database": _dump_database(app),
        "settings file": app.email.box.settings.settings_file.read_text(),
        "log": caplog.text + outputs.out + outputs.err,
        "messages": refused.message + accepted.message,
    }
    plain_auth = base64.b64encode(f"\0mailer\0{PASSWORD}".encode()).decode()
    for where, text in places.items():
        assert PASSWORD not in text, f"the password leaked into the {where}"
        assert plain_auth not in text, f"the AUTH exchange leaked into the {where}"
    assert "mailer" in places["settings file"]  # the file was written, without the secret
    assert "settings_changed" in places["database"]  # and the audit trail says so


def test_saving_mail_settings_is_audited_without_the_webhook_token(
        app: App, manager: Actor, memory_keyring: MemoryKeyring) -> None:
    from parking_desktop.domain.errors import PermissionDeniedError, ValidationError
    from parking_desktop.domain.roles import Role

    hook = "https://chat.googleapis.com/v1/spaces/X/messages?key=K&token=TOPSECRET"
    app.email.save_mail_settings(manager, {"MAIL_PORT": "587", "MAIL_USE_TLS": "true",
                                           "GOOGLE_CHAT_WEBHOOK_URL": hook})
    app.email.save_mail_settings(manager, {"MAIL_PORT": "587"})  # nothing changed: no record
    with pytest.raises(ValidationError, match="not both"):
        app.email.save_mail_settings(manager, {"MAIL_USE_SSL": "true"})
    with pytest.raises(ValidationError, match="MAIL_PORT must be between 1 and 65535"):
        app.email.save_mail_settings(manager, {"MAIL_PORT": "70000"})
    attendant = Actor(user_id=None, username="x", role=Role.ATTENDANT)
    with pytest.raises(PermissionDeniedError):
        app.email.save_mail_settings(attendant, {"MAIL_PORT": "25"})

    settings = app.email.box.settings
    assert (settings.mail_port, settings.mail_use_tls, settings.mail_use_ssl) == (587, True, False)
    records = app.activity.history(manager, activity_type="settings_changed").items
    assert len(records) == 1
    changes = records[0].activity_data["changes"]
    assert changes["MAIL_PORT"] == {"before": "25", "after": "587"}
    assert changes["GOOGLE_CHAT_WEBHOOK_URL"] == {"before": "(hidden)", "after": "(changed)"}
    assert "TOPSECRET" not in _dump_database(app)
