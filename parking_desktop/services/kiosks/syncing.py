"""Sending the journal: replay every pending operation in order, drop each from the pending
list only once the server has answered for it, then take a new picture.

``KioskSync.sync_now()`` does it once (the `sync` command, and the kiosk when it comes back);
``start()`` runs it on its own thread: at once when the link comes back online, soon after a
change of lots, spots or bookings (this kiosk's or, on PostgreSQL, another machine's: the car
checked in a moment before the cable is pulled must be in the picture), and every ``refresh``
seconds while online."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from parking_desktop.domain.errors import DomainError
from parking_desktop.services.kiosks.journal import OfflineDesk
from parking_desktop.services.kiosks.monitor import ConnectionMonitor, LinkChange
from parking_desktop.services.kiosks.operations import Confirmation, Operation, Outcome
from parking_desktop.services.kiosks.picture import Picture
from parking_desktop.services.kiosks.views import LinkState

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
MIN_GAP_SECONDS = 2.0  # a burst of changes makes one new picture, not one each
PICTURE_TOPICS = frozenset({"lots", "spots", "reservations"})


@dataclass
class SyncReport:
    sent: int = 0  # operations the server answered for in this run
    applied: int = 0
    adjusted: int = 0
    refused: int = 0
    again: int = 0  # answered from an earlier run's commit (a replay that was cut off)
    waiting: int = 0  # still in the journal afterwards
    picture: bool = False  # a new picture was stored
    error: str = ""  # why it stopped early ("" when it finished)
    conflicts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        text = (
            f"{self.sent} operation(s) sent: {self.applied} applied, {self.adjusted} adjusted, "
            f"{self.refused} refused ({self.again} had been applied before); "
            f"{self.waiting} waiting"
        )
        return text + (f"; stopped: {self.error}" if self.error else "")


class KioskSync:
    def __init__(
        self,
        desk: OfflineDesk,
        apply: Callable[[Operation], Confirmation],
        take_picture: Callable[[], Picture],
        link: ConnectionMonitor | None = None,
        *,
        refresh: float = REFRESH_SECONDS,
        min_gap: float = MIN_GAP_SECONDS,
    ) -> None:
        self.desk = desk
        self._apply = apply
        self._take_picture = take_picture
        self.link = link
        self.refresh = refresh
        self.min_gap = min_gap
        self.on_done: list[Callable[[SyncReport], None]] = []
        self.on_stop: list[Callable[[], None]] = []  # undo what wired it (listeners)
        self._running = threading.Lock()  # one replay at a time in this process
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-sync", daemon=True)

    def sync_now(self) -> SyncReport:
        with self._running:
            report = self._replay()
            if report.ok:
                try:
                    self.desk.record_picture(self._take_picture())
                    report.picture = True
                except DomainError as exc:
                    report.error = f"new picture not taken: {exc}"
                    if self.link is not None:
                        self.link.report_failure(exc)
            report.waiting = self.desk.pending_count()
            self.desk.note_sync(("ok: " if report.ok else "failed: ") + report.line())
        for listener in list(self.on_done):
            try:
                listener(report)
            except Exception:
                log.exception("sync listener %r failed", listener)
        return report

    def _replay(self) -> SyncReport:
        report = SyncReport()
        for op in self.desk.pending():
            try:
                answer = self._apply(op)
            except DomainError as exc:
                # The database went away (or refused for a reason of its own): the operation
                # and everything after it stay in the journal, in order, for the next run.
                report.error = f"operation {op.seq} not sent: {exc}"
                if self.link is not None:
                    self.link.report_failure(exc)
                return report
            self.desk.confirm(answer)
            report.sent += 1
            report.again += int(answer.again)
            if answer.outcome is Outcome.APPLIED:
                report.applied += 1
            elif answer.outcome is Outcome.ADJUSTED:
                report.adjusted += 1
            else:
                report.refused += 1
            if answer.message:
                report.conflicts.append(f"#{op.seq} {op.kind.value} {answer.message}")
        return report

    # --- in the background ----------------------------------------------------------------------
    def on_link_change(self, change: LinkChange) -> None:
        if change.state is LinkState.ONLINE:
            self._wake.set()

    def on_data_change(self, topics: frozenset[str]) -> None:
        """A ServiceContext change listener (any thread): a new picture soon."""
        if topics & PICTURE_TOPICS:
            self._wake.set()

    def start(self) -> KioskSync:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for undo in self.on_stop:
            undo()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        self._wake.set()  # a picture (and anything a crash left in the journal) at start
        while not self._stop.is_set():
            self._wake.wait(self.refresh)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self.link is not None and not self.link.online:
                continue
            try:
                report = self.sync_now()
            except Exception:  # never let the thread die: the next wake tries again
                log.exception("kiosk sync failed")
                continue
            if report.ok:
                log.debug("kiosk sync: %s", report.line())
            else:
                log.warning("kiosk sync: %s", report.line())
            self._stop.wait(self.min_gap)
