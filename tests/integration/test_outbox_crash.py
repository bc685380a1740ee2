"""A worker killed with SIGKILL in the middle of a delivery never causes a mail to be sent
twice: successes are marked sent in windows (one transaction each), and each window is
stamped "begun" before its first mail goes to the server. After the lease, the next
dispatcher sends what the dead one never began and sets aside, as failed "interrupted", the
few it had begun without writing down the outcome (docs/mail.md, "Never twice")."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.mail.outbox import MARK_EVERY, OutgoingMail
from tests.integration.hardening_support import SlowHandler, Worker
from tests.mail_support import SmtpServer, wait_for

TOTAL = 400


def _mail(n: int) -> OutgoingMail:
    return OutgoingMail(
        recipient=f"r{n}@example.com",
        subject=f"mail {n}",
        text=f"text {n}",
        html=f"<p>mail {n}</p>",
        kind="test",
        idempotency_key=f"crash:{n}",
    )


def test_a_worker_killed_mid_delivery_never_sends_a_mail_twice(
    app: App, tmp_path: Path, db_url: str
) -> None:
    server = SmtpServer()
    server.handler = SlowHandler(pause=0.02)
    server.start()
    try:
        app.email.outbox.enqueue_many([_mail(n) for n in range(TOTAL)])
        worker = Worker(
            tmp_path / "worker",
            db_url,
            {
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(server.port),
                "MAIL_DEFAULT_SENDER": "parking@example.com",
            },
        )
        try:
            # Killed past the first windows, somewhere inside one.
            assert wait_for(lambda: len(server.received) >= 3 * MARK_EVERY + 7, timeout=120), (
                worker.stderr
            )
            os.kill(worker.process.pid, signal.SIGKILL)
            assert worker.process.wait(30) == -signal.SIGKILL
        finally:
            worker.kill()
        before = Counter(r.rcpt_tos[0] for r in server.received)
        with app.db.read() as session:
            held = session.execute(
                select(EmailOutbox.recipient, EmailOutbox.sent_at).where(
                    EmailOutbox.status == "sending"
                )
            ).all()
        begun = {recipient for recipient, stamp in held if stamp is not None}
        assert held and len(begun) <= MARK_EVERY  # the dead worker's rows, one window begun
        # Everything the server took is either marked sent or in the begun window.
        with app.db.read() as session:
            marked = set(
                session.scalars(select(EmailOutbox.recipient).where(EmailOutbox.status == "sent"))
            )
        assert set(before) <= marked | begun

        # The next dispatcher, once the dead one's lease (real time) has run out.
        box = app.email.box
        box.settings = box.settings.with_overrides(
            mail_server="127.0.0.1",
            mail_port=server.port,
            mail_default_sender="parking@example.com",
        )
        app.ctx.clock.set(datetime.now(UTC) + app.email.outbox.lease + timedelta(minutes=1))
        report = app.email.outbox.flush()
    finally:
        server.stop()

    per_recipient = Counter(r.rcpt_tos[0] for r in server.received)
    assert max(per_recipient.values()) == 1, "a mail was sent twice"
    with app.db.read() as session:
        rows = session.execute(
            select(EmailOutbox.recipient, EmailOutbox.status, EmailOutbox.last_error)
        ).all()
    interrupted = {
        recipient
        for recipient, status, error in rows
        if status == "failed" and "interrupted" in (error or "")
    }
    assert interrupted == begun and report.failed == len(begun), report.errors
    assert report.retrying == 0, report.errors
    for recipient, status, _error in rows:
        if recipient not in interrupted:  # never begun by the dead worker: delivered now
            assert status == "sent" and per_recipient[recipient] == 1, (recipient, status)
    assert len(per_recipient) >= TOTAL - len(begun)


def test_rows_begun_by_a_dead_dispatcher_are_set_aside_the_rest_is_sent(
    mail_app: App, smtp_server: SmtpServer, manager: Actor
) -> None:
    outbox = mail_app.email.outbox
    outbox.enqueue_many([_mail(n) for n in range(5)])
    claimed = outbox._claim("dead-host:1:x", 10, None)
    begun = outbox._advance("dead-host:1:x", [], [m.id for m in claimed[:2]])  # then it dies
    assert begun == {claimed[0].id, claimed[1].id}

    assert outbox.flush().sent == 0  # its lease still holds
    mail_app.ctx.clock.advance(seconds=outbox.lease.total_seconds() + 1)  # type: ignore[attr-defined]
    report = outbox.flush()

    assert (report.sent, report.failed) == (3, 2)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "r2@example.com",
        "r3@example.com",
        "r4@example.com",
    ]
    with mail_app.db.read() as session:
        rows = dict(session.execute(select(EmailOutbox.recipient, EmailOutbox.status)).all())
    assert rows == {
        "r0@example.com": "failed",
        "r1@example.com": "failed",
        "r2@example.com": "sent",
        "r3@example.com": "sent",
        "r4@example.com": "sent",
    }
    # A person decides: Retry now sends a set-aside mail after all, once.
    with mail_app.db.read() as session:
        first = session.scalar(
            select(EmailOutbox.id).where(EmailOutbox.recipient == "r0@example.com")
        )
    assert first is not None
    assert outbox.retry(manager, [first]).sent == 1
    assert [r.rcpt_tos[0] for r in smtp_server.received].count("r0@example.com") == 1
