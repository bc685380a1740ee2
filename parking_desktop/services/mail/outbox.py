"""The e-mail outbox: queue first, deliver later, never lose or double a mail.

Enqueueing writes a row (in the caller's transaction if it has one); the idempotency key makes
queueing the same mail twice a no-op. The dispatcher claims due rows — status 'sending', its
token and a lease — in one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
serialises writers with BEGIN IMMEDIATE), so two dispatchers never take the same row. It then
sends them over one SMTP connection. Failures are recorded as soon as they are known: failed
(a 5xx reply, or the retry budget is spent) or back to pending with an exponential backoff
(connection trouble, timeouts, 4xx). Successes are recorded in windows of ``mark_every``
mails, one transaction per window, and a mail is never sent twice:

* before the first mail of a window is handed to the server, one transaction stamps every mail
  of the window with ``sent_at`` (status still 'sending'): "its delivery has begun";
* once the window's mails are through, the next transaction marks them 'sent' (with their
  activity rows) and stamps the next window.

A dispatcher that dies leaves its rows 'sending' with a lease that runs out. Rows without the
stamp were never handed to the server: the next dispatcher takes them again. Rows with the stamp
may have arrived (the server accepted them and we died before writing it down): they are never
sent again automatically but marked failed, "interrupted during delivery", for a person to look
at and "Retry now" (docs/mail.md explains why)."""

from __future__ import annotations

import binascii
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import User, UserActivity
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.adapters.mail.message import (
    RawMail,
    build_message,
    build_raw,
    can_build_raw,
    date_header,
    from_header,
    list_unsubscribe_headers,
    new_message_id,
    one_line,
)
from parking_desktop.adapters.mail.transport import DeliveryError, MailTransport
from parking_desktop.adapters.notifiers.base import NotifyResult
from parking_desktop.config import shown_value
from parking_desktop.domain.errors import NotFoundError, ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.context import OPERATOR_KEY, ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.parking.activity import record
from parking_desktop.services.views import Page

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed")
# The kinds a driver may stop (services/privacy/preferences): they carry List-Unsubscribe.
# Everything else (an export they asked for, alerts to managers) is transactional.
UNSUBSCRIBABLE = frozenset({"daily_reminder", "monthly_report"})
# The activity row written when the server took a mail (the job wrote "queued" before);
# other kinds write "email_sent". A mail given up on writes "email_failed".
SENT_ACTIVITY = {"monthly_report": "monthly_report_sent", "daily_reminder": "reminder_sent",
                 "chat": "chat_sent"}
# A notice for the managers' Google Chat space goes through the outbox too (queued in the
# transaction that raised it, retried while Chat is away); its recipient is this label.
CHAT_KIND = "chat"
CHAT_RECIPIENT = "Google Chat"
FAILED_RECENTLY = timedelta(days=1)  # failed mails older than this no longer raise a warning
# Successes are written down every this many mails (one transaction each): at most this many
# mails are in doubt - and set aside, not resent - when a dispatcher is killed.
MARK_EVERY = 20
INTERRUPTED = ("Delivery was interrupted while this mail was being handed to the mail server "
               "(the sending program stopped at {at:%Y-%m-%d %H:%M} UTC before writing the "
               "outcome down): it may have arrived. It is not sent again by itself; use Retry "
               "now to send it anyway.")


