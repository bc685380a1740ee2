"""A kiosk without a window, in its own process, for the failover test and benchmark:
``python -m tests.integration.failover_support URL DATA_DIR [INTERVAL DEADLINE]`` (the
heartbeat's interval and deadline in seconds; default 0.5 and 1.0). Also ``FreezableProxy``:
the hardening tests' TCP proxy that can also stop forwarding without closing anything, as a
pulled cable does (nothing fails, nothing answers).

It builds the App like the kiosk does, starts the connection monitor (real heartbeats) and
then, until SIGTERM, checks a car in and out again and again, as an attendant would. Each
outcome is one JSON line on stdout with the wall-clock time, so the caller can tell when the
database went, when the kiosk noticed and when bookings succeeded again — without a restart."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.cache.sync import CacheSync
from parking_desktop.services.kiosks.link import build_link
from parking_desktop.services.kiosks.monitor import LinkChange
from tests.conftest import PASSWORD
from tests.integration.hardening_support import TcpProxy
from tests.integration.kiosk_process_support import JsonLinesProcess, child_settings, say


class FreezableProxy(TcpProxy):
    """``freeze()``: bytes are held, not forwarded, and no connection is closed; ``thaw()``
    lets them through again."""

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port)
        self.frozen = threading.Event()

    def freeze(self) -> None:
        self.frozen.set()

    def thaw(self) -> None:
        self.frozen.clear()

    def _hold(self) -> None:
        while self.frozen.is_set():
            time.sleep(0.02)


class KioskProcess(JsonLinesProcess):
    """``main`` below in its own process; its JSON lines as they come."""

    def __init__(self, url: str, data_dir: Path, beat: tuple[float, float] = (0.5, 1.0)) -> None:
        args = [url, str(data_dir), *(str(value) for value in beat)]
        super().__init__("tests.integration.failover_support", args, data_dir, subprocess.DEVNULL)

    def count(self, event: str, after: float = 0.0) -> int:
        return sum(1 for e in list(self.events) if e["event"] == event and e["at"] > after)

    def first(self, event: str, after: float = 0.0) -> dict[str, Any] | None:
        return next((e for e in list(self.events) if e["event"] == event and e["at"] > after), None)

    def _ask_to_stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()


def seed_site(url: str, data_dir: Path) -> App:
    """Migrate the empty database at ``url``; a manager "boss" (with an address), an attendant
    "gate" (the kiosk process signs in as it) and a lot of 20 spots."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = build_app(
        load_settings(
            data_dir=data_dir,
            database_url=url,
            environ={"APP_TIMEZONE": "UTC"},
            dotenv_path=data_dir / "no.env",
        )
    )
    manager = app.users.create(
        SYSTEM, username="boss", password=PASSWORD, role=Role.MANAGER, email="boss@example.com"
    )
    app.users.create(SYSTEM, username="gate", password=PASSWORD, role=Role.ATTENDANT)
    actor = Actor(user_id=manager.id, username=manager.username, role=Role.MANAGER)
    app.lots.create(
        actor,
        name="Central",
        address="1 Main Street",
        pin_code="CEN01",
        price_per_hour=Decimal("2.50"),
        number_of_spots=20,
    )
    return app


def main(url: str, data_dir: str, interval: float = 0.5, deadline: float = 1.0) -> int:
    settings = child_settings(url, data_dir)
    app = build_app(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    attendant = app.users.find_by_username(SYSTEM, "gate")
    actor = Actor(user_id=attendant.id, username=attendant.username, role=Role.ATTENDANT)
    (lot,) = app.lots.search()
    link = build_link(
        app.heartbeats, app.ctx.clock, settings.data_dir, lot.name, interval=0.5, deadline=1.0
    )

    def changed(change: LinkChange) -> None:
        say(change.state.value, reason=change.reason, detected_after=change.detected_after)

    link.listeners.append(changed)
    sync = app.cache.sync  # the change listener (LISTEN): it must find the new primary too
    if isinstance(sync, CacheSync):
        sync.on_state.append(lambda connected, problem: say("listener", connected=connected))
        sync.on_state.append(link.channel_changed)
    link.start()
    say("ready", database=app.db.description)
    number = 0
    try:
        while not stop.is_set():
            number += 1
            plate = f"FO{number:05d}"
            try:
                app.parking.check_in(actor, lot.id, plate)
                app.parking.check_out(actor, plate)
            except Exception as exc:  # what the attendant would see; the loop goes on
                link.report_failure(exc)
                say("fail", plate=plate, error=str(exc).splitlines()[0] if str(exc) else "")
                stop.wait(0.2)
                continue
            say("ok", plate=plate)
            stop.wait(0.1)
    finally:
        link.stop()
        app.close()
    say("stopped")
    return 0


if __name__ == "__main__":
    beat = [float(value) for value in sys.argv[3:5]]
    sys.exit(main(sys.argv[1], sys.argv[2], *beat))
