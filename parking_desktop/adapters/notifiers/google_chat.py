"""Google Chat incoming webhook: POST {"text": ...}; backs off on 429 and 5xx.

The webhook URL carries its key and token in the query string: it is a secret, so it never
appears in logs or messages (only the host does)."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from parking_desktop.adapters.notifiers.base import NotifyResult
from parking_desktop.config import webhook_url_problem

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # Chat accepts more, but a notice longer than this is not read anyway


def describe_url(url: str) -> str:
    """The URL without its secret parts, for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


class GoogleChatNotifier:
    def __init__(
        self,
        url: str | Callable[[], str],
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep

    @property
    def url(self) -> str:
        return (self._url() if callable(self._url) else self._url).strip()

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, text: str) -> NotifyResult:
        url = self.url
        if not url:
            return NotifyResult(False, "Google Chat is not configured (GOOGLE_CHAT_WEBHOOK_URL).",
                                skipped=True)
        problem = webhook_url_problem(url)  # the same rule the settings apply
        if problem:
            return NotifyResult(False, problem)
        body = json.dumps({"text": text[:MAX_TEXT]}).encode("utf-8")
        where = describe_url(url)
        status: int | None = None
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            request = urllib.request.Request(
                url, data=body, method="POST",
                headers={"Content-Type": "application/json; charset=UTF-8"},
            )
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    status = response.status
                    response.read()
                return NotifyResult(True, "Sent.", status=status, attempts=attempt)
            except urllib.error.HTTPError as exc:
                status = exc.code
                reason = f"HTTP {exc.code} {exc.reason}"
                retry_after = _retry_after(exc.headers.get("Retry-After"))
                exc.close()
                if exc.code != 429 and exc.code < 500:
                    break  # 400/401/403/404: retrying cannot help
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                status = None
                inner = getattr(exc, "reason", exc)
                reason = "no answer in time" if isinstance(inner, TimeoutError) else str(inner)
            if attempt < self.max_attempts:
                delay = retry_after if retry_after is not None else (
                    self.base_delay * 2 ** (attempt - 1))
                self._sleep(min(self.max_delay, max(0.0, delay)))
        message = f"Google Chat ({where}) did not take the message: {reason}."
        log.warning("%s", message)
        return NotifyResult(False, message, status=status, attempts=attempt)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (moment - datetime.now(UTC)).total_seconds()
