"""A kiosk without a window, in its own process, for the offline tests:
``python -m tests.integration.offline_support URL DATA_DIR``.

It builds the App, the connection monitor, the journal and its sync thread exactly as the
kiosk window does (``build_desk``), then reads commands, one JSON line each, on stdin:
``{"ops": [["in", lot_id, plate], ["out", plate], ...]}`` does them through the desk as the
attendant's pages would; ``{"pending": true}`` reports the journal's size. Each outcome, link
change and finished sync is one JSON line on stdout. Also ``SlowProxy``: a TCP proxy that
delays every chunk, so a replay lasts long enough to be killed in the middle."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from parking_desktop.bootstrap import build_app
from parking_desktop.domain.errors import DomainError
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.cache.sync import CacheSync
from parking_desktop.services.kiosks.desk import build_desk
from parking_desktop.services.kiosks.link import build_link
from parking_desktop.services.kiosks.syncing import SyncReport
from tests.integration.hardening_support import TcpProxy
from tests.integration.kiosk_process_support import JsonLinesProcess, child_settings, say


class SlowProxy(TcpProxy):
    def __init__(self, target_port: int, delay: float) -> None:
        super().__init__(target_port)
        self.delay = delay

    def _hold(self) -> None:
        time.sleep(self.delay)


class OfflineKiosk(JsonLinesProcess):
    """``main`` below in its own process."""

    def __init__(self, url: str, data_dir: Path) -> None:
        super().__init__(
            "tests.integration.offline_support", [url, str(data_dir)], data_dir, subprocess.PIPE
        )

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def seen(self, event: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e["event"] == event]

    def wait_for(self, event: str, count: int = 1, timeout: float = 60.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.seen(event)) >= count:
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.02)
        return len(self.seen(event)) >= count

    def _ask_to_stop(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # end of commands: the process stops


def main(url: str, data_dir: str) -> int:
    settings = child_settings(url, data_dir)
    app = build_app(settings)
    attendant = app.users.find_by_username(SYSTEM, "gate")
    actor = Actor(user_id=attendant.id, username=attendant.username, role=Role.ATTENDANT)
    link = build_link(app.heartbeats, app.ctx.clock, settings.data_dir, interval=0.3, deadline=0.6)
    desk, sync = build_desk(
        app.ctx, app.parking, app.lots, app.kiosk, settings.data_dir, link, app.users
    )
    assert sync is not None and desk.offline is not None
    link.listeners.append(lambda change: say(change.state.value, ops=change.ops_waiting))

    def synced(report: SyncReport) -> None:
        say("synced", **report.as_json())

    sync.on_done.append(synced)
    if isinstance(app.cache.sync, CacheSync):
        app.cache.sync.on_state.append(link.channel_changed)
    link.start()
    sync.start()
    while not desk.offline.has_picture():
        time.sleep(0.05)
    say("ready", kiosk_id=link.identity.kiosk_id)
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command.get("pending"):
                say("pending", count=desk.offline.pending_count())
                continue
            for op in command.get("ops", []):
                _do(desk, actor, op)
            say("ops_done", pending=desk.offline.pending_count())
    finally:
        sync.stop()
        link.stop()
        desk.offline.close()
        app.close()
    say("stopped")
    return 0


def _do(desk: Any, actor: Actor, op: list[Any]) -> None:
    try:
        if op[0] == "in":
            booking = desk.check_in(actor, int(op[1]), str(op[2]))
            say("op", kind="in", plate=op[2], spot=booking.spot_number, note=booking.note)
        else:
            receipt = desk.check_out(actor, str(op[1]))
            say("op", kind="out", plate=op[1], cost=str(receipt.cost))
    except DomainError as exc:
        say("op_refused", op=op, error=str(exc))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
