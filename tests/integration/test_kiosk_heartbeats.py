"""Kiosk heartbeats on both databases: the upsert, the managers' list, a silent kiosk, the
kiosk's id file, and `kiosk status` answering from the data folder alone."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from parking_desktop.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import PermissionDeniedError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.kiosks.identity import ID_FILE, kiosk_id, read_kiosk_id
from parking_desktop.services.kiosks.link import build_link
from parking_desktop.services.kiosks.monitor import DEADLINE_SECONDS, STATUS_FILE
from parking_desktop.services.kiosks.status import kiosk_status
from parking_desktop.services.kiosks.views import HeartbeatReport, LinkState, Seen
from tests.integration.hardening_support import main_py


def report(
    kid: str, state: LinkState = LinkState.ONLINE, ops: int = 0, host: str = "kiosk-1"
) -> HeartbeatReport:
    return HeartbeatReport(
        kiosk_id=kid,
        host=host,
        lot="Central",
        state=state,
        offline_since=None,
        ops_waiting=ops,
        app_version="0.1.0",
    )


def test_a_beat_is_one_row_per_kiosk_updated_in_place(
    app: App, manager: Actor, clock: FixedClock
) -> None:
    app.heartbeats.beat(report("a" * 36, ops=3))
    clock.advance(seconds=1)
    app.heartbeats.beat(report("a" * 36, ops=1))
    app.heartbeats.beat(report("b" * 36, host="kiosk-2"))
    kiosks = {k.kiosk_id: k for k in app.heartbeats.kiosks(manager)}
    assert set(kiosks) == {"a" * 36, "b" * 36}
    first = kiosks["a" * 36]
    assert (first.host, first.lot, first.ops_waiting, first.seen) == (
        "kiosk-1",
        "Central",
        1,
        Seen.ONLINE,
    )
    assert first.last_seen == clock.now()


def test_a_kiosk_silent_for_three_beats_is_not_heard_from(
    app: App, manager: Actor, clock: FixedClock
) -> None:
    app.heartbeats.beat(report("a" * 36))
    app.heartbeats.beat(report("b" * 36, host="kiosk-2"))
    clock.advance(seconds=app.heartbeats.interval * 3 - 0.5)
    app.heartbeats.beat(report("b" * 36, host="kiosk-2"))
    assert {k.kiosk_id: k.seen for k in app.heartbeats.kiosks(manager)} == {
        "a" * 36: Seen.ONLINE,
        "b" * 36: Seen.ONLINE,
    }
    clock.advance(seconds=1)
    kiosks = app.heartbeats.kiosks(manager)
    assert [(k.kiosk_id, k.seen) for k in kiosks] == [
        ("a" * 36, Seen.SILENT),
        ("b" * 36, Seen.ONLINE),
    ]  # the silent one first


def test_a_kiosk_that_says_it_is_offline_shows_so(
    app: App, manager: Actor, clock: FixedClock
) -> None:
    since = clock.now() - timedelta(minutes=10)
    app.heartbeats.beat(
        HeartbeatReport("c" * 36, "kiosk-3", "", LinkState.OFFLINE, since, 7, "0.1.0")
    )
    (kiosk,) = app.heartbeats.kiosks(manager)
    assert (kiosk.seen, kiosk.offline_since, kiosk.ops_waiting) == (Seen.OFFLINE, since, 7)


def test_only_managers_list_the_kiosks(app: App, attendant: Actor) -> None:
    with pytest.raises(PermissionDeniedError):
        app.heartbeats.kiosks(attendant)


def test_the_kiosk_id_is_made_once_private_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "kiosk-data"
    assert read_kiosk_id(folder) is None
    made = kiosk_id(folder)
    assert kiosk_id(folder) == made == read_kiosk_id(folder)
    if os.name == "posix":
        assert stat.S_IMODE((folder / ID_FILE).stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_monitor_beats_and_writes_its_status_for_the_cli(
    app: App, manager: Actor, tmp_path: Path
) -> None:
    folder = tmp_path / "kiosk-data"
    link = build_link(app.heartbeats, app.ctx.clock, folder, "North", interval=0.2)
    link.pending_operations = lambda: 4  # the journal's hook
    link.start()
    try:
        status = folder / STATUS_FILE

        def beaten() -> bool:
            kiosks = app.heartbeats.kiosks(manager)
            return (
                bool(kiosks)
                and status.exists()
                and json.loads(status.read_text())["last_heartbeat"] is not None
            )

        assert _wait(beaten)
    finally:
        link.stop()
    (kiosk,) = app.heartbeats.kiosks(manager)
    assert (kiosk.kiosk_id, kiosk.lot, kiosk.ops_waiting) == (read_kiosk_id(folder), "North", 4)
    if os.name == "posix":
        assert stat.S_IMODE(status.stat().st_mode) == 0o600
    seen = kiosk_status(folder, app.ctx.clock.now())
    assert (seen.kiosk_id, seen.state, seen.journal_size) == (kiosk.kiosk_id, "online", 0)
    assert seen.last_heartbeat == kiosk.last_seen


def _wait(condition, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_kiosk_status_cli_answers_without_a_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    nowhere = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never contacted
    never = main_py(data, nowhere, "kiosk", "status", "--json")
    assert never.returncode == 0, never.stderr
    assert json.loads(never.stdout)["state"] == "never run"
    made = kiosk_id(data)
    (data / STATUS_FILE).write_text(
        json.dumps(
            {
                "kiosk_id": made,
                "state": "offline",
                "last_heartbeat": "2026-03-02T09:00:00+00:00",
                "offline_since": "2026-03-02T09:00:02+00:00",
                "problem": "connection refused",
                "updated": "2026-03-02T09:00:03+00:00",
                "interval": 2.0,
            }
        )
    )
    stale = main_py(data, nowhere, "kiosk", "status", "--json")
    assert stale.returncode == 0, stale.stderr
    document = json.loads(stale.stdout)
    # Written long ago: the kiosk is not running any more, whatever it last said.
    assert (document["kiosk_id"], document["state"], document["journal_size"]) == (
        made,
        "not running",
        0,
    )
    assert document["last_heartbeat"] == "2026-03-02T09:00:00+00:00"
    text = main_py(data, nowhere, "kiosk", "status")
    assert text.returncode == 0 and f"Kiosk id:       {made}" in text.stdout, text
    assert "Journal:        0 operation(s)" in text.stdout
    bad = main_py(data, nowhere, "kiosk", "status", "--bogus")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_on_sqlite_a_beat_may_wait_for_the_write_lock(app: App, tmp_path: Path) -> None:
    """Another writer holding SQLite's lock for a few seconds is not an outage."""
    link = build_link(app.heartbeats, app.ctx.clock, tmp_path / "kiosk-data")
    if app.db.is_sqlite:
        assert link.deadline > SQLITE_BUSY_TIMEOUT_MS / 1000
    else:
        assert link.deadline == DEADLINE_SECONDS
