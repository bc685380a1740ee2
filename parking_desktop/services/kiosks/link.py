"""Builds a kiosk's connection monitor from the App's parts (the kiosk window starts it)."""

from __future__ import annotations

import socket
from pathlib import Path

from parking_desktop import __version__
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
    return ConnectionMonitor(heartbeats.beat, identity, clock, status_dir=data_dir, **options)
