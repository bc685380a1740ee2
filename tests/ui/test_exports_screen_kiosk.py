"""Kiosk self-service: a signed-in driver taps "E-mail me my history" and the export arrives by
e-mail (real SMTP server) with the CSV attached; a driver without an address is told why not."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from tests.conftest import MakeUser
from tests.mail_support import SmtpServer
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, make_lot, sign_in, wait_idle

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def test_driver_gets_their_history_by_email_from_the_kiosk(
    mail_app: App, smtp_server: SmtpServer, qtbot: QtBot, open_kiosk: OpenKiosk,
    manager: Actor, driver: Actor, clock: FixedClock,
) -> None:
    app = mail_app
    lot = make_lot(app, manager, name="Station Square", spots=3)
    booking = app.parking.reserve(driver, lot.id, "DR11AB")
    app.parking.park(driver, booking.id)
    clock.advance(hours=2)
    app.parking.release(driver, booking.id)
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    window.go("history")
    page = window.screens["history"]
    wait_idle(qtbot, window)
    assert page.email_button.isVisible()
    qtbot.mouseClick(page.email_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "e-mail to driver1@example.com is queued" in page.banner.text)
    qtbot.waitUntil(lambda: len(smtp_server.received) == 1, timeout=30_000)
    # The export thread ends after recording the delivery; let it, before the app closes.
    assert app.exports.wait(app.exports.history(driver)[0].job_id, timeout=30)
    mail = smtp_server.received[0]
    assert mail.rcpt_tos == ["driver1@example.com"]
    (attachment,) = list(mail.message.iter_attachments())
    data = attachment.get_payload(decode=True)
    assert data.startswith("\ufeffReservation ID,".encode())
    assert b"DR11AB" in data and b"completed" in data


def test_driver_without_an_address_is_told_why(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, make_user: MakeUser
) -> None:
    quiet = make_user("noaddress", Role.DRIVER)
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "noaddress")
    window.go("history")
    page = window.screens["history"]
    wait_idle(qtbot, window)
    qtbot.mouseClick(page.email_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "no e-mail address" in page.banner.text)
    wait_idle(qtbot, window)
    assert app.exports.history(quiet) == []  # nothing was started


def test_three_taps_on_email_my_history_make_one_export(
    app: App, qtbot: QtBot, open_kiosk: OpenKiosk, driver: Actor,
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
) -> None:
    # The request is held until the test lets it go, so the taps land while it is on its way.
    gate, asked = threading.Event(), threading.Event()
    requests: list[int | None] = []
    real = app.exports.email_my_history

    def held(actor: Actor) -> str:
        requests.append(actor.user_id)
        asked.set()
        assert gate.wait(30)
        return real(actor)

    monkeypatch.setattr(app.exports, "email_my_history", held)
    request.addfinalizer(gate.set)  # a failing assertion must not leave the work held
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    window.go("history")
    page = window.screens["history"]
    wait_idle(qtbot, window)
    for _ in range(3):
        qtbot.mouseClick(page.email_button, Qt.MouseButton.LeftButton)
    assert asked.wait(30)
    gate.set()
    qtbot.waitUntil(lambda: "being prepared" in page.banner.text)
    (job,) = app.exports.history(driver)
    assert app.exports.wait(job.job_id, timeout=30)
    # The first export is finished: more taps must not make a second one either.
    for _ in range(2):
        qtbot.mouseClick(page.email_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert requests == [driver.user_id]
    assert len(app.exports.history(driver)) == 1
    assert not page.email_button.isEnabled()
    assert "requested" in page.email_button.text()
    # A new visit of the page may ask again.
    window.go("driver")
    window.go("history")
    wait_idle(qtbot, window)
    assert page.email_button.isEnabled()
