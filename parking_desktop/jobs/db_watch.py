"""Whether the database can be reached, said once per change.

While the database is away (a PostgreSQL restart, a network cut) every job would fail the same
way at every trigger. The watch turns that into two log lines: "database unreachable since …,
retrying …" when it goes, "database back …" when it returns. Jobs are held meanwhile; the
worker asks ``due()``/``probe()`` with a growing delay (backoff) until a probe succeeds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from parking_desktop.adapters.db.lost import is_connection_error

log = logging.getLogger("parking_desktop.jobs")

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
CHECK_EVERY_SECONDS = 5.0  # a healthy database is probed this often (the worker only)


def reason_of(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    if not isinstance(exc, DBAPIError) and isinstance(cause, DBAPIError):
        exc = cause
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


class DatabaseWatch:
    def __init__(self, engine: Engine, *, first_retry: float = FIRST_RETRY_SECONDS,
                 max_retry: float = MAX_RETRY_SECONDS, check_every: float = CHECK_EVERY_SECONDS,
                 on_back: Callable[[], None] | None = None) -> None:
        self._engine = engine
        self._first = first_retry
        self._max = max_retry
        self._check_every = check_every
        self.on_back = on_back
        self._lock = threading.Lock()
        self._down_since: datetime | None = None
        self._delay = first_retry
        self._next_probe = time.monotonic() + check_every

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def probe(self) -> bool:
        """Try the database now; log and return the state (True: reachable)."""
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                conn.rollback()
        except Exception as exc:  # whatever the driver raises, the answer is "not reachable"
            self.lost(exc)
            return False
        self._back()
        return True

    def due(self) -> bool:
        """Time for the next probe (every few seconds when up, with backoff when down)."""
        return time.monotonic() >= self._next_probe

    def explain(self, exc: BaseException) -> bool:
        """True when ``exc`` is the database being away (now logged once, not as a traceback);
        False when it is some other failure the caller should report itself."""
        if not is_connection_error(exc):
            return False
        return self.down or not self.probe()

    def lost(self, exc: BaseException) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = datetime.now().astimezone()
                self._delay = self._first
            else:
                self._delay = min(self._max, self._delay * 2)
            self._next_probe = time.monotonic() + self._delay
            since = self._down_since
        if first and since is not None:
            log.warning("database unreachable since %s (%s), retrying every %g s at first, "
                        "backing off to every %g s", since.strftime("%Y-%m-%d %H:%M:%S %Z"),
                        reason_of(exc), self._first, self._max)

    def _back(self) -> None:
        with self._lock:
            since, self._down_since = self._down_since, None
            self._delay = self._first
            self._next_probe = time.monotonic() + self._check_every
        if since is None:
            return
        away = (datetime.now().astimezone() - since).total_seconds()
        log.warning("database back (unreachable for %.0f s)", away)
        if self.on_back is not None:
            self.on_back()
