"""What `kiosk status` shows: read from the kiosk's data folder, so it answers while the
database is away (the running kiosk keeps ``kiosk-status.json`` up to date)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from parking_desktop.services.kiosks.heartbeats import SILENT_AFTER_BEATS
from parking_desktop.services.kiosks.identity import read_kiosk_id
from parking_desktop.services.kiosks.monitor import STATUS_FILE


def journal_size(data_dir: Path) -> int:
    """Operations in this kiosk's offline journal not yet confirmed by the server.

    The offline journal (not built yet) replaces this: until then there is none, so 0."""
    return 0


@dataclass(frozen=True)
class KioskStatus:
    kiosk_id: str | None  # None: this data folder never ran a kiosk
    state: str  # "online", "offline", "not running", "never run"
    last_heartbeat: datetime | None
    offline_since: datetime | None
    problem: str
    journal_size: int
    updated: datetime | None  # when the running kiosk last wrote its status

    def as_json(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "kiosk_id": self.kiosk_id,
            "state": self.state,
            "last_heartbeat": moment(self.last_heartbeat),
            "offline_since": moment(self.offline_since),
            "problem": self.problem,
            "journal_size": self.journal_size,
            "updated": moment(self.updated),
        }


def _moment(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def kiosk_status(data_dir: Path, now: datetime) -> KioskStatus:
    """This kiosk's state as its running program last wrote it; "not running" when that was
    more than three heartbeats ago (the program was closed, or crashed)."""
    kiosk_id = read_kiosk_id(data_dir)
    journal = journal_size(data_dir)
    try:
        raw = json.loads((data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = None
    if kiosk_id is None or not isinstance(raw, dict):
        return KioskStatus(
            kiosk_id,
            "never run" if kiosk_id is None else "not running",
            None,
            None,
            "",
            journal,
            None,
        )
    updated = _moment(raw.get("updated"))
    interval = raw.get("interval")
    interval = float(interval) if isinstance(interval, int | float) else 2.0
    state = str(raw.get("state") or "not running")
    if updated is None or now - updated > timedelta(seconds=interval * SILENT_AFTER_BEATS):
        state = "not running"
    return KioskStatus(
        kiosk_id,
        state,
        _moment(raw.get("last_heartbeat")),
        _moment(raw.get("offline_since")),
        str(raw.get("problem") or ""),
        journal,
        updated,
    )
