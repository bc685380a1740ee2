"""Is this kiosk connected to the database? Decided off the GUI thread, said on every change.

Three signs, whichever comes first:

* a **heartbeat** (an upsert of the kiosk's row) every ``interval`` seconds that fails, or has
  not answered ``deadline`` seconds after it started (a pulled cable hangs instead of failing);
* the **change listener** (PostgreSQL LISTEN connection, ``services/cache/sync.py``) losing its
  connection;
* a **service call** of the kiosk failing for want of the database (``report_failure``).

Back online is only ever decided by a heartbeat that succeeded. The state, the last heartbeat
and the start of an outage are also written to ``kiosk-status.json`` in the data folder (0600),
which ``kiosk status`` reads even when the database is away.

Hooks for the offline journal: ``pending_operations`` (how many operations wait to be sent:
the heartbeat's ``ops_waiting`` and the "sending N operations" figure) and ``listeners``
(called with a ``LinkChange`` on every change of state, from the monitor's thread)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from parking_desktop.adapters.db.lost import is_connection_error as is_connection_error
from parking_desktop.domain.clock import Clock
from parking_desktop.files import atomic_write
from parking_desktop.services.kiosks.views import HeartbeatReport, LinkState

log = logging.getLogger(__name__)

STATUS_FILE = "kiosk-status.json"
DEADLINE_SECONDS = 1.0  # a beat silent this long counts as missed (2 s + 1 s: within 3 s)


@dataclass(frozen=True)
class KioskIdentity:
    kiosk_id: str
    host: str
    lot: str
    app_version: str


@dataclass(frozen=True)
class LinkChange:
    """A change of state. Going offline: ``reason`` says why. Coming back: ``ops_waiting`` is
    what the journal has to send (0 without one)."""

    state: LinkState
    offline_since: datetime | None
    ops_waiting: int
    reason: str
    detected_after: float | None = None  # seconds from the last good beat (offline only)


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__ or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


class ConnectionMonitor:
    """Start with ``start()``, stop with ``stop()``. ``beat`` writes the heartbeat (raises when
    the database cannot be reached); it runs on the monitor's own beat thread."""

    def __init__(
        self,
        beat: Callable[[HeartbeatReport], datetime],
        identity: KioskIdentity,
        clock: Clock,
        *,
        interval: float = 2.0,
        deadline: float = DEADLINE_SECONDS,
        status_dir: Path | None = None,
    ) -> None:
        self._beat = beat
        self.identity = identity
        self.clock = clock
        self.interval = interval
        self.deadline = deadline
        self.status_dir = status_dir
        # The journal's hook: operations waiting to be sent (0 until there is a journal).
        self.pending_operations: Callable[[], int] = lambda: 0
        self.listeners: list[Callable[[LinkChange], None]] = []
        self._lock = threading.Lock()
        self._state = LinkState.ONLINE
        self._offline_since: datetime | None = None
        self._last_beat: datetime | None = None
        self._last_good = time.monotonic()
        self._problem = ""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._beat_started: float | None = None  # monotonic, while a beat is in flight
        self._beat_due = threading.Event()
        self._monitor = threading.Thread(target=self._run, name="kiosk-link", daemon=True)
        self._beater = threading.Thread(target=self._beat_loop, name="kiosk-beat", daemon=True)

    # --- what the kiosk reads ------------------------------------------------------------------
    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def online(self) -> bool:
        return self._state is LinkState.ONLINE

    @property
    def offline_since(self) -> datetime | None:
        return self._offline_since

    @property
    def last_beat(self) -> datetime | None:
        return self._last_beat

    @property
    def problem(self) -> str:
        return self._problem

    # --- signs from elsewhere --------------------------------------------------------------------
    def report_failure(self, exc: BaseException) -> None:
        """A call of this kiosk failed: offline now if the database was the cause."""
        if is_connection_error(exc):
            self._go_offline(_one_line(exc))

    def channel_changed(self, connected: bool, problem: str) -> None:
        """The change listener's connection (CacheSync.on_state): losing it is a sign; getting
        it back only asks for a beat now (a beat decides "online")."""
        if connected:
            self._wake.set()
        else:
            self._go_offline(problem)

    # --- running -----------------------------------------------------------------------------
    def start(self) -> ConnectionMonitor:
        self._write_status()
        self._beater.start()
        self._monitor.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._beat_due.set()
        for thread in (self._monitor, self._beater):
            if thread.is_alive():
                thread.join(timeout)

    def _run(self) -> None:
        next_beat = next_write = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            started = self._beat_started
            if started is not None:
                self._wake.clear()  # the beat in flight answers that wake-up
            if started is not None and now - started > self.deadline:
                self._go_offline(f"the database has not answered for {now - started:.1f} s")
            if now >= next_write:  # "still running" for `kiosk status`, beat or not
                self._write_status()
                next_write = now + self.interval
            if started is None and (now >= next_beat or self._wake.is_set()):
                self._wake.clear()
                self._beat_started = now
                self._beat_due.set()
                next_beat = now + self.interval
            self._wake.wait(0.1)

    def _beat_loop(self) -> None:
        while True:
            self._beat_due.wait()
            self._beat_due.clear()
            if self._stop.is_set():
                return
            report = self._report()
            try:
                when = self._beat(report)
            except Exception as exc:  # whatever the driver raises, the answer is "offline"
                self._beat_started = None
                self._go_offline(_one_line(exc))
                continue
            self._beat_started = None
            self._last_beat = when
            self._last_good = time.monotonic()
            if report.state is LinkState.OFFLINE:
                self._come_back()

    def _report(self) -> HeartbeatReport:
        ident = self.identity
        return HeartbeatReport(
            kiosk_id=ident.kiosk_id,
            host=ident.host,
            lot=ident.lot,
            state=self._state,
            offline_since=self._offline_since,
            ops_waiting=self._ops_waiting(),
            app_version=ident.app_version,
        )

    def _ops_waiting(self) -> int:
        try:
            return max(0, int(self.pending_operations()))
        except Exception:  # a broken hook must not take the monitor down
            log.exception("counting the operations waiting failed")
            return 0

    # --- changes of state ---------------------------------------------------------------------
    def _go_offline(self, reason: str) -> None:
        with self._lock:
            if self._state is LinkState.OFFLINE:
                return
            self._state = LinkState.OFFLINE
            self._offline_since = self.clock.now()
            self._problem = reason
            after = time.monotonic() - self._last_good
        log.warning("kiosk offline (%s); working on this kiosk", reason)
        self._tell(
            LinkChange(
                LinkState.OFFLINE,
                self._offline_since,
                self._ops_waiting(),
                reason,
                detected_after=after,
            )
        )

    def _come_back(self) -> None:
        with self._lock:
            if self._state is LinkState.ONLINE:
                return
            since = self._offline_since
            self._state = LinkState.ONLINE
            self._offline_since = None
            self._problem = ""
        self._wake.set()  # beat again now: the row just written still says "offline"
        waiting = self._ops_waiting()
        log.warning("kiosk back online; %d operation(s) to send", waiting)
        self._tell(LinkChange(LinkState.ONLINE, since, waiting, ""))

    def _tell(self, change: LinkChange) -> None:
        self._write_status()
        for listener in list(self.listeners):
            try:
                listener(change)
            except Exception:
                log.exception("kiosk link listener %r failed", listener)

    def _write_status(self) -> None:
        if self.status_dir is None:
            return
        status = {
            "kiosk_id": self.identity.kiosk_id,
            "state": self._state.value,
            "last_heartbeat": self._last_beat.isoformat() if self._last_beat else None,
            "offline_since": self._offline_since.isoformat() if self._offline_since else None,
            "problem": self._problem,
            "updated": self.clock.now().isoformat(),
            "interval": self.interval,
        }
        try:
            with atomic_write(self.status_dir / STATUS_FILE) as handle:
                handle.write(json.dumps(status, indent=1).encode("utf-8"))
        except OSError as exc:  # the status file is a convenience: never a reason to stop
            log.debug("kiosk status file not written: %s", exc)
