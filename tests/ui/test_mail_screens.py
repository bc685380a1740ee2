"""Settings → Mail and Outbox screens, offscreen, against a real SMTP server and keyring API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.mail.outbox import OutgoingMail
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.desktop.mail_settings import MailSettingsScreen
from parking_desktop.ui.desktop.outbox import OutboxModel, OutboxScreen
from parking_desktop.ui.desktop.screen import SignedIn
from tests.mail_support import Authenticator, MemoryKeyring, SmtpServer, WebhookServer
from tests.ui.conftest import Desk

SECRET = "pw-Never-Shown-42"


@pytest.fixture
def session(app: App, manager: Actor) -> SignedIn:
    assert manager.user_id is not None
    return SignedIn(app, manager, app.users.get(SYSTEM, manager.user_id))


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


def _open(qtbot: QtBot, cls, session: SignedIn):  # type: ignore[no-untyped-def]
    # Inside a fixed-size window, as in the desktop's main window.
    window = QWidget()
    window.setFixedSize(1280, 800)
    qtbot.addWidget(window)  # (pytest-qt keeps only a weak reference: the screen keeps it)
    screen = cls(session, window)
    QVBoxLayout(window).addWidget(screen)
    screen.test_window = window
    window.show()
    qtbot.waitUntil(lambda: screen.loads >= 1)
    return screen


def _wait_result(qtbot: QtBot, screen: MailSettingsScreen) -> str:
    qtbot.waitUntil(lambda: screen.last_result not in ("", "Sending…") and
                    not screen.busy.pending, timeout=20_000)
    return screen.last_result


def test_configure_store_password_and_send_a_test_mail(
        qtbot: QtBot, session: SignedIn, memory_keyring: MemoryKeyring) -> None:
    server = SmtpServer(authenticator=Authenticator("mailer", SECRET),
                        auth_require_tls=False).start()
    # A login without TLS, allowed because the server is on the loopback interface.
    box = session.app.email.box
    box.settings = box.settings.with_overrides(mail_allow_plaintext_login=True)
    try:
        screen = _open(qtbot, MailSettingsScreen, session)
        assert screen.password_state.text() == "Not set"
        screen.server.setText("127.0.0.1")
        screen.port.setValue(server.port)
        screen.username.setText("mailer")
        screen.sender_edit.setText("parking@example.com")
        qtbot.keyClicks(screen.password, SECRET)
        qtbot.mouseClick(screen.store_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: screen.password_state.text() == "Stored in the keyring")
        assert screen.password.text() == ""  # never shown back

        screen.test_to.setText("ops@example.com")
        qtbot.mouseClick(screen.test_button, Qt.MouseButton.LeftButton)
        result = _wait_result(qtbot, screen)
    finally:
        server.stop()

    assert result.startswith("Sent to ops@example.com"), result
    assert server.received[0].rcpt_tos == ["ops@example.com"]
    saved = json.loads(session.app.email.box.settings.settings_file.read_text())
    assert saved["MAIL_SERVER"] == "127.0.0.1" and saved["MAIL_USERNAME"] == "mailer"
    assert SECRET not in json.dumps(saved)
    assert memory_keyring.secrets[("ParkingDesktop SMTP", "mailer")] == SECRET


def test_a_failed_test_mail_shows_the_reason(qtbot: QtBot, session: SignedIn,
                                             memory_keyring: MemoryKeyring) -> None:
    from tests.mail_support import free_port

    screen = _open(qtbot, MailSettingsScreen, session)
    screen.server.setText("127.0.0.1")
    screen.port.setValue(free_port())  # nothing listens there
    qtbot.mouseClick(screen.test_button, Qt.MouseButton.LeftButton)  # manager1@example.com
    result = _wait_result(qtbot, screen)
    assert "Cannot reach the mail server" in result and "retried" in result


def test_bad_input_is_refused_in_the_window(qtbot: QtBot, session: SignedIn,
                                            memory_keyring: MemoryKeyring) -> None:
    screen = _open(qtbot, MailSettingsScreen, session)
    before = session.app.email.box.settings
    screen.sender_edit.setText("not an address")
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(screen.banner.text))
    assert "The sender address must be an e-mail address" in screen.sender_error.text()
    assert screen.sender_error.isVisible()
    assert session.app.email.box.settings == before
    assert not session.app.email.box.settings.settings_file.exists()


def test_every_problem_shows_at_once_next_to_its_marked_field(
        qtbot: QtBot, session: SignedIn, memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    screen = _open(qtbot, MailSettingsScreen, session)
    before = session.app.email.box.settings
    screen.server.setText("https://smtp.example.com")
    screen.sender_edit.setText("not an address")
    screen.ca_file.setText(str(tmp_path / "gone.pem"))
    screen.webhook.setText("http://chat.example.com/hook")
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(screen.banner.text))
    assert screen.banner.text == "Not saved: 4 fields need attention (marked below)."
    for label, editor in ((screen.server_error, screen.server),
                          (screen.sender_error, screen.sender_edit),
                          (screen.ca_error, screen.ca_file),
                          (screen.webhook_error, screen.webhook)):
        assert label.isVisible() and label.text()
        assert "MAIL_" not in label.text() and "GOOGLE_" not in label.text()  # no jargon
        assert editor.property("invalid") is True
    assert session.app.email.box.settings == before


def test_keyring_state_is_said_in_words(qtbot: QtBot, session: SignedIn,
                                        memory_keyring: MemoryKeyring) -> None:
    screen = _open(qtbot, MailSettingsScreen, session)
    assert screen.keyring_note.text().startswith("The password is kept in this computer's")
    assert "found:" not in screen.keyring_note.text()


def test_leaving_with_unsaved_changes_asks(
        qtbot: QtBot, desk: Desk, manager: Actor, memory_keyring: MemoryKeyring,
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = desk.window(manager)
    screen = window.navigate("mail")
    qtbot.waitUntil(lambda: screen.loads > 0)
    answers = [False, True]
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm",
                        lambda _p, title, *_a, **_k: asked.append(title) or answers.pop(0))
    window.navigate("lots")  # nothing changed: nothing asked
    assert asked == []
    screen = window.navigate("mail")
    screen.server.setText("smtp.changed.example.com")
    assert window.navigate("lots") is screen  # "stay": still on Mail settings, edit kept
    assert window.current_screen is screen and screen.server.text() == "smtp.changed.example.com"
    window.navigate("lots")  # "leave without saving"
    assert asked == ["Unsaved mail settings", "Unsaved mail settings"]
    assert window.current_screen is not screen
    assert screen.server.text() != "smtp.changed.example.com"  # back to what is saved


def test_a_login_without_tls_is_flagged_next_to_the_security_field(
        qtbot: QtBot, session: SignedIn, memory_keyring: MemoryKeyring) -> None:
    screen = _open(qtbot, MailSettingsScreen, session)
    assert not screen.plaintext_warning.isVisible()  # no user name: no login at all
    screen.security.setCurrentIndex(screen.security.findData("none"))
    screen.username.setText("mailer")
    assert screen.plaintext_warning.isVisible()
    assert "unencrypted" in screen.plaintext_warning.text()
    screen.security.setCurrentIndex(screen.security.findData("tls"))
    assert not screen.plaintext_warning.isVisible()


def test_a_missing_ca_file_is_shown_next_to_its_field(
        qtbot: QtBot, session: SignedIn, memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    screen = _open(qtbot, MailSettingsScreen, session)
    before = session.app.email.box.settings
    screen.ca_file.setText(str(tmp_path / "gone.pem"))
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.ca_error.isVisible())
    assert screen.ca_error.text().startswith("The CA file ")
    assert "does not exist" in screen.ca_error.text()
    assert not screen.sender_error.isVisible()
    assert session.app.email.box.settings == before

    (tmp_path / "ca.pem").write_text("not used here")
    screen.ca_file.setText(str(tmp_path / "ca.pem"))
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.app.email.box.settings.mail_ca_file.endswith("ca.pem"))
    qtbot.waitUntil(lambda: not screen.ca_error.isVisible())


def test_webhook_test_message(qtbot: QtBot, session: SignedIn, webhook: WebhookServer,
                             memory_keyring: MemoryKeyring) -> None:
    screen = _open(qtbot, MailSettingsScreen, session)
    screen.webhook.setText(webhook.url)
    qtbot.mouseClick(screen.chat_button, Qt.MouseButton.LeftButton)
    assert _wait_result(qtbot, screen) == "Google Chat took the test message."
    assert "Test message" in webhook.json(0)["text"]


def test_outbox_shows_every_fate_and_retries(qtbot: QtBot, session: SignedIn,
                                             mail_app: App, smtp_server: SmtpServer) -> None:
    outbox = mail_app.email.outbox
    smtp_server.handler.reject["bad@example.com"] = "550 5.1.1 no such mailbox"
    for n, to in enumerate(["good@example.com", "bad@example.com"]):
        outbox.enqueue(OutgoingMail(recipient=to, subject=f"mail {n}", text="t", html=None,
                                    kind="test", idempotency_key=f"ui{n}"))
    outbox.flush()
    outbox.enqueue(OutgoingMail(recipient="later@example.com", subject="mail 2", text="t",
                                html=None, kind="test", idempotency_key="ui2"))

    screen = _open(qtbot, OutboxScreen, session)
    model = screen.model
    statuses = {model.row_at(r).recipient: model.index(r, OutboxModel.STATUS).data()
                for r in range(model.rowCount())}
    assert statuses == {"good@example.com": "Sent", "bad@example.com": "Failed",
                        "later@example.com": "Waiting"}
    assert screen.counts.text() == "1 waiting · 1 sent · 1 failed"
    failed_row = next(r for r in range(model.rowCount())
                      if model.row_at(r).recipient == "bad@example.com")
    screen.table.selectRow(failed_row)
    assert "550 5.1.1 no such mailbox" in screen.error.text()

    smtp_server.handler.reject.clear()
    loads = screen.loads
    qtbot.mouseClick(screen.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.loads > loads and not screen.busy.pending, timeout=20_000)
    assert screen.banner.text == "Sent 1."
    assert screen.counts.text() == "1 waiting · 2 sent · 0 failed"
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "bad@example.com", "good@example.com"]


def test_outbox_model_is_a_valid_qt_model(qtmodeltester, session: SignedIn,  # type: ignore[no-untyped-def]
                                          mail_app: App) -> None:
    mail_app.email.outbox.enqueue(OutgoingMail(recipient="x@example.com", subject="s", text="t",
                                               html=None, kind="test", idempotency_key="m1"))
    model = OutboxModel(session)
    model.set_rows(mail_app.email.outbox.list(session.actor).items)
    qtmodeltester.check(model)


def test_both_screens_are_in_the_managers_sidebar(qtbot: QtBot, session: SignedIn) -> None:
    from parking_desktop.domain.roles import Role
    from parking_desktop.ui.desktop.screens import entry

    for key, cls in (("outbox", OutboxScreen), ("mail", MailSettingsScreen)):
        item = entry(key)
        assert item.roles == frozenset({Role.MANAGER})
        screen = item.build(session)
        qtbot.addWidget(screen)
        assert isinstance(screen, cls)
        screen.shutdown()
