"""Brings "data changed" notices from worker threads to the GUI thread.

Services call ``ctx.changed(topics)`` on whatever thread did the write; the listener here only
emits a signal, which Qt queues to the GUI thread where screens refresh themselves."""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from parking_desktop.services.context import ServiceContext

log = logging.getLogger(__name__)


class ChangeBridge(QObject):
    """``changed`` carries the union of topics seen in a short window (writes come in bursts)."""

    changed = Signal(object)  # frozenset[str]
    _arrived = Signal(object)

    def __init__(self, ctx: ServiceContext, parent: QObject | None = None,
                 *, coalesce_ms: int = 150) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(coalesce_ms)
        self._timer.timeout.connect(self._flush)
        self._arrived.connect(self._collect, Qt.ConnectionType.QueuedConnection)
        self._attached = False
        self.attach()

    def attach(self) -> None:
        if not self._attached:
            self._ctx.listeners.append(self._listener)
            self._ctx.remote_listeners.append(self._listener)  # other machines' writes
            self._attached = True

    def detach(self) -> None:
        if self._attached:
            for listeners in (self._ctx.listeners, self._ctx.remote_listeners):
                with contextlib.suppress(ValueError):
                    listeners.remove(self._listener)
            self._attached = False
            self._timer.stop()

    def _listener(self, topics: frozenset[str]) -> None:  # any thread
        try:
            self._arrived.emit(frozenset(topics))
        except RuntimeError:  # the bridge was deleted while a worker was still writing
            log.debug("change notice after the bridge closed: %s", sorted(topics))

    def _collect(self, topics: frozenset[str]) -> None:  # GUI thread
        self._pending |= topics
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        topics, self._pending = frozenset(self._pending), set()
        if topics:
            self.changed.emit(topics)
