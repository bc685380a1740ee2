"""Each button of the Settings → Mail screen is one service call with what is on screen: a save
reports every field's problem at once and saves nothing while there is one; a test saves what
is on screen first and tests that (real SMTP server, in-memory keyring; SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.mail.settings import MailSettingsView
from tests.mail_support import MemoryKeyring, SmtpServer


def _on_screen(port: int) -> dict[str, str]:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port), "MAIL_USERNAME": "",
            "MAIL_DEFAULT_SENDER": "parking@example.com", "MAIL_USE_TLS": "false",
            "MAIL_USE_SSL": "false"}


def test_a_save_with_problems_reports_them_all_and_saves_nothing(
    app: App, manager: Actor, memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    before = app.email.box.settings.mail_port
    values = {**_on_screen(2525), "MAIL_DEFAULT_SENDER": "not an address",
              "MAIL_CA_FILE": str(tmp_path / "missing.pem")}
    result = app.email.save_mail_settings_checked(
        manager, values, {"MAIL_SERVER": "found by the screen"})
    assert isinstance(result, dict)
    assert set(result) == {"MAIL_SERVER", "MAIL_DEFAULT_SENDER", "MAIL_CA_FILE"}
    assert result["MAIL_SERVER"] == "found by the screen"
    assert app.email.box.settings.mail_port == before
    assert not app.email.box.settings.settings_file.exists() or \
        "2525" not in app.email.box.settings.settings_file.read_text()
    assert app.activity.history(manager, activity_type="settings_changed").items == []

    saved = app.email.save_mail_settings_checked(manager, _on_screen(2525))
    assert isinstance(saved, MailSettingsView)
    assert saved.values["MAIL_PORT"] == "2525"
    assert app.email.box.settings.mail_port == 2525


def test_a_test_mail_goes_through_the_settings_on_screen(
    app: App, manager: Actor, memory_keyring: MemoryKeyring, smtp_server: SmtpServer,
) -> None:
    refused = app.email.save_and_send_test(
        manager, {**_on_screen(smtp_server.port), "MAIL_DEFAULT_SENDER": "nope"},
        "ops@example.com")
    assert isinstance(refused, dict) and set(refused) == {"MAIL_DEFAULT_SENDER"}
    assert smtp_server.received == []  # nothing saved, nothing sent

    result = app.email.save_and_send_test(manager, _on_screen(smtp_server.port),
                                          "ops@example.com")
    assert not isinstance(result, dict)
    assert result.ok, result.message
    assert [m.rcpt_tos for m in smtp_server.received] == [["ops@example.com"]]
    assert app.email.box.settings.mail_port == smtp_server.port  # and it stays saved


def test_the_password_is_stored_for_the_user_name_on_screen(
    app: App, manager: Actor, memory_keyring: MemoryKeyring,
) -> None:
    view = app.email.save_and_store_password(
        manager, {**_on_screen(2525), "MAIL_USERNAME": "mailer"}, "s3cret-pass")
    assert view.password == "keyring"
    assert app.email.box.settings.mail_username == "mailer"
    assert memory_keyring.secrets[("ParkingDesktop SMTP", "mailer")] == "s3cret-pass"