@dataclass(frozen=True)
class OutgoingMail:
    recipient: str
    subject: str
    text: str
    html: str | None
    kind: str
    idempotency_key: str
    user_id: int | None = None
    attachments: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Enqueued:
    id: int
    created: bool  # False: the same idempotency key was already queued


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=4)

    def delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 ... minutes, capped."""
        wait: timedelta = self.base_delay * (2 ** max(0, attempts - 1))
        return min(self.max_delay, wait)


@dataclass(frozen=True)
class OutboxView:
    id: int
    kind: str
    recipient: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    user_id: int | None = None
    username: str | None = None


@dataclass(frozen=True)
class OutboxDetail:
    entry: OutboxView
    body_text: str
    has_html: bool
    attachments: tuple[str, ...]  # file names


@dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0  # transient failures put back with a later attempt time
    pending: int = 0  # still waiting in the outbox when the run ended (due later)
    errors: list[str] = field(default_factory=list)  # distinct last errors of this run
    server_unreachable: bool = False  # a batch ended because the connection failed
    stopped: bool = False  # a stop request ended the run early; the rest stays queued
    held: int = 0  # rows another dispatcher (alive, or dead until its lease ends) has claimed
    held_until: datetime | None = None  # when the last of those leases runs out

    def add(self, other: DispatchReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.retrying += other.retrying
        self.server_unreachable = self.server_unreachable or other.server_unreachable
        self.stopped = self.stopped or other.stopped
        for error in other.errors:
            if error not in self.errors:
                self.errors.append(error)


@dataclass(frozen=True)
class OutboxHealth:
    """What the status line says about mail: how many wait, why, since when."""

    waiting: int  # pending or being sent
    failing: int  # of those, the ones whose last attempt failed
    failed: int  # given up on within FAILED_RECENTLY
    last_error: str | None  # the newest reason a waiting or failed mail gave
    since: datetime | None  # the oldest waiting mail that has failed an attempt

    @property
    def troubled(self) -> bool:
        return bool(self.failing or self.failed)


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    attachments: tuple[Mapping[str, Any], ...]
    message_id: str
    attempts: int
    kind: str = ""
    user_id: int | None = None


def _row_values(mail: OutgoingMail, *, now: datetime, sender: str) -> dict[str, Any]:
    recipient = mail.recipient.strip()
    if mail.kind == CHAT_KIND:
        if recipient != CHAT_RECIPIENT:
            raise ValidationError(f"A Chat notice goes to '{CHAT_RECIPIENT}'.")
    elif (not recipient or "@" not in recipient or len(recipient) > 254
            or any(c in recipient for c in "\r\n,;<>")):
        raise ValidationError(f"'{shown_value(mail.recipient)}' is not an e-mail address.")
    key = mail.idempotency_key.strip()
    if not key or len(key) > 200:
        raise ValidationError("A mail needs an idempotency key of 1 to 200 characters.")
    return {
        "idempotency_key": key, "kind": mail.kind, "user_id": mail.user_id,
        "recipient": recipient, "subject": one_line(mail.subject), "body_text": mail.text,
        "body_html": mail.html, "attachments": [dict(a) for a in mail.attachments],
        "message_id": new_message_id(sender), "status": "pending", "attempts": 0,
        "next_attempt_at": now, "created_at": now,
    }


def enqueue_many_in(session: Session, mails: Sequence[OutgoingMail], *, now: datetime,
                    sender: str) -> list[Enqueued]:
    """Queue a batch inside the caller's transaction with multi-row INSERTs (one statement per
    1,000 mails) and one SELECT for keys queued before: the number of statements does not
    grow mail by mail (the jobs queue a mail per driver)."""
    rows = [_row_values(m, now=now, sender=sender) for m in mails]
    if not rows:
        return []
    table = EmailOutbox.__table__
    assert isinstance(table, Table)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
                 .returning(table.c.id, table.c.idempotency_key))
    created = {key: int(i) for i, key in session.execute(statement, rows)}
    before = [r["idempotency_key"] for r in rows if r["idempotency_key"] not in created]
    existing = {key: int(i) for key, i in session.execute(
        select(EmailOutbox.idempotency_key, EmailOutbox.id)
        .where(EmailOutbox.idempotency_key.in_(before)))} if before else {}
    out, seen = [], set()
    for row in rows:
        key = row["idempotency_key"]
        new = key in created and key not in seen  # a key twice in one batch: queued once
        seen.add(key)
        out.append(Enqueued(id=created[key] if key in created else existing[key], created=new))
    return out


def enqueue_in(session: Session, mail: OutgoingMail, *, now: datetime, sender: str) -> Enqueued:
    """Queue ``mail`` inside the caller's transaction (it commits or rolls back with it)."""
    values = _row_values(mail, now=now, sender=sender)
    key = values["idempotency_key"]
    table = EmailOutbox.__table__
    assert isinstance(table, Table)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (insert(table).values(**values)
                 .on_conflict_do_nothing(index_elements=["idempotency_key"])
                 .returning(table.c.id))
    new_id = session.execute(statement).scalar()
    if new_id is not None:
        return Enqueued(id=int(new_id), created=True)
    existing = session.scalar(select(EmailOutbox.id).where(EmailOutbox.idempotency_key == key))
    assert existing is not None
    return Enqueued(id=int(existing), created=False)


