"""The kiosk says when it loses the database and when it is back: a real TCP proxy between
the kiosk and PostgreSQL is cut and restored (no mock of the driver or the monitor)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.services.kiosks.link import build_link
from parking_desktop.services.kiosks.monitor import ConnectionMonitor
from parking_desktop.services.kiosks.views import Seen
from parking_desktop.ui.common.ops import wait_for_workers
from parking_desktop.ui.kiosk.link_banner import OFFLINE_TEXT, back_text
from parking_desktop.ui.kiosk.window import KioskWindow
from tests.integration.hardening_support import TcpProxy
from tests.ui.test_kiosk_support import LONG

pytestmark = pytest.mark.postgres


def test_the_kiosk_shows_offline_when_the_database_is_cut_and_back_after(
    proxied: tuple[App, TcpProxy], qtbot: QtBot
) -> None:
    app, proxy = proxied
    link: ConnectionMonitor = build_link(app.heartbeats, app.ctx.clock, app.settings.data_dir)
    window = KioskWindow(app, link=link, locked=False, idle_ms=LONG, refresh_ms=LONG)
    link.start()
    try:
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        banner = window.link_banner
        assert banner is not None
        assert app.cache.sync is not None and app.cache.sync.wait_connected(30)
        qtbot.waitUntil(lambda: link.last_beat is not None, timeout=30_000)
        assert banner.isHidden()  # online: nothing to say

        proxy.cut()
        # Within 3 s in practice (scripts/failover_benchmark.py measures it); generous here.
        qtbot.waitUntil(lambda: banner.text == OFFLINE_TEXT, timeout=30_000)
        assert banner.kind == "error" and banner.isVisible()
        assert not link.online

        proxy.restore()
        qtbot.waitUntil(lambda: banner.text == back_text(0), timeout=60_000)
        assert banner.text == "Back online — sending 0 operations"
        assert link.online

        # Its heartbeat row says so again: the desktop's Kiosks screen reads it.
        def row_online() -> bool:
            row = app.heartbeats.kiosk(link.identity.kiosk_id)
            return row is not None and row.seen is Seen.ONLINE and row.offline_since is None

        qtbot.waitUntil(row_online, timeout=30_000)
    finally:
        window.shutdown()
        link.stop()
        assert wait_for_workers(30_000)
        window.close()
        window.deleteLater()
        QCoreApplication.processEvents()
