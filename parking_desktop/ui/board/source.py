"""Where the board's figures come from: a read of the free spots, off the GUI thread, whenever
they may have changed.

* SQLite (one machine, several processes): a poll every second, one indexed count.
* PostgreSQL: the change notices every program announces its writes with (``CacheSync`` on its
  own listening connection) trigger a read; a slower poll (every 5 s) notices a database that
  has gone away. While the listener is disconnected, the poll runs every second instead.

At most one read is in flight; a change announced meanwhile queues exactly one more read. A read
that fails reports ``lost`` with the time of the last good figures, which the board keeps."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from parking_desktop.bootstrap import App
from parking_desktop.services.cache.sync import CacheSync
from parking_desktop.services.parking.board import BoardLot, BoardService
from parking_desktop.services.timing import timed_service
from parking_desktop.ui.common.ops import Failure, Op

log = logging.getLogger(__name__)

POLL_MS = 1000  # SQLite, or PostgreSQL without its listener: within the promised 2 s
HEARTBEAT_MS = 5000  # PostgreSQL with the listener: only to notice a lost database


class FreeCountSource(QObject):
    """``figures(list[BoardLot], datetime)`` after each good read; ``lost(message, datetime)``
    after a failed one, with the time of the last good figures. Times are the site's."""

    figures = Signal(object, object)
    lost = Signal(str, object)
    _noticed = Signal()  # from the listener's thread

    def __init__(self, app: App, lots: Sequence[BoardLot], *, poll_ms: int = POLL_MS,
                 heartbeat_ms: int = HEARTBEAT_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._service = timed_service(app.timings, "board", BoardService(app.ctx))
        self._ids = [lot.id for lot in lots]
        self.last_good: datetime = self._now()
        self.reads = 0  # finished reads, good or not (tests wait on it)
        self._heartbeat_s = heartbeat_ms / 1000
        self._last_read = time.monotonic()
        self._op: Op[list[BoardLot]] | None = None
        self._again = False
        self._stopped = False
        self.listener: CacheSync | None = None
        if not app.settings.is_sqlite:
            self.listener = CacheSync(app.settings.database_url, self._from_listener)
        self._noticed.connect(self.refresh, Qt.ConnectionType.QueuedConnection)
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()
        self.timer.start()

    @property
    def listening(self) -> bool:
        """PostgreSQL: the change listener is connected."""
        return self.listener is not None and self.listener.status()[0]

    def stop(self) -> None:
        """Stop the timer and the listener and drop a read in flight (idempotent)."""
        self._stopped = True
        self.timer.stop()
        if self._op is not None:
            self._op.discard()
            self._op = None
        if self.listener is not None:
            self.listener.stop()

    def refresh(self) -> None:
        if self._stopped:
            return
        if self._op is not None:
            self._again = True  # the read in flight may have started before this change
            return
        self._again = False
        self._last_read = time.monotonic()
        self._op = self._run_off_thread()

    # --- the one place that uses the off-thread helper -------------------------------------------
    def _run_off_thread(self) -> Op[list[BoardLot]]:
        ids = list(self._ids)
        return Op(lambda _work: self._service.free_spots(ids),
                  on_success=self._read_ok, on_failure=self._read_failed, owner=self).start()

    # --- results (GUI thread) ---------------------------------------------------------------------
    def _read_ok(self, lots: list[BoardLot]) -> None:
        self._op = None
        self.reads += 1
        self.last_good = self._now()
        self.figures.emit(lots, self.last_good)
        if self._again:
            self.refresh()

    def _read_failed(self, failure: Failure) -> None:
        message = failure.message
        self._op = None
        self.reads += 1
        log.warning("The board could not read the free spots: %s", message)
        self.lost.emit(message, self.last_good)
        if self._again:
            self.refresh()

    def _tick(self) -> None:
        waited = time.monotonic() - self._last_read
        if self.listening and waited < self._heartbeat_s:
            return  # the notices say when to read
        self.refresh()

    def _from_listener(self, _topics: frozenset[str]) -> None:  # the listener's thread
        # Every topic may matter: "spots" for bookings, "lots" for a resize or an archive, and
        # the everything-changed notice after a reconnect.
        try:
            self._noticed.emit()
        except RuntimeError:  # the source was deleted while the listener was stopping
            log.debug("change notice after the board closed")

    def _now(self) -> datetime:
        return self._app.ctx.clock.now().astimezone(self._app.ctx.tz)
