"""The kiosk keeps checking cars in and out through a real outage (a TCP proxy between it
and PostgreSQL, cut and restored): the pages answer from the journal, the spot is marked
provisional, and on the way back the journal is sent and emptied."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from parking_desktop.adapters.db.models import Reservation
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.kiosks.desk import SIGN_IN_OFFLINE, build_desk
from parking_desktop.services.kiosks.link import build_link
from parking_desktop.ui.common.ops import wait_for_workers
from parking_desktop.ui.kiosk.link_banner import OFFLINE_TEXT, back_text
from parking_desktop.ui.kiosk.window import KioskWindow
from tests.conftest import PASSWORD
from tests.integration.hardening_support import TcpProxy
from tests.ui.test_kiosk_support import LONG, sign_in, wait_idle

pytestmark = pytest.mark.postgres


def test_check_in_and_out_while_cut_off_then_the_journal_is_sent(
    proxied: tuple[App, TcpProxy], qtbot: QtBot
) -> None:
    app, proxy = proxied
    boss = app.users.create(SYSTEM, username="boss", password=PASSWORD, role=Role.MANAGER)
    app.users.create(SYSTEM, username="gate", password=PASSWORD, role=Role.ATTENDANT)
    manager = Actor(user_id=boss.id, username="boss", role=Role.MANAGER)
    app.lots.create(
        manager,
        name="Central",
        address="1 Main Street",
        pin_code="CEN01",
        price_per_hour=Decimal("2.50"),
        number_of_spots=5,
    )
    link = build_link(
        app.heartbeats, app.ctx.clock, app.settings.data_dir, interval=0.3, deadline=0.6
    )
    desk, sync = build_desk(
        app.ctx, app.parking, app.lots, app.kiosk, app.settings.data_dir, link, app.users
    )
    assert sync is not None and desk.offline is not None
    window = KioskWindow(app, link=link, desk=desk, locked=False, idle_ms=LONG, refresh_ms=LONG)
    link.start()
    sync.start()
    try:
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(desk.offline.has_picture, timeout=30_000)
        sign_in(qtbot, window, "staff", "gate")
        assert window.current.name == "staff"

        proxy.cut()
        banner = window.link_banner
        assert banner is not None
        qtbot.waitUntil(lambda: banner.text == OFFLINE_TEXT, timeout=30_000)

        # An idle sign-out during the outage: the attendant who signed in here may sign in
        # again (checked against what was kept in memory); a wrong password may not.
        window.sign_out()
        sign_in(qtbot, window, "staff", "gate", password="not the password")
        assert window.screens["signin"].banner.text == SIGN_IN_OFFLINE
        sign_in(qtbot, window, "staff", "gate")
        assert window.current.name == "staff"

        window.go("checkin")
        checkin = window.screens["checkin"]
        qtbot.waitUntil(lambda: checkin.lots.selected() is not None, timeout=10_000)
        qtbot.keyClicks(checkin.vehicle, "OFF 1")
        qtbot.keyClick(checkin.vehicle, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: checkin.result is not None, timeout=10_000)
        wait_idle(qtbot, window)
        assert checkin.spot.number.text() == "P001"
        assert checkin.spot.caption.text() == "Park in spot (provisional)"

        window.go("checkout")
        checkout = window.screens["checkout"]
        qtbot.keyClicks(checkout.vehicle, "OFF1")
        qtbot.keyClick(checkout.vehicle, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: checkout.pages.currentWidget() is checkout.confirm_page, timeout=10_000
        )
        wait_idle(qtbot, window)
        assert checkout.fee_text() == "€2.50"  # the one-hour minimum at the synced price
        qtbot.mouseClick(checkout.confirm_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.current.name == "receipt", timeout=10_000)
        assert window.screens["receipt"].grid.text("Receipt no.") == "offline 1"
        assert desk.offline.pending_count() == 2

        proxy.restore()
        qtbot.waitUntil(lambda: banner.text == back_text(2), timeout=60_000)
        qtbot.waitUntil(lambda: desk.offline.pending_count() == 0, timeout=60_000)
        with app.ctx.read() as session:
            (stay,) = session.scalars(select(Reservation)).all()
            assert (stay.vehicle_number, stay.status, stay.cost) == (
                "OFF1",
                BookingStatus.COMPLETED,
                Decimal("2.50"),
            )
    finally:
        window.shutdown()
        sync.stop()
        link.stop()
        assert wait_for_workers(30_000)
        window.close()
        window.deleteLater()
        QCoreApplication.processEvents()
        desk.offline.close()
