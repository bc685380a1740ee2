"""What the heartbeat service hands out (plain data: it crosses threads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LinkState(StrEnum):
    """The stored text of ``kiosk_heartbeats.state``."""

    ONLINE = "online"
    OFFLINE = "offline"


class Seen(StrEnum):
    """How the desktop shows a kiosk: what it said, or that it has gone quiet."""

    ONLINE = "online"
    OFFLINE = "offline"  # it said so itself (reconnected with work still to send)
    SILENT = "silent"  # no heartbeat for 3 intervals: cut off, switched off or crashed


@dataclass(frozen=True)
class HeartbeatReport:
    """One beat, as a kiosk sends it."""

    kiosk_id: str
    host: str
    lot: str
    state: LinkState
    offline_since: datetime | None
    ops_waiting: int
    app_version: str


@dataclass(frozen=True)
class KioskView:
    kiosk_id: str
    host: str
    lot: str
    state: LinkState
    last_seen: datetime
    offline_since: datetime | None
    ops_waiting: int
    app_version: str
    seen: Seen  # worked out from state and last_seen at the time of the read
