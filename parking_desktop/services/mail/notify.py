"""Manager notices outside e-mail: the Google Chat space (job summaries, alerts, the test
message) and SMS (off until its TWILIO_* settings are given)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from parking_desktop.adapters.notifiers.base import NotifyResult
from parking_desktop.adapters.notifiers.google_chat import GoogleChatNotifier
from parking_desktop.adapters.notifiers.sms import TwilioSmsNotifier
from parking_desktop.config import Settings
from parking_desktop.domain.roles import Actor
from parking_desktop.services.guards import require_manager

log = logging.getLogger(__name__)


class Notifiers:
    """Chat reads its webhook from the settings in force at send time (``webhook``), so a
    change on the Mail screen applies at once."""

    def __init__(self, webhook: Callable[[], str], *, site_name: str,
                 chat: GoogleChatNotifier | None = None,
                 sms: TwilioSmsNotifier | None = None) -> None:
        self.chat = chat or GoogleChatNotifier(webhook)
        # Disabled (records only) until TWILIO_ACCOUNT_SID/_AUTH_TOKEN/_FROM_NUMBER are set.
        self.sms = sms or TwilioSmsNotifier()
        self.site_name = site_name

    def notify_chat(self, text: str) -> NotifyResult:
        """Job summaries and alerts to the managers' Chat space. Never raises."""
        try:
            return self.chat.send(text)
        except Exception as exc:  # a notifier bug must not fail the job that called it
            log.exception("Google Chat notifier failed")
            return NotifyResult(False, f"Google Chat notifier failed: {type(exc).__name__}.")

    def send_test_chat(self, actor: Actor) -> NotifyResult:
        require_manager(actor, "send a test message")
        return self.notify_chat(f"Test message from {self.site_name}, sent by {actor.username}.")


def sms_notifier(settings: Settings) -> TwilioSmsNotifier:
    return TwilioSmsNotifier(settings.twilio_account_sid, settings.twilio_auth_token,
                             settings.twilio_from_number)
