"""The outbox: idempotency, retries with backoff, permanent failures, crashes, two dispatchers,
"Retry now" — on SQLite and PostgreSQL, against a real SMTP server."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.adapters.mail.transport import DeliveryError
from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import PermissionDeniedError, ValidationError
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.mail.outbox import (
    DispatchReport,
    OutboxService,
    OutgoingMail,
    RetryPolicy,
)
from parking_desktop.services.views import UserView
from tests.mail_support import SmtpServer, free_port


def _drivers(app: App, count: int) -> list[UserView]:
    return [app.users.create(SYSTEM, username=f"driver{i:03d}", password="correct-horse-1",
                             role=Role.DRIVER, email=f"driver{i:03d}@example.com")
            for i in range(count)]


def _rows(app: App) -> list[EmailOutbox]:
    with app.db.read() as session:
        return list(session.scalars(select(EmailOutbox).order_by(EmailOutbox.id)))


def _mail(n: int, to: str = "someone@example.com") -> OutgoingMail:
    return OutgoingMail(recipient=to, subject=f"mail {n}", text=f"body {n}", html=None,
                        kind="test", idempotency_key=f"k{n}")


def test_the_same_mail_is_queued_once(mail_app: App) -> None:
    [user] = _drivers(mail_app, 1)
    first = mail_app.email.send_daily_reminder(user, 2)
    second = mail_app.email.send_daily_reminder(user, 5)  # same driver, same day
    mail_app.ctx.clock.advance(days=1)  # type: ignore[attr-defined]
    next_day = mail_app.email.send_daily_reminder(user, 5)

    assert first.created and not second.created and second.id == first.id
    assert next_day.created
    assert len(_rows(mail_app)) == 2


def test_enqueue_rejects_a_bad_address_and_queues_nothing(mail_app: App) -> None:
    with pytest.raises(ValidationError, match="not an e-mail address"):
        mail_app.email.outbox.enqueue(_mail(1, to="bad\r\nBcc: x@evil.com"))
    assert _rows(mail_app) == []


def test_enqueue_joins_the_callers_transaction(mail_app: App) -> None:
    with pytest.raises(RuntimeError), mail_app.db.write() as session:
        mail_app.email.outbox.enqueue(_mail(1), session=session)
        raise RuntimeError("the job failed after queueing")
    assert _rows(mail_app) == []  # rolled back with the job's work


def test_server_down_then_up_every_mail_arrives_exactly_once(app: App, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    box = app.email.box
    box.settings = box.settings.with_overrides(mail_server="127.0.0.1", mail_port=port)
    users = _drivers(app, 5)
    for user in users:
        app.email.send_daily_reminder(user, 1)

    down = app.email.outbox.flush()
    assert (down.sent, down.failed, down.retrying, down.pending) == (0, 0, 5, 5)
    assert "connection refused" in down.errors[0]
    rows = _rows(app)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
    assert {r.next_attempt_at for r in rows} == {app.ctx.clock.now() + timedelta(minutes=1)}
    assert all("connection refused" in (r.last_error or "") for r in rows)
    assert app.email.outbox.flush().sent == 0  # not due yet: nothing is tried

    server = SmtpServer(port=port).start()
    try:
        app.ctx.clock.advance(minutes=1)  # type: ignore[attr-defined]
        up = app.email.outbox.flush()
        again = app.email.outbox.flush()
    finally:
        server.stop()
    assert (up.sent, up.pending, again.sent) == (5, 0, 0)
    got = sorted(r.rcpt_tos[0] for r in server.received)
    assert got == sorted(u.email for u in users if u.email)
    assert len({r.message["Message-ID"] for r in server.received}) == 5
    assert {r.status for r in _rows(app)} == {"sent"}
    assert all(r.last_error is None and r.sent_at is not None for r in _rows(app))


def test_a_5xx_reply_is_failed_with_the_servers_words(mail_app: App,
                                                      smtp_server: SmtpServer) -> None:
    users = _drivers(mail_app, 3)
    smtp_server.handler.reject["driver001@example.com"] = "550 5.1.1 No such user here"
    for user in users:
        mail_app.email.send_daily_reminder(user, 1)

    report = mail_app.email.outbox.flush()

    assert (report.sent, report.failed, report.retrying, report.pending) == (2, 1, 0, 0)
    failed = [r for r in _rows(mail_app) if r.status == "failed"]
    assert [r.recipient for r in failed] == ["driver001@example.com"]
    assert "550 5.1.1 No such user here" in (failed[0].last_error or "")
    assert smtp_server.handler.ehlos == 1  # the other two shared one connection
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "driver000@example.com", "driver002@example.com"]


def test_a_4xx_reply_is_retried_later(mail_app: App, smtp_server: SmtpServer) -> None:
    [user] = _drivers(mail_app, 1)
    smtp_server.handler.reject["driver000@example.com"] = "451 4.3.0 Mailbox busy, try later"
    mail_app.email.send_daily_reminder(user, 1)

    first = mail_app.email.outbox.flush()
    del smtp_server.handler.reject["driver000@example.com"]
    mail_app.ctx.clock.advance(minutes=1)  # type: ignore[attr-defined]
    second = mail_app.email.outbox.flush()

    assert (first.retrying, first.pending) == (1, 1)
    assert "451 4.3.0" in first.errors[0]
    assert second.sent == 1 and len(smtp_server.received) == 1


def test_backoff_doubles_and_gives_up_at_the_limit(app: App) -> None:
    box = app.email.box
    box.settings = box.settings.with_overrides(mail_server="127.0.0.1", mail_port=free_port())
    outbox = app.email.outbox
    outbox.policy = RetryPolicy(max_attempts=4, base_delay=timedelta(minutes=1))
    outbox.enqueue(_mail(1))
    waits = []
    for _ in range(3):
        outbox.flush()
        [row] = _rows(app)
        waits.append(row.next_attempt_at - app.ctx.clock.now())
        app.ctx.clock.advance(seconds=waits[-1].total_seconds())  # type: ignore[attr-defined]
    final = outbox.flush()

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    [row] = _rows(app)
    assert (row.status, row.attempts, final.failed) == ("failed", 4, 1)
    assert "gave up after 4 attempts" in (row.last_error or "")


def test_a_dispatcher_that_dies_loses_nothing(mail_app: App, smtp_server: SmtpServer) -> None:
    outbox = mail_app.email.outbox
    for n in range(3):
        outbox.enqueue(_mail(n))
    # A dispatcher claims the mails and dies before sending them.
    claimed = outbox._claim("dead-host:1:x", 10, None)
    assert len(claimed) == 3
    assert outbox.flush().sent == 0  # its lease still holds: nobody else sends them

    mail_app.ctx.clock.advance(seconds=outbox.lease.total_seconds() + 1)  # type: ignore[attr-defined]
    report = outbox.flush()

    assert report.sent == 3 and len(smtp_server.received) == 3
    assert {r.status for r in _rows(mail_app)} == {"sent"}


def test_a_late_dispatcher_cannot_overwrite_a_reclaimed_row(mail_app: App,
                                                            smtp_server: SmtpServer) -> None:
    outbox = mail_app.email.outbox
    outbox.enqueue(_mail(1))
    [stale] = outbox._claim("slow-host:1:x", 10, None)
    mail_app.ctx.clock.advance(seconds=outbox.lease.total_seconds() + 1)  # type: ignore[attr-defined]
    assert outbox.flush().sent == 1
    # The first dispatcher wakes up and reports a failure for the row it no longer holds.
    outbox._record_error("slow-host:1:x", stale, DeliveryError("late", transient=False),
                         DispatchReport())
    [row] = _rows(mail_app)
    assert row.status == "sent"  # the stale token no longer matches


def test_two_dispatchers_at_once_never_send_a_mail_twice(mail_app: App,
                                                          smtp_server: SmtpServer) -> None:
    outbox = mail_app.email.outbox
    outbox.enqueue_many([_mail(n, to=f"r{n}@example.com") for n in range(60)])
    second = OutboxService(mail_app.ctx, outbox._transport_factory, outbox._sender,
                           batch_size=5)
    outbox.batch_size = 5
    reports = []
    threads = [threading.Thread(target=lambda o=o: reports.append(o.dispatch()))
               for o in (outbox, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(r.sent for r in reports) == 60
    recipients = [r.rcpt_tos[0] for r in smtp_server.received]
    assert len(recipients) == 60 and len(set(recipients)) == 60
    assert {r.attempts for r in _rows(mail_app)} == {1}


def test_retry_now_resends_a_failed_mail_for_a_manager(mail_app: App, smtp_server: SmtpServer,
                                                       manager: Actor, attendant: Actor) -> None:
    outbox = mail_app.email.outbox
    smtp_server.handler.reject["someone@example.com"] = "550 mailbox unavailable"
    queued = outbox.enqueue(_mail(1))
    assert outbox.flush().failed == 1
    with pytest.raises(PermissionDeniedError):
        outbox.retry(attendant, [queued.id])
    smtp_server.handler.reject.clear()

    report = outbox.retry(manager, [queued.id])

    assert report.sent == 1
    [row] = _rows(mail_app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_retry_now_makes_waiting_mails_due(app: App, manager: Actor,
                                           memory_keyring) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    box = app.email.box
    box.settings = box.settings.with_overrides(mail_server="127.0.0.1", mail_port=port)
    outbox = app.email.outbox
    outbox.enqueue(_mail(1))
    assert outbox.flush().retrying == 1
    server = SmtpServer(port=port).start()
    try:
        report = outbox.retry(manager)  # no clock change: "now", not in a minute
    finally:
        server.stop()
    assert report.sent == 1 and len(server.received) == 1


def test_outbox_listing_for_the_screen(mail_app: App, smtp_server: SmtpServer, manager: Actor,
                                       driver: Actor) -> None:
    outbox = mail_app.email.outbox
    smtp_server.handler.reject["bad@example.com"] = "550 no"
    outbox.enqueue(_mail(1, to="good@example.com"))
    outbox.enqueue(_mail(2, to="bad@example.com"))
    outbox.flush()
    outbox.enqueue(_mail(3))

    assert outbox.counts(manager) == {"pending": 1, "sending": 0, "sent": 1, "failed": 1}
    page = outbox.list(manager)
    assert [m.subject for m in page.items] == ["mail 3", "mail 2", "mail 1"]
    [failed] = outbox.list(manager, status="failed").items
    assert failed.recipient == "bad@example.com" and "550 no" in (failed.last_error or "")
    detail = outbox.detail(manager, failed.id)
    assert detail.body_text == "body 2"
    with pytest.raises(PermissionDeniedError):
        outbox.list(driver)
    with pytest.raises(ValidationError):
        outbox.list(manager, status="lost")


def test_leases_are_visible_as_sending(mail_app: App, manager: Actor) -> None:
    outbox = mail_app.email.outbox
    outbox.enqueue(_mail(1))
    outbox._claim("host:1:x", 10, None)
    assert outbox.counts(manager)["sending"] == 1
    assert [m.status for m in outbox.list(manager, status="pending").items] == ["sending"]
    with mail_app.db.write() as session:  # tidy: the claim is never finished
        session.execute(update(EmailOutbox).values(status="failed"))


def test_an_unreachable_server_stops_the_run_after_one_batch(app: App) -> None:
    box = app.email.box
    box.settings = box.settings.with_overrides(mail_server="127.0.0.1", mail_port=free_port())
    outbox = app.email.outbox
    outbox.batch_size = 4
    outbox.enqueue_many([_mail(n) for n in range(10)])

    report = outbox.flush()

    assert (report.retrying, report.pending, report.server_unreachable) == (4, 10, True)
    rows = _rows(app)
    assert sorted(r.attempts for r in rows) == [0] * 6 + [1] * 4  # the rest was not tried


def test_a_mail_that_cannot_be_built_fails_alone(mail_app: App,
                                                 smtp_server: SmtpServer) -> None:
    outbox = mail_app.email.outbox
    broken = OutgoingMail(recipient="x@example.com", subject="s", text="t", html=None,
                          kind="test", idempotency_key="broken",
                          attachments=({"filename": "a.csv", "content_type": "text/csv",
                                        "data": "not base64!"},))
    outbox.enqueue_many([broken, _mail(2)])

    report = outbox.flush()

    assert (report.sent, report.failed) == (1, 1)
    failed = [r for r in _rows(mail_app) if r.status == "failed"]
    assert [r.idempotency_key for r in failed] == ["broken"]
    assert "cannot be built" in (failed[0].last_error or "")
