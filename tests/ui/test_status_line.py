"""The main window's status-bar warning: mail waiting because the server refuses (real aiosmtpd
server, stopped), with the reason and since when, gone once the mail leaves; a lot past the
full-alert level — on SQLite and PostgreSQL."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor
from parking_desktop.services.mail.outbox import OutgoingMail
from tests.mail_support import SmtpServer
from tests.ui.conftest import Desk, make_lot, wait_for


def test_waiting_mail_and_a_full_lot_show_in_the_status_bar(
    mail_app: App, smtp_server: SmtpServer, desk: Desk, manager: Actor, attendant: Actor,
    clock: FixedClock, qtbot: QtBot,
) -> None:
    app = mail_app
    for n in range(3):
        app.email.outbox.enqueue(OutgoingMail(
            recipient=f"d{n}@example.com", subject="Report", text="Hi", html=None,
            kind="monthly_report", idempotency_key=f"status:{n}"))
    smtp_server.stop()
    app.email.outbox.flush()
    window = desk.window(manager)
    line = window.warnings
    since = clock.now().astimezone(app.settings.tz)
    wait_for(qtbot, lambda: line.isVisible())
    assert line.full_text == (
        f"3 e-mails waiting: Cannot reach the mail server 127.0.0.1:{smtp_server.port}: "
        f"connection refused since {since:%H:%M}")
    assert line.toolTip() == line.full_text

    lot = make_lot(app, manager, name="City Center", spots=10)
    for n in range(9):  # a check-in elsewhere: the change notice brings the warning
        app.parking.check_in(attendant, lot.id, f"CAR{n}")
    wait_for(qtbot, lambda: "City Center 90 % full" in line.full_text)

    smtp_server.start()
    clock.advance(seconds=120)
    assert app.email.outbox.flush().sent == 3
    for n in range(2):
        app.parking.check_out(attendant, f"CAR{n}")
    wait_for(qtbot, lambda: not line.isVisible())
    assert line.full_text == ""


def test_attendants_see_full_lots_but_not_the_outbox(
    app: App, desk: Desk, manager: Actor, attendant: Actor, qtbot: QtBot,
) -> None:
    lot = make_lot(app, manager, name="Small", spots=2)
    for n in range(2):
        app.parking.check_in(attendant, lot.id, f"CAR{n}")
    window = desk.window(attendant)
    wait_for(qtbot, lambda: window.warnings.loaded > 0)
    assert window.warnings.full_text.startswith("Small 100 % full since ")


def test_cars_parked_past_the_overstay_limit_are_flagged(
    app: App, desk: Desk, manager: Actor, attendant: Actor, clock: FixedClock, qtbot: QtBot,
) -> None:
    lot = make_lot(app, manager, name="Long Stay", spots=10)
    app.parking.check_in(attendant, lot.id, "LONG1")
    clock.advance(hours=2)
    app.parking.check_in(attendant, lot.id, "LONG2")
    clock.advance(hours=23)  # LONG1 25 h, LONG2 23 h: one past OVERSTAY_HOURS (24)
    window = desk.window(attendant)
    line = window.warnings
    wait_for(qtbot, lambda: line.isVisible())
    assert line.full_text == "1 car parked over 24 h, longest LONG1 at Long Stay, 25.0 h"

    app.parking.check_out(attendant, "LONG1")  # the change notice takes the warning away
    wait_for(qtbot, lambda: not line.isVisible())
