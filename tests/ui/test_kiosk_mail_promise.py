"""The kiosk promises a driver only what the outbox can keep: "queued" while mail flows, and
"e-mail is delayed" while the mail server refuses (real aiosmtpd server, stopped) — on SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.mail.outbox import OutgoingMail
from tests.mail_support import SmtpServer
from tests.ui.test_kiosk_support import OpenKiosk, kiosk_windows, sign_in, wait_idle

open_kiosk_fixture = pytest.fixture(name="open_kiosk")(kiosk_windows)


def _ask_for_history(qtbot: QtBot, window: object) -> str:
    window.go("history")  # type: ignore[attr-defined]
    page = window.screens["history"]  # type: ignore[attr-defined]
    wait_idle(qtbot, window)  # type: ignore[arg-type]
    qtbot.mouseClick(page.email_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "being prepared" in page.banner.text)
    return str(page.banner.text)


def test_history_mail_is_called_queued_while_mail_flows(
    mail_app: App, qtbot: QtBot, open_kiosk: OpenKiosk, driver: Actor,
) -> None:
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    text = _ask_for_history(qtbot, window)
    assert text == ("Your history is being prepared; its e-mail to driver1@example.com is "
                    "queued and goes out when the file is ready.")
    assert "few minutes" not in text


def test_history_mail_is_said_to_be_delayed_while_the_server_refuses(
    mail_app: App, smtp_server: SmtpServer, qtbot: QtBot, open_kiosk: OpenKiosk,
    driver: Actor,
) -> None:
    mail_app.email.outbox.enqueue(OutgoingMail(
        recipient="someone@example.com", subject="Earlier", text="Hi", html=None, kind="test",
        idempotency_key="earlier:1"))
    smtp_server.stop()
    assert mail_app.email.outbox.flush().retrying == 1  # the server refused: mail waits
    window = open_kiosk()
    sign_in(qtbot, window, "driver", "driver1")
    text = _ask_for_history(qtbot, window)
    assert "e-mail is delayed right now" in text
    assert window.screens["history"].banner.property("kind") == "error"
