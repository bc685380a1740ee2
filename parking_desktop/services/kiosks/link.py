"""Builds a kiosk's connection monitor from the App's parts (the kiosk window starts it)."""

from __future__ import annotations

import socket
from pathlib import Path

from parking_desktop import __version__
from parking_desktop.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS
from parking_desktop.domain.clock import Clock
from parking_desktop.services.kiosks.heartbeats import HeartbeatService
from parking_desktop.services.kiosks.identity import kiosk_id
from parking_desktop.services.kiosks.monitor import ConnectionMonitor, KioskIdentity


def build_link(
    heartbeats: HeartbeatService,
    clock: Clock,
    data_dir: Path,
    lot: str = "",
    *,
    interval: float | None = None,
    deadline: float | None = None,
) -> ConnectionMonitor:
    identity = KioskIdentity(
        kiosk_id=kiosk_id(data_dir), host=socket.gethostname(), lot=lot, app_version=__version__
    )
    options: dict[str, float] = {"interval": interval or heartbeats.interval}
    if deadline is not None:
        options["deadline"] = deadline
    elif heartbeats.ctx.db.is_sqlite:
        # A local file is not "away": a beat that waits is waiting for another writer's lock
        # (up to the busy timeout), and only a beat that fails means the kiosk cannot work.
        options["deadline"] = SQLITE_BUSY_TIMEOUT_MS / 1000 + 1
    return ConnectionMonitor(heartbeats.beat, identity, clock, status_dir=data_dir, **options)
