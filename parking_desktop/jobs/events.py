"""What the scheduler tells the outside world (the Jobs screen bridges this to a Qt signal).

Listeners are plain callables, called on whatever thread the event happened (a scheduler
thread, a worker thread); they must return quickly and must not raise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock

from parking_desktop.services.jobs.ledger import JobRunView

log = logging.getLogger(__name__)

STARTED = "started"
FINISHED = "finished"
FAILED = "failed"
SKIPPED = "skipped"  # the period was done (or is being done) elsewhere
CHANGED = "changed"  # paused, resumed or rescheduled


@dataclass(frozen=True)
class JobEvent:
    kind: str
    job: str
    message: str
    run: JobRunView | None = None


JobListener = Callable[[JobEvent], None]


class EventHub:
    def __init__(self) -> None:
        self._listeners: list[JobListener] = []
        self._lock = Lock()

    def subscribe(self, listener: JobListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: JobListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def emit(self, event: JobEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not break a job
                log.exception("A job event listener failed")
