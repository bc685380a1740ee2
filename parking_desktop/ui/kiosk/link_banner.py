"""The strip across the top of the kiosk that says whether it reaches the database.

The connection monitor (``services/kiosks/monitor.py``) decides on its own threads; this only
shows its changes, queued to the GUI thread: "Offline — working on this kiosk" for as long as
the database is away, then "Back online — sending N operations" for a few seconds."""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from parking_desktop.services.kiosks.monitor import ConnectionMonitor, LinkChange
from parking_desktop.services.kiosks.views import LinkState
from parking_desktop.ui.common.banner import Banner

log = logging.getLogger(__name__)

OFFLINE_TEXT = "Offline — working on this kiosk"
BACK_SHOWN_MS = 6000


def back_text(ops: int) -> str:
    return f"Back online — sending {ops} operation{'' if ops == 1 else 's'}"


class LinkBanner(Banner):
    """Hidden while online; the monitor is attached until ``detach()``."""

    _arrived = Signal(object)  # LinkChange, from the monitor's thread

    def __init__(self, link: ConnectionMonitor, parent: QWidget | None = None) -> None:
        super().__init__(parent, closable=False)
        self.setObjectName("banner")
        self.setAccessibleName("Connection")
        self.link = link
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.setInterval(BACK_SHOWN_MS)
        self._hide_timer.timeout.connect(self._back_done)
        self._arrived.connect(self._show_change, Qt.ConnectionType.QueuedConnection)
        link.listeners.append(self._listener)
        if not link.online:  # it went away before the window was built
            self.show_error(OFFLINE_TEXT)

    def detach(self) -> None:
        with contextlib.suppress(ValueError):
            self.link.listeners.remove(self._listener)
        self._hide_timer.stop()

    def _listener(self, change: LinkChange) -> None:  # the monitor's thread
        try:
            self._arrived.emit(change)
        except RuntimeError:  # the window is gone
            log.debug("link change after the banner closed: %s", change.state)

    def _show_change(self, change: LinkChange) -> None:  # GUI thread
        if change.state is LinkState.OFFLINE:
            self._hide_timer.stop()
            self.show_error(OFFLINE_TEXT)
        else:
            self.show_success(back_text(change.ops_waiting))
            self._hide_timer.start()

    def _back_done(self) -> None:
        if self.link.online:
            self.clear()


def attach_channel(link: ConnectionMonitor, sync: object) -> None:
    """A lost change listener (PostgreSQL) is a sign too; ``sync`` is ``app.cache.sync``."""
    on_state = getattr(sync, "on_state", None)
    if isinstance(on_state, list):
        on_state.append(link.channel_changed)


def detach_channel(link: ConnectionMonitor, sync: object) -> None:
    on_state = getattr(sync, "on_state", None)
    if isinstance(on_state, list):
        with contextlib.suppress(ValueError):
            on_state.remove(link.channel_changed)
