"""The desktop's Kiosks screen: each kiosk's state from its heartbeat row."""

from __future__ import annotations

from datetime import timedelta

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.services.kiosks.views import HeartbeatReport, LinkState
from parking_desktop.ui.desktop.kiosks_screen import KioskModel, KiosksScreen
from tests.ui.conftest import Desk


def beat(
    app: App,
    kid: str,
    host: str,
    state: LinkState = LinkState.ONLINE,
    ops: int = 0,
    since_minutes: int | None = None,
) -> None:
    since = (
        None if since_minutes is None else app.ctx.clock.now() - timedelta(minutes=since_minutes)
    )
    app.heartbeats.beat(HeartbeatReport(kid, host, "Central Station", state, since, ops, "0.1.0"))


def texts(screen: KiosksScreen) -> dict[str, tuple[str, str, str]]:
    model = screen.model
    rows = {}
    for row in range(model.rowCount()):

        def cell(column: int, r: int = row) -> str:
            return str(model.index(r, column).data())

        rows[cell(KioskModel.KIOSK)] = (
            cell(KioskModel.STATE),
            cell(KioskModel.WAITING),
            cell(KioskModel.LAST_SEEN),
        )
    return rows


def test_kiosks_show_online_offline_and_not_heard_from(
    app: App, manager: Actor, clock: FixedClock, desk: Desk
) -> None:
    beat(app, "a" * 36, "gate-north")  # 09:00:00 UTC = 10:00:00 in Paris
    clock.advance(seconds=30)
    beat(app, "b" * 36, "gate-south", ops=3)
    beat(app, "c" * 36, "gate-east", LinkState.OFFLINE, ops=12, since_minutes=10)
    screen = desk.open(KiosksScreen, manager)
    shown = texts(screen)
    assert shown["gate-north"] == (
        "Not heard from since 2026-03-02 10:00:00",
        "0",
        "2026-03-02 10:00:00",
    )
    assert shown["gate-south"] == ("Online", "3", "2026-03-02 10:00:30")
    assert shown["gate-east"] == ("Offline since 2026-03-02 09:50:30", "12", "2026-03-02 10:00:30")
    assert list(shown) == ["gate-north", "gate-east", "gate-south"]  # the silent one first
    assert screen.summary.text() == (
        "3 kiosks: 1 online · 1 offline · 1 not heard from · 15 operations waiting"
    )
    screen.resize(1024, 700)
    screen.grab().save("/tmp/offline-failover-kiosks-1024.png")
    screen.resize(1920, 1040)
    screen.grab().save("/tmp/offline-failover-kiosks-1920.png")


def test_no_kiosk_yet_says_so(app: App, manager: Actor, desk: Desk) -> None:
    screen = desk.open(KiosksScreen, manager)
    assert screen.summary.text() == "No kiosk has sent a heartbeat to this database yet."
    assert screen.model.rowCount() == 0


def test_an_attendant_cannot_open_it(app: App, attendant: Actor, desk: Desk) -> None:
    window = desk.window(attendant)
    window.navigate("kiosks")
    assert window.current_screen is not None
    assert "Kiosks" not in type(window.current_screen).__name__
