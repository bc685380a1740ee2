"""Full-lot alerts on SQLite and PostgreSQL: once per crossing of FULL_ALERT_PERCENT (not once
per car), re-armed when the lot drops below it, queued in the booking's transaction and posted
to Google Chat by the outbox (a local webhook server stands in for Chat: the exact request is
checked), kept through a Chat outage, and exactly once when bookings race."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from parking_desktop.adapters.notifiers.google_chat import GoogleChatNotifier
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import DomainError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.parking.full_alerts import crossed
from tests.integration.jobs_support import activity
from tests.mail_support import WebhookServer
from tests.ui.test_kiosk_support import make_lot

TEXT = ("*Lot filling up*\nCity Centre is 90 % full: 9 of 10 spots taken, 1 free "
        "(alert level 90 %).")


@pytest.fixture
def webhook(app: App) -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    box = app.email.box
    box.settings = box.settings.with_overrides(google_chat_webhook_url=server.url)
    # The real notifier, without its pauses between retries.
    app.email.outbox.chat = GoogleChatNotifier(server.url, sleep=lambda _s: None).send
    yield server
    server.stop()


def test_crossing_rule() -> None:
    assert crossed(8, 9, 10, 90) and not crossed(9, 10, 10, 90) and not crossed(7, 8, 10, 90)
    assert crossed(2, 3, 3, 90)  # 67 % -> 100 %
    assert not crossed(0, 1, 10, 0)  # 0 turns the alerts off


def test_one_alert_per_crossing_posted_once_to_chat(
    app: App, manager: Actor, attendant: Actor, webhook: WebhookServer,
) -> None:
    lot = make_lot(app, manager)
    for n in range(8):
        app.parking.check_in(attendant, lot.id, f"CAR{n}")
    assert activity(app, "lot_full_alert") == []
    assert app.alerts is not None and app.alerts.full_lots(manager) == []

    app.parking.check_in(attendant, lot.id, "CAR8")  # 9 of 10: 90 %
    app.parking.check_in(attendant, lot.id, "CAR9")  # 10 of 10: no second alert
    [alert] = activity(app, "lot_full_alert")
    assert alert.activity_data["lot"] == "City Centre" and alert.activity_data["taken"] == 9
    [full] = app.alerts.full_lots(manager)
    assert (full.lot_name, full.taken, full.spots, full.percent) == ("City Centre", 10, 10, 100)
    assert full.since == alert.timestamp.replace(tzinfo=full.since.tzinfo)

    app.parking.check_out(attendant, "CAR9")  # 9 of 10: still at the level, not re-armed
    app.parking.check_in(attendant, lot.id, "CAR10")
    assert len(activity(app, "lot_full_alert")) == 1
    app.parking.check_out(attendant, "CAR10")
    app.parking.check_out(attendant, "CAR8")  # 8 of 10: below, re-armed
    assert app.alerts.full_lots(manager) == []
    app.parking.check_in(attendant, lot.id, "CAR11")
    assert len(activity(app, "lot_full_alert")) == 2

    report = app.email.outbox.flush()
    assert report.sent == 2
    assert [webhook.json(i) for i in range(len(webhook.posts))] == [{"text": TEXT}] * 2
    assert webhook.posts[0]["path"] == "/v1/spaces/X/messages?key=K&token=SECRETTOKEN"
    assert webhook.headers[0]["Content-Type"] == "application/json; charset=UTF-8"
    assert len(activity(app, "chat_sent")) == 2
    assert app.email.outbox.flush().sent == 0  # posted once, never again


def test_a_chat_outage_delays_the_alert_and_loses_nothing(
    app: App, manager: Actor, attendant: Actor, webhook: WebhookServer, clock: FixedClock,
) -> None:
    lot = make_lot(app, manager)
    webhook.responses = [(503, {})] * 4  # every attempt of the first pass
    for n in range(9):
        app.parking.check_in(attendant, lot.id, f"CAR{n}")
    first = app.email.outbox.flush()
    assert (first.sent, first.retrying) == (0, 1)
    assert "HTTP 503" in first.errors[0]
    assert app.email.outbox.health(manager).failing == 1

    clock.advance(seconds=120)
    second = app.email.outbox.flush()
    assert second.sent == 1
    assert [webhook.json(i) for i in range(len(webhook.posts))] == [{"text": TEXT}] * 5


def test_no_chat_configured_still_records_the_alert(
    app: App, manager: Actor, attendant: Actor,
) -> None:
    lot = make_lot(app, manager)
    for n in range(9):
        app.parking.check_in(attendant, lot.id, f"CAR{n}")
    assert len(activity(app, "lot_full_alert")) == 1
    assert app.email.outbox.counts(manager)["pending"] == 0  # nothing queued for nobody


def test_racing_bookings_alert_exactly_once(
    app: App, manager: Actor, attendant: Actor, webhook: WebhookServer,
) -> None:
    lot = make_lot(app, manager, spots=20)
    for n in range(14):
        app.parking.check_in(attendant, lot.id, f"CAR{n}")
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def book(n: int) -> None:
        barrier.wait()
        try:
            app.parking.check_in(attendant, lot.id, f"RACE{n}")
        except DomainError as exc:  # "spot just taken": the race's ordinary loser
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    taken = 14 + 6 - len(errors)
    assert taken >= 18, errors  # 18 of 20 is the 90 % level
    assert len(activity(app, "lot_full_alert")) == 1
    assert app.email.outbox.counts(manager)["pending"] == 1


def test_the_alert_level_setting_is_checked(tmp_path: object) -> None:
    from pathlib import Path

    from parking_desktop.config import ConfigError, load_settings

    folder = Path(str(tmp_path))

    def settings(value: str) -> int:
        return load_settings(data_dir=folder / "d", database_url="sqlite:///x.db",
                             environ={"FULL_ALERT_PERCENT": value},
                             dotenv_path=folder / "no.env").full_alert_percent

    assert settings("75") == 75 and settings("0") == 0
    with pytest.raises(ConfigError, match="FULL_ALERT_PERCENT"):
        settings("101")
