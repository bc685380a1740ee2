"""The connection monitor's three signs: a beat that hangs (a pulled cable), a beat that fails,
and a kiosk call that failed for want of the database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from parking_desktop.domain.clock import SystemClock
from parking_desktop.domain.errors import DomainError
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.services.kiosks.link import build_link
from parking_desktop.services.kiosks.monitor import (
    ConnectionMonitor,
    KioskIdentity,
    LinkChange,
    is_connection_error,
)
from parking_desktop.services.kiosks.views import HeartbeatReport, LinkState
from tests.integration.failover_support import FreezableProxy
from tests.integration.hardening_support import TcpProxy
from tests.integration.proxied_support import proxied_app

IDENTITY = KioskIdentity("k" * 36, "kiosk-1", "", "0.1.0")


def wait(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Beats:
    """A heartbeat target that can be made to hang, as a dead network does."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.released.set()
        self.reports: list[HeartbeatReport] = []

    def __call__(self, report: HeartbeatReport) -> datetime:
        self.released.wait()
        self.reports.append(report)
        return SystemClock().now()


def test_a_beat_that_hangs_past_the_deadline_is_offline_and_its_answer_brings_it_back() -> None:
    beats = Beats()
    link = ConnectionMonitor(beats, IDENTITY, SystemClock(), interval=0.1, deadline=0.3)
    changes: list[LinkChange] = []
    link.listeners.append(changes.append)
    link.pending_operations = lambda: 5
    link.start()
    try:
        assert wait(lambda: len(beats.reports) >= 2)
        beats.released.clear()  # the next beat hangs
        assert wait(lambda: not link.online)
        assert "has not answered" in link.problem
        assert changes[0].state is LinkState.OFFLINE and changes[0].offline_since is not None
        beats.released.set()  # the network is back: the hung beat answers
        assert wait(lambda: link.online)
        assert changes[-1] == LinkChange(LinkState.ONLINE, changes[0].offline_since, 5, "")
        # The beat that came back told the server it had been offline, with the work waiting.
        assert any(r.state is LinkState.OFFLINE and r.ops_waiting == 5 for r in beats.reports)
        assert wait(lambda: beats.reports[-1].state is LinkState.ONLINE)
    finally:
        beats.released.set()
        link.stop()
    assert [c.state for c in changes] == [LinkState.OFFLINE, LinkState.ONLINE]


def test_a_failing_beat_is_offline_once_however_many_fail() -> None:
    failing = threading.Event()
    answered: list[datetime] = []

    def beat(_report: HeartbeatReport) -> datetime:
        if failing.is_set():
            raise OSError("connection refused")
        answered.append(SystemClock().now())
        return answered[-1]

    link = ConnectionMonitor(beat, IDENTITY, SystemClock(), interval=0.05, deadline=5)
    changes: list[LinkChange] = []
    link.listeners.append(changes.append)
    link.start()
    try:
        assert wait(lambda: bool(answered))
        failing.set()
        assert wait(lambda: not link.online)
        time.sleep(0.3)  # several more failed beats
        failing.clear()
        assert wait(lambda: link.online)
    finally:
        link.stop()
    assert [c.state for c in changes] == [LinkState.OFFLINE, LinkState.ONLINE]
    assert changes[0].reason == "connection refused"


@pytest.mark.postgres
def test_a_service_call_cut_off_from_the_database_is_a_connection_error(
    pg_database_url: str, tmp_path: Path
) -> None:
    """What a kiosk page's failed call hands the monitor (report_failure) is recognised as the
    database being away; a refusal by the rules is not."""
    with proxied_app(pg_database_url, tmp_path / "data", TcpProxy) as (app, proxy):
        with pytest.raises(DomainError) as refused:
            app.users.get(SYSTEM, 12345)
        assert not is_connection_error(refused.value)
        proxy.cut()
        with pytest.raises(DomainError) as cut:
            app.users.get(SYSTEM, 1)
        assert is_connection_error(cut.value)


@pytest.mark.postgres
def test_a_pulled_cable_is_noticed_by_the_silent_heartbeat(
    pg_database_url: str, tmp_path: Path
) -> None:
    """Nothing fails on a pulled cable (the proxy holds every byte, closes nothing): only the
    heartbeat's deadline tells. Forwarding again brings the kiosk back."""
    with proxied_app(pg_database_url, tmp_path / "data", FreezableProxy) as (app, proxy):
        link = build_link(
            app.heartbeats, app.ctx.clock, tmp_path / "data", interval=0.3, deadline=0.6
        )
        changes: list[LinkChange] = []
        link.listeners.append(changes.append)
        link.start()
        try:
            assert wait(lambda: link.last_beat is not None)
            proxy.freeze()
            assert wait(lambda: not link.online, 30)
            assert "has not answered" in link.problem
            proxy.thaw()
            assert wait(lambda: link.online, 60)
        finally:
            proxy.thaw()
            link.stop()
    assert [c.state for c in changes] == [LinkState.OFFLINE, LinkState.ONLINE]
