"""SMS: a Twilio-shaped adapter.

Until it is configured (account SID, auth token, from-number) the adapter sends nothing and
records what it would have sent: a placeholder, but one that can be switched on. When
configured it POSTs to Twilio's Messages resource with basic auth; ``api_base`` lets a test
point it at a local server."""

from __future__ import annotations

import base64
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from parking_desktop.adapters.notifiers.base import NotifyResult

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com/2010-04-01"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class SmsRecord:
    to: str
    body: str
    at: datetime
    delivered: bool


class TwilioSmsNotifier:
    def __init__(
        self,
        account_sid: str = "",
        auth_token: str = "",
        from_number: str = "",
        *,
        api_base: str = TWILIO_API,
        timeout: float = 10.0,
        keep: int = 100,
    ) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._keep = keep
        self.records: list[SmsRecord] = []  # the most recent messages, sent or not

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self._auth_token and self.from_number)

    def _remember(self, to: str, body: str, delivered: bool) -> None:
        self.records.append(SmsRecord(to, body, datetime.now(UTC), delivered))
        del self.records[:-self._keep]

    def send_sms(self, to: str, body: str) -> NotifyResult:
        if not _E164.match(to):
            return NotifyResult(False, f"'{to}' is not a phone number in +<country><number> form.")
        if not self.configured:
            self._remember(to, body, delivered=False)
            log.info("SMS is not configured; would have sent %d characters to %s", len(body), to)
            return NotifyResult(False, "SMS is not configured; the message was recorded only.",
                                skipped=True)
        url = f"{self.api_base}/Accounts/{urllib.parse.quote(self.account_sid)}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": self.from_number, "Body": body})
        credentials = base64.b64encode(
            f"{self.account_sid}:{self._auth_token}".encode()).decode("ascii")
        request = urllib.request.Request(
            url, data=data.encode(), method="POST",
            headers={"Authorization": f"Basic {credentials}",
                     "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            self._remember(to, body, delivered=False)
            return NotifyResult(False, f"The SMS provider refused the message (HTTP {exc.code}).",
                                status=exc.code, attempts=1)
        except (urllib.error.URLError, OSError) as exc:
            self._remember(to, body, delivered=False)
            return NotifyResult(False, f"The SMS provider cannot be reached: "
                                f"{getattr(exc, 'reason', exc)}.", attempts=1)
        self._remember(to, body, delivered=True)
        return NotifyResult(True, "Sent.", status=status, attempts=1)
