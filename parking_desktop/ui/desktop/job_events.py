"""Scheduler events (from scheduler and worker threads) as a Qt signal on the GUI thread, and
the main window's status-bar notice when a job finishes or fails."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from parking_desktop.bootstrap import App
from parking_desktop.jobs.events import FAILED, FINISHED, JobEvent
from parking_desktop.jobs.scheduler import SchedulerService

NOTICE_MS = 15_000


class JobEventBridge(QObject):
    """Scheduler events (any thread) -> ``job_event`` signal (delivered on the GUI thread)."""

    job_event = Signal(object)  # JobEvent

    def __init__(self, scheduler: SchedulerService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._scheduler = scheduler
        scheduler.subscribe(self._listener)
        self.destroyed.connect(lambda *_: scheduler.unsubscribe(self._listener))

    def _listener(self, event: JobEvent) -> None:  # a scheduler or worker thread
        with contextlib.suppress(RuntimeError):  # the window went away meanwhile
            self.job_event.emit(event)

    def detach(self) -> None:
        self._scheduler.unsubscribe(self._listener)


def attach_job_notices(window: QMainWindow, app: App) -> JobEventBridge:
    """Show a status-bar notice in ``window`` whenever a job finishes or fails (whatever
    screen is open)."""
    bridge = JobEventBridge(app.jobs.scheduler, window)

    def notice(event: JobEvent) -> None:
        if event.kind in (FINISHED, FAILED):
            window.statusBar().showMessage(event.message, NOTICE_MS)

    bridge.job_event.connect(notice)
    return bridge
