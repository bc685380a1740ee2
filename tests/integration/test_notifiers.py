"""Google Chat webhook and SMS against a local HTTP server; the keyring backend choice."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs

import keyring
import pytest
from keyring.backends import chainer, fail

from parking_desktop.adapters.notifiers.google_chat import GoogleChatNotifier
from parking_desktop.adapters.notifiers.sms import TwilioSmsNotifier
from parking_desktop.adapters.secrets import SecretStore, SecretStoreError, choose_backend
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.mail_support import MemoryKeyring, WebhookServer


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


def test_chat_posts_json_text(webhook: WebhookServer) -> None:
    result = GoogleChatNotifier(webhook.url).send("Reminders: 12 queued")
    assert result.ok and result.status == 200 and result.attempts == 1
    assert webhook.json(0) == {"text": "Reminders: 12 queued"}
    assert webhook.headers[0]["Content-Type"] == "application/json; charset=UTF-8"
    assert webhook.posts[0]["path"].startswith("/v1/spaces/X/messages?key=K")


def test_chat_backs_off_on_429_then_succeeds(webhook: WebhookServer) -> None:
    webhook.responses = [(429, {"Retry-After": "2"}), (429, {}), (200, {})]
    waits: list[float] = []
    result = GoogleChatNotifier(webhook.url, sleep=waits.append, base_delay=1.0).send("hello")
    assert result.ok and result.attempts == 3
    assert waits == [2.0, 2.0]  # Retry-After honoured, then exponential (1, 2, 4 ...)
    assert [webhook.json(i) for i in range(3)] == [{"text": "hello"}] * 3


def test_chat_gives_up_without_raising_or_leaking_the_token(webhook: WebhookServer) -> None:
    webhook.responses = [(429, {})] * 4
    waits: list[float] = []
    result = GoogleChatNotifier(webhook.url, sleep=waits.append, max_attempts=4).send("x")
    assert not result.ok and result.status == 429 and result.attempts == 4
    assert waits == [1.0, 2.0, 4.0]
    assert "429" in result.message and "SECRETTOKEN" not in result.message


def test_chat_does_not_retry_a_client_error(webhook: WebhookServer) -> None:
    webhook.responses = [(400, {})]
    result = GoogleChatNotifier(webhook.url, sleep=lambda s: None).send("x")
    assert not result.ok and result.attempts == 1 and len(webhook.posts) == 1


def test_chat_unreachable_and_unconfigured_never_raise() -> None:
    from tests.mail_support import free_port

    down = GoogleChatNotifier(f"http://127.0.0.1:{free_port()}/hook", sleep=lambda s: None,
                              max_attempts=2).send("x")
    assert not down.ok and "did not take the message" in down.message
    off = GoogleChatNotifier("").send("x")
    assert off.skipped and not off.ok
    plain = GoogleChatNotifier("http://chat.example.com/hook").send("x")
    assert not plain.ok and "https://" in plain.message


def test_alerts_and_test_message_reach_the_webhook(app: App, manager: Actor,
                                                   webhook: WebhookServer) -> None:
    box = app.email.box
    box.settings = box.settings.with_overrides(google_chat_webhook_url=webhook.url)
    app.email.send_system_alert("Export failed", "Disk full")
    result = app.email.send_test_chat(manager)
    assert result.ok
    assert webhook.json(0) == {"text": "*Export failed*\nDisk full"}
    assert "manager1" in webhook.json(1)["text"]


def test_sms_disabled_records_what_it_would_send() -> None:
    sms = TwilioSmsNotifier()
    result = sms.send_sms("+33612345678", "Your spot P004 is ready")
    assert result.skipped and not result.ok
    assert [(r.to, r.body, r.delivered) for r in sms.records] == [
        ("+33612345678", "Your spot P004 is ready", False)]
    assert not sms.send_sms("0612", "x").ok  # not an international number


def test_sms_configured_posts_twilio_form(webhook: WebhookServer) -> None:
    base = webhook.url.split("/v1/")[0]
    sms = TwilioSmsNotifier("AC123", "tok-secret", "+15550001111", api_base=base)
    result = sms.send_sms("+33612345678", "Spot P004")
    assert result.ok
    post = webhook.posts[0]
    assert post["path"] == "/Accounts/AC123/Messages.json"
    assert parse_qs(post["body"].decode()) == {
        "To": ["+33612345678"], "From": ["+15550001111"], "Body": ["Spot P004"]}
    auth = webhook.headers[0]["Authorization"]
    assert base64.b64decode(auth.split()[1]) == b"AC123:tok-secret"
    assert sms.records[-1].delivered


# --- the keyring backend ---------------------------------------------------------------------
class _Plaintext(MemoryKeyring):
    """Stands in for keyrings.alt's PlaintextKeyring (same module path, as keyring sees it)."""