# The statements of every window of sent mails, built once: a window is 20 mails, and building
# the statements again for each took longer than running them.
_MARK_SENT = (
    update(EmailOutbox)
    .where(EmailOutbox.id.in_(bindparam("ids", expanding=True)),
           EmailOutbox.claimed_by == bindparam("token"), EmailOutbox.status == "sending")
    .values(status="sent", sent_at=bindparam("now"), lease_until=None, last_error=None)
    .returning(EmailOutbox.id).execution_options(synchronize_session=False))
_STAMP_BEGUN = (
    update(EmailOutbox)
    .where(EmailOutbox.id.in_(bindparam("ids", expanding=True)),
           EmailOutbox.claimed_by == bindparam("token"), EmailOutbox.status == "sending")
    .values(sent_at=bindparam("now"))
    .returning(EmailOutbox.id).execution_options(synchronize_session=False))
_LOG_SENT = insert(UserActivity)


class OutboxService:
    def __init__(
        self,
        ctx: ServiceContext,
        transport_factory: Callable[[], MailTransport],
        sender: Callable[[], str],
        *,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=10),
        batch_size: int = 200,
        reuse_connection: bool = True,
        mark_every: int = MARK_EVERY,
        unsubscribe: Callable[[], str] = lambda: "",
    ) -> None:
        self.ctx = ctx
        self._transport_factory = transport_factory
        self._sender = sender
        # MAIL_UNSUBSCRIBE_ADDRESS, read as each mail leaves (empty: no List-Unsubscribe).
        self._unsubscribe = unsubscribe
        self.policy = policy or RetryPolicy()
        self.lease = lease
        self.batch_size = batch_size
        self.mark_every = max(1, mark_every)
        # False opens a new connection per mail (only the throughput benchmark wants that).
        self.reuse_connection = reuse_connection
        # Posts a Chat notice (the EmailService sets its notifier's send); None: not here.
        self.chat: Callable[[str], NotifyResult] | None = None

    # --- queueing -------------------------------------------------------------------------
    def enqueue(self, mail: OutgoingMail, *, session: Session | None = None) -> Enqueued:
        now = self.ctx.clock.now()
        if session is not None:
            return enqueue_in(session, mail, now=now, sender=self._sender())
        with self.ctx.write("outbox") as own:
            return enqueue_in(own, mail, now=now, sender=self._sender())

    def enqueue_many(self, mails: Sequence[OutgoingMail], *,
                     session: Session | None = None) -> list[Enqueued]:
        """Queue a batch in one transaction (jobs queue thousands this way)."""
        now = self.ctx.clock.now()
        sender = self._sender()
        if session is not None:
            return enqueue_many_in(session, mails, now=now, sender=sender)
        with self.ctx.write("outbox") as own:
            return enqueue_many_in(own, mails, now=now, sender=sender)

    # --- delivery -------------------------------------------------------------------------
    def dispatch(self, *, limit: int | None = None, only_ids: Sequence[int] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> DispatchReport:
        """Deliver what is due now (at most ``limit`` mails), batch by batch.

        ``should_stop`` is asked before every mail: once it says yes (a shutdown), the mail
        in hand is finished and every other claimed row goes back to the queue untouched."""
        token = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        stop = should_stop or _never
        report = DispatchReport()
        self._settle_interrupted(report)
        done = 0
        connection = _Connection(self._transport_factory)  # one SMTP connection per pass
        try:
            while limit is None or done < limit:
                if stop():
                    report.stopped = True
                    break
                size = self.batch_size if limit is None else min(self.batch_size, limit - done)
                batch = self._claim(token, size, only_ids)
                if not batch:
                    break
                outcome = self._deliver(token, batch, stop, connection)
                report.add(outcome)
                done += len(batch)
                self.ctx.changed("outbox", "activity")
                if outcome.server_unreachable or outcome.stopped:
                    break  # the rest waits for the next run instead of timing out batch by batch
        finally:
            connection.close()
        report.pending = self._count_waiting()
        report.held, report.held_until = self._count_held(token)
        return report

    def flush(self) -> DispatchReport:
        """Everything due now is sent, failed, or rescheduled; then return."""
        return self.dispatch()

    def _settle_interrupted(self, report: DispatchReport) -> None:
        """Rows a dead dispatcher had begun to deliver (stamped, lease over) may have arrived:
        they are failed with the reason, never sent again by themselves."""
        o = EmailOutbox
        now = self.ctx.clock.now()
        with self.ctx.write() as session:
            rows = session.execute(
                select(o.id, o.user_id, o.kind, o.subject, o.sent_at).where(
                    o.status == "sending", o.lease_until < now, o.sent_at.is_not(None))).all()
            for mail_id, user, kind, subject, began in rows:
                message = INTERRUPTED.format(at=_as_utc(began))
                changed = session.execute(
                    update(o).where(o.id == mail_id, o.status == "sending",
                                    o.lease_until < now, o.sent_at.is_not(None))
                    .values(status="failed", last_error=message, lease_until=None,
                            sent_at=None)
                    .execution_options(synchronize_session=False))
                if not (changed.rowcount if isinstance(changed, CursorResult) else 1):
                    continue  # another dispatcher settled it first
                record(session, user, "email_failed",
                       {"mail_id": mail_id, "kind": kind, "subject": subject,
                        "error": message[:500]}, now)
                report.failed += 1
                if message not in report.errors:
                    report.errors.append(message)
                log.warning("Outbox mail %s: %s", mail_id, message)
        if rows:
            self.ctx.changed("outbox", "activity")

    def _claim(self, token: str, size: int, only_ids: Sequence[int] | None) -> list[_Claimed]:
        now = self.ctx.clock.now()
        o = EmailOutbox
        due = or_(
            and_(o.status == "pending", o.next_attempt_at <= now),
            # Its dispatcher died before handing it over (no stamp): safe to take again.
            and_(o.status == "sending", o.lease_until < now, o.sent_at.is_(None)),
        )
        query = select(o.id).where(due)
        if only_ids is not None:
            query = query.where(o.id.in_(list(only_ids)))
        query = query.order_by(o.next_attempt_at, o.id).limit(size)
        with self.ctx.write() as session:
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(session.scalars(query))
            if not ids:
                return []
            session.execute(
                update(o).where(o.id.in_(ids))
                .values(status="sending", claimed_by=token, lease_until=now + self.lease,
                        attempts=o.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            rows = session.execute(  # plain columns: no ORM objects for thousands of rows
                select(o.id, o.recipient, o.subject, o.body_text, o.body_html, o.attachments,
                       o.message_id, o.attempts, o.kind, o.user_id)
                .where(o.id.in_(ids), o.claimed_by == token).order_by(o.id)
            ).all()
            return [
                _Claimed(id=r.id, recipient=r.recipient, subject=r.subject,
                         body_text=r.body_text, body_html=r.body_html,
                         attachments=tuple(r.attachments or ()), message_id=r.message_id,
                         attempts=r.attempts, kind=r.kind, user_id=r.user_id)
                for r in rows
            ]

    def _deliver(self, token: str, batch: list[_Claimed],
                 stop: Callable[[], bool] = lambda: False,
                 connection: _Connection | None = None) -> DispatchReport:
        report = DispatchReport()
        started = time.monotonic()
        # Stop with a safety margin before our lease could run out under another dispatcher.
        budget = self.lease.total_seconds() * 0.8
        own = connection is None  # called alone (tests): the connection ends with the batch
        pass_connection = connection or _Connection(self._transport_factory)
        broken: DeliveryError | None = None
        sender = self._sender()
        headers = _Headers(sender)
        window: set[int] = set()  # stamped "delivery begun" in the database
        sent: list[_Claimed] = []  # handed to the server, not yet marked sent
        try:
            for index, mail in enumerate(batch):
                if stop():
                    self._advance(token, sent, [])
                    sent = []
                    self._release_all(token, [m.id for m in batch[index:]])
                    report.stopped = True
                    break
                if mail.attempts > self.policy.max_attempts:
                    self._finish_failed(token, mail, "Delivery was interrupted "
                                        f"{mail.attempts - 1} times; gave up.", report)
                    continue
                if mail.kind == CHAT_KIND:  # not SMTP: a broken mail server does not hold it
                    self._post_chat(token, mail, report)
                    continue
                if broken is not None:  # the connection is down: the rest waits too
                    self._record_error(token, mail, broken, report)
                    continue
                if time.monotonic() - started > budget:
                    self._release(token, mail.id)
                    continue
                if mail.id not in window:
                    # One transaction: the window before is marked sent, the next one stamped.
                    upcoming = [m.id for m in batch[index:] if m.kind != CHAT_KIND]
                    window = self._advance(token, sent, upcoming[:self.mark_every])
                    sent = []
                    if mail.id not in window:
                        continue  # our lease ran out and another dispatcher took it
                try:
                    message = headers.build(
                        mail, self.ctx.clock.now(),
                        list_unsubscribe_headers(self._unsubscribe())
                        if mail.kind in UNSUBSCRIBABLE else None)
                except (ValueError, TypeError, UnicodeError, binascii.Error) as exc:
                    # A mail that cannot be built never will be: fail it, go on with the rest.
                    self._record_error(token, mail, DeliveryError(
                        f"The mail cannot be built: {exc}", transient=False), report)
                    continue
                try:
                    pass_connection.get().send(message)
                except DeliveryError as exc:
                    if exc.connection:
                        broken = exc
                        report.server_unreachable = True
                    self._record_error(token, mail, exc, report)
                    continue
                finally:
                    if not self.reuse_connection:
                        pass_connection.close()
                sent.append(mail)
                report.sent += 1
        finally:
            try:
                if sent:
                    self._advance(token, sent, [])
            finally:
                if own:
                    pass_connection.close()
        return report

    def _post_chat(self, token: str, mail: _Claimed, report: DispatchReport) -> None:
        if mail.id not in self._advance(token, [], [mail.id]):  # stamped first, like a mail
            return  # our lease ran out and another dispatcher took it
        result = (self.chat(mail.body_text) if self.chat is not None else
                  NotifyResult(False, "Google Chat notices are not sent from here.",
                               skipped=True))
        if result.ok:
            self._advance(token, [mail], [])
            report.sent += 1
            return
        # Not configured, or a 4xx other than 429: retrying cannot help.
        transient = not result.skipped and (result.status is None or result.status == 429
                                            or result.status >= 500)
        self._record_error(token, mail, DeliveryError(result.message, transient=transient),
                           report)

    def _advance(self, token: str, sent: list[_Claimed], upcoming: list[int]) -> set[int]:
        """One transaction: ``sent`` become 'sent' with their activity rows, ``upcoming``
        are stamped as begun. Returns the stamped ids (rows we still hold)."""
        now = self.ctx.clock.now()
        stamped: set[int] = set()
        with self.ctx.write() as session:  # "activity" is announced per batch
            if sent:
                done = set(session.scalars(
                    _MARK_SENT, {"ids": [m.id for m in sent], "token": token, "now": now}))
                operator = session.info.get(OPERATOR_KEY)
                # With the status, in one transaction: "sent" in the log means sent.
                activity = [
                    {"user_id": m.user_id, "timestamp": now,
                     "activity_type": SENT_ACTIVITY.get(m.kind, "email_sent"),
                     "activity_data": {"mail_id": m.id, "kind": m.kind, "subject": m.subject,
                                       **({"actor": operator} if operator and m.user_id is None
                                          else {})}}
                    for m in sent if m.id in done]
                if activity:
                    session.execute(_LOG_SENT, activity)
                for m in sent:
                    if m.id not in done:
                        log.warning("Outbox mail %s was sent after its lease ran out", m.id)
            if upcoming:
                stamped = set(session.scalars(
                    _STAMP_BEGUN, {"ids": upcoming, "token": token, "now": now}))
        return stamped

    def _record_error(self, token: str, mail: _Claimed, error: DeliveryError,
                      report: DispatchReport) -> None:
        message = str(error)
        if message not in report.errors:
            report.errors.append(message)
        if not error.transient:
            self._finish_failed(token, mail, message, report)
        elif mail.attempts >= self.policy.max_attempts:
            self._finish_failed(
                token, mail, f"{message} (gave up after {mail.attempts} attempts)", report)
        else:
            o = EmailOutbox
            later = self.ctx.clock.now() + self.policy.delay(mail.attempts)
            with self.ctx.write() as session:
                session.execute(
                    update(o).where(o.id == mail.id, o.claimed_by == token,
                                    o.status == "sending")
                    .values(status="pending", next_attempt_at=later, last_error=message,
                            lease_until=None, claimed_by=None, sent_at=None)
                    .execution_options(synchronize_session=False)
                )
            report.retrying += 1

    def _finish_failed(self, token: str, mail: _Claimed, message: str,
                       report: DispatchReport) -> None:
        o = EmailOutbox
        with self.ctx.write() as session:  # "activity" is announced per batch
            result = session.execute(
                update(o).where(o.id == mail.id, o.claimed_by == token, o.status == "sending")
                .values(status="failed", last_error=message, lease_until=None, sent_at=None)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount if isinstance(result, CursorResult) else 1:
                record(session, mail.user_id, "email_failed",
                       {"mail_id": mail.id, "kind": mail.kind, "subject": mail.subject,
                        "error": message[:500]}, self.ctx.clock.now())
        report.failed += 1
        log.warning("Outbox mail %s failed: %s", mail.id, message)

    def _release(self, token: str, mail_id: int) -> None:
        """Give an untried row back (the attempt it was charged did not happen)."""
        self._release_all(token, [mail_id])

    def _release_all(self, token: str, ids: list[int]) -> None:
        """Give untried rows back in one statement (a shutdown must not wait on each)."""
        o = EmailOutbox
        with self.ctx.write() as session:
            session.execute(
                update(o).where(o.id.in_(ids), o.claimed_by == token, o.status == "sending")
                .values(status="pending", lease_until=None, claimed_by=None, sent_at=None,
                        attempts=o.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    def _count_held(self, token: str) -> tuple[int, datetime | None]:
        """Rows left 'sending' under someone else's lease that has not run out yet."""
        o = EmailOutbox
        now = self.ctx.clock.now()
        with self.ctx.read() as session:
            count, until = session.execute(
                select(func.count(o.id), func.max(o.lease_until)).where(
                    o.status == "sending", o.lease_until >= now,
                    or_(o.claimed_by.is_(None), o.claimed_by != token))).one()
        return int(count or 0), until

    def _count_waiting(self) -> int:
        o = EmailOutbox
        with self.ctx.read() as session:
            return int(session.scalar(
                select(func.count(o.id)).where(o.status.in_(("pending", "sending")))) or 0)

    # --- how delivery is going -------------------------------------------------------------
    def health(self, actor: Actor) -> OutboxHealth:
        """Waiting and failing mails, for the desktop's status line (managers)."""
        require_manager(actor, "see the outbox")
        return self._health()

    def delivery_delayed(self) -> bool:
        """True while queued mail is not getting out (its last attempt failed). Tells a
        driver no more than that their mail may be late."""
        return self._health().failing > 0

    def _health(self) -> OutboxHealth:
        o = EmailOutbox
        now = self.ctx.clock.now()
        waiting_now = o.status.in_(("pending", "sending"))
        failing = and_(waiting_now, o.last_error.is_not(None))
        recent_failure = and_(o.status == "failed", o.created_at >= now - FAILED_RECENTLY)
        with self.ctx.read() as session:
            waiting, troubled, since = session.execute(
                select(func.count(o.id), func.count(case((failing, o.id))),
                       func.min(case((failing, o.created_at)))).where(waiting_now)).one()
            failed = session.scalar(select(func.count(o.id)).where(recent_failure)) or 0
            last_error = session.scalar(
                select(o.last_error).where(or_(failing, recent_failure))
                .order_by(o.next_attempt_at.desc(), o.id.desc()).limit(1))
        if isinstance(since, str):  # SQLite's MIN() comes back as text
            since = datetime.fromisoformat(since)
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return OutboxHealth(waiting=int(waiting or 0), failing=int(troubled or 0),
                            failed=int(failed), last_error=last_error, since=since)

    # --- the Outbox screen ----------------------------------------------------------------
    def counts(self, actor: Actor) -> dict[str, int]:
        require_manager(actor, "see the outbox")
        with self.ctx.read() as session:
            rows = session.execute(
                select(EmailOutbox.status, func.count(EmailOutbox.id))
                .group_by(EmailOutbox.status)).all()
        found = {str(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def list(self, actor: Actor, *, status: str | None = None, offset: int = 0,
             limit: int = 100) -> Page[OutboxView]:
        """Newest first. ``status`` 'pending' includes mails being sent right now."""
        require_manager(actor, "see the outbox")
        if status is not None and status not in STATUSES:
            raise ValidationError(f"Unknown outbox status '{status}'.")
        limit = max(1, min(limit, 1000))
        o = EmailOutbox
        conditions: list[ColumnElement[bool]] = []
        if status == "pending":
            conditions.append(o.status.in_(("pending", "sending")))
        elif status is not None:
            conditions.append(o.status == status)
        with self.ctx.read() as session:
            total = int(session.scalar(select(func.count(o.id)).where(*conditions)) or 0)
            rows = session.execute(
                select(o, User.username).outerjoin(User, User.id == o.user_id)
                .where(*conditions).order_by(o.created_at.desc(), o.id.desc())
                .offset(max(0, offset)).limit(limit)
            ).all()
            items = [_view(row, username) for row, username in rows]
        return Page(items=items, total=total, offset=offset, limit=limit)

    def detail(self, actor: Actor, mail_id: int) -> OutboxDetail:
        require_manager(actor, "see the outbox")
        with self.ctx.read() as session:
            row = session.execute(
                select(EmailOutbox, User.username).outerjoin(User, User.id == EmailOutbox.user_id)
                .where(EmailOutbox.id == mail_id)).first()
            if row is None:
                raise NotFoundError(f"There is no mail {mail_id} in the outbox.")
            mail, username = row
            return OutboxDetail(
                entry=_view(mail, username), body_text=mail.body_text,
                has_html=mail.body_html is not None,
                attachments=tuple(str(a.get("filename", "")) for a in mail.attachments or ()),
            )

    def retry(self, actor: Actor, ids: Sequence[int] | None = None) -> DispatchReport:
        """"Retry now": failed mails get a fresh retry budget, waiting ones become due now;
        then they are delivered at once."""
        require_manager(actor, "retry mails")
        o = EmailOutbox
        now = self.ctx.clock.now()
        scope = [o.id.in_(list(ids))] if ids is not None else []
        with self.ctx.write("outbox") as session:
            chosen = list(session.scalars(
                select(o.id).where(o.status.in_(("pending", "failed")), *scope)))
            if not chosen:
                return DispatchReport(pending=self._count_waiting())
            session.execute(
                update(o).where(o.id.in_(chosen), o.status == "failed")
                .values(status="pending", attempts=0, sent_at=None)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(o).where(o.id.in_(chosen), o.status == "pending")
                .values(next_attempt_at=now).execution_options(synchronize_session=False)
            )
        return self.dispatch(only_ids=chosen)

    def deliver_now(self, mail_id: int) -> OutboxView:
        """Send one queued mail right away (the Settings screen's test mail) and return its fate."""
        self.dispatch(only_ids=[mail_id])
        with self.ctx.read() as session:
            row = session.get(EmailOutbox, mail_id)
            if row is None:
                raise NotFoundError(f"There is no mail {mail_id} in the outbox.")
            return _view(row, None)


def _never() -> bool:
    return False


def _view(row: EmailOutbox, username: str | None) -> OutboxView:
    return OutboxView(
        id=row.id, kind=row.kind, recipient=row.recipient, subject=row.subject,
        status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
        last_error=row.last_error, created_at=row.created_at, sent_at=row.sent_at,
        user_id=row.user_id, username=username,
    )


class _Connection:
    """The SMTP transport of one dispatch pass: opened with the first mail, kept across the
    pass's batches, closed at its end (the transport reconnects by itself if dropped)."""

    def __init__(self, factory: Callable[[], MailTransport]) -> None:
        self._factory = factory
        self._transport: MailTransport | None = None

    def get(self) -> MailTransport:
        if self._transport is None:
            self._transport = self._factory()
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            transport, self._transport = self._transport, None
            transport.close()


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Headers:
    """Builds the messages of one pass: the From line once, the Date line once a second,
    text + HTML mails straight to bytes (``build_raw``), anything else through the email
    package."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self._from = from_header(sender)
        self._date: tuple[datetime, bytes] | None = None

    def build(self, mail: _Claimed, now: datetime,
              extra: Mapping[str, str] | None = None) -> EmailMessage | RawMail:
        """``extra``: headers of this mail alone (List-Unsubscribe on reminders, reports)."""
        if mail.body_html is not None and can_build_raw(
                sender=self.sender, recipient=mail.recipient, html=mail.body_html,
                attachments=mail.attachments):
            second = now.replace(microsecond=0)
            if self._date is None or self._date[0] != second:
                self._date = (second, date_header(second))
            return build_raw(sender_header=self._from, recipient=mail.recipient,
                             subject=mail.subject, text=mail.body_text, html=mail.body_html,
                             message_id=mail.message_id, date_header=self._date[1],
                             headers=extra)
        return build_message(
            sender=self.sender, recipient=mail.recipient, subject=mail.subject,
            text=mail.body_text, html=mail.body_html, message_id=mail.message_id, date=now,
            attachments=mail.attachments, headers=extra)
