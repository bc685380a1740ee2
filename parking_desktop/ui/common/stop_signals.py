"""SIGTERM and Ctrl+C (SIGINT) end the desktop and the kiosk through their normal closing path.

Python runs a signal handler only between two Python instructions; while Qt's event loop waits
in C++ none runs, so an idle window would never notice the signal. ``signal.set_wakeup_fd``
makes the C-level handler write the signal number to a socket, and a ``QSocketNotifier`` on the
other end wakes the event loop, which then emits ``requested`` like any other event."""

from __future__ import annotations

import logging
import signal
import socket
from types import FrameType
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Signal

log = logging.getLogger(__name__)


def stop_signals() -> list[signal.Signals]:
    signals = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):  # Ctrl+Break in a Windows console
        signals.append(signal.SIGBREAK)
    return signals


class StopOnSignal(QObject):
    """``requested`` (the signal's name) fires once, on the GUI thread, for the first stop signal.

    Needs the QApplication. Use as a context manager around the event loop: leaving it puts the
    previous handlers back, so a second signal during the final clean-up acts as it would
    without us (SIGTERM ends the process at once, Ctrl+C raises KeyboardInterrupt)."""

    requested = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)
        self._previous: dict[signal.Signals, Any] = {}
        self._previous_fd = -1
        self.received: str | None = None

    def install(self) -> None:
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for sig in stop_signals():
            self._previous[sig] = signal.signal(sig, self._noted)

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()

    def __enter__(self) -> StopOnSignal:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    @staticmethod
    def _noted(signum: int, frame: FrameType | None) -> None:
        """The Python-level handler: nothing to do here, the socket already woke the loop (and
        acting at an arbitrary Python instruction could interrupt a half-done slot)."""

    def _wake(self) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        if not data or self.received is not None:
            return
        try:
            name = signal.Signals(data[0]).name
        except ValueError:
            name = f"signal {data[0]}"
        self.received = name
        log.info("Received %s: closing", name)
        self.requested.emit(name)

