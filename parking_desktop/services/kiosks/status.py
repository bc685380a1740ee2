"""What `kiosk status` shows: read from the kiosk's data folder, so it answers while the
database is away (the running kiosk keeps ``kiosk-status.json`` up to date)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from parking_desktop.adapters.kiosk_journal import JOURNAL_FILE, read_only_counts
from parking_desktop.services.kiosks.heartbeats import SILENT_AFTER_BEATS
from parking_desktop.services.kiosks.identity import read_kiosk_id
from parking_desktop.services.kiosks.monitor import STATUS_FILE


def journal_size(data_dir: Path) -> int:
    """Operations in this kiosk's offline journal not yet confirmed by the server (0 when it
    has none; a journal that cannot be read raises JournalError)."""
    counts = read_only_counts(data_dir / JOURNAL_FILE)
    return counts[0] if counts else 0


def last_sync(data_dir: Path) -> tuple[datetime | None, str]:
    """When this kiosk last sent its journal (or tried to), and how that went."""
    counts = read_only_counts(data_dir / JOURNAL_FILE)
    if counts is None:
        return None, ""
    return _moment(counts[1]), counts[2] or ""


@dataclass(frozen=True)
class KioskStatus:
    kiosk_id: str | None  # None: this data folder never ran a kiosk
    state: str  # "online", "offline", "not running", "never run"
    last_heartbeat: datetime | None
    offline_since: datetime | None
    problem: str
    journal_size: int
    updated: datetime | None  # when the running kiosk last wrote its status
    last_sync: datetime | None = None  # when the journal was last sent (or tried)
    last_sync_result: str = ""

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
            "last_sync": moment(self.last_sync),
            "last_sync_result": self.last_sync_result,
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
    synced, sync_result = last_sync(data_dir)
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
            synced,
            sync_result,
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
        synced,
        sync_result,
    )