_Plaintext.__module__ = "keyrings.alt.file"


def test_a_secure_backend_is_used(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(environ={})
    assert store.status().secure
    store.set_smtp_password("mailer", "pw-123")
    assert memory_keyring.secrets == {("ParkingDesktop SMTP", "mailer"): "pw-123"}
    assert store.smtp_password("mailer") == "pw-123"
    assert store.password_source("mailer") == "keyring"


@pytest.mark.parametrize("backend", [fail.Keyring(), _Plaintext()],
                         ids=["fail", "plaintext-file"])
def test_no_secure_keyring_is_said_plainly_and_nothing_is_stored(backend) -> None:  # type: ignore[no-untyped-def]
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        store = SecretStore(environ={})
        status = store.status()
        with pytest.raises(SecretStoreError, match="No secure keyring"):
            store.set_smtp_password("mailer", "pw-123")
    finally:
        keyring.set_keyring(previous)
    assert not status.secure
    assert "No secure keyring is available" in status.message
    assert "MAIL_PASSWORD" in status.message
    assert getattr(backend, "secrets", {}) == {}


class _Chain(chainer.ChainerBackend):
    def __init__(self, members: list[object]) -> None:
        self.members = members

    @property
    def backends(self):  # type: ignore[no-untyped-def, override]
        return self.members


def test_a_chain_is_narrowed_to_its_secure_members() -> None:
    secure = MemoryKeyring()
    assert choose_backend(_Chain([_Plaintext(), secure])) is secure
    assert choose_backend(_Chain([_Plaintext(), fail.Keyring()])) is None


def test_mail_password_environment_is_the_headless_fallback() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = SecretStore(environ={"MAIL_PASSWORD": "from-env"})
        assert store.smtp_password("mailer") == "from-env"
        assert store.password_source("mailer") == "environment"
        assert "MAIL_PASSWORD is set" in store.status().message
    finally:
        keyring.set_keyring(previous)


def test_health_says_plainly_when_no_secure_keyring_holds_the_password(
        memory_keyring: MemoryKeyring) -> None:
    from parking_desktop.adapters.secrets import smtp_password_health

    assert smtp_password_health("")[0]  # a relay without login needs no password
    ok, detail = smtp_password_health("mailer", environ={})
    assert not ok and "No password is stored for mailer" in detail
    SecretStore(environ={}).set_smtp_password("mailer", "pw")
    ok, detail = smtp_password_health("mailer", environ={})
    assert ok and detail.endswith("Password for mailer: from the keyring.")
    keyring.set_keyring(fail.Keyring())
    ok, detail = smtp_password_health("mailer", environ={})
    assert not ok and detail.startswith("No secure keyring is available")
    assert smtp_password_health("mailer", environ={"MAIL_PASSWORD": "x"})[0]


def test_the_app_has_sms_switched_off_until_configured(app: App) -> None:
    assert not app.email.sms.configured
    assert app.email.sms.send_sms("+33612345678", "x").skipped
    assert len(app.email.sms.records) == 1
