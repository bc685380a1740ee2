"""Queue many job mails in batches, once each, and log one activity row per recipient.

The activity row says "queued" (``reminder_queued``, ``monthly_report_queued``): queueing is
all a job does. The outbox writes the "sent" row when the server took the mail.

The jobs hand their mails to a ``MailQueue`` (the e-mail outbox behind it). Every mail has an
idempotency key (``reminder:<user>:<date>``, ``monthly:<user>:<YYYY-MM>``); the queue returns
the keys it had not seen before, so running a period again - a run that died half-way and is
finished later, or a manual run - queues nothing twice. A batch's mails and its activity rows
are written in one transaction: a run killed half-way leaves whole batches behind, never a mail
without its activity row or the other way round."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import UserActivity
from parking_desktop.services.context import ServiceContext

P = TypeVar("P")


@dataclass(frozen=True)
class Recipient:
    user_id: int
    username: str
    email: str
    full_name: str = ""

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass(frozen=True)
class JobMail(Generic[P]):
    recipient: Recipient
    idempotency_key: str
    payload: P


# Writes prepared mails in the given transaction; returns the idempotency keys that were new
# (the rest had been queued before and are left alone).
StoreMails = Callable[[Session], set[str]]


class MailQueue(Protocol[P]):
    def __call__(self, mails: Sequence[JobMail[P]]) -> StoreMails:
        """Render ``mails`` (outside any transaction: no write lock is held meanwhile) and
        return the function that stores them."""
        ...


@dataclass(frozen=True)
class BatchResult:
    queued: int  # new mails queued by this run (the outbox delivers them later)
    repeated: int  # mails an earlier run of the same period had already queued


def chunks(items: Iterable[P], size: int) -> Iterator[list[P]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def recorded_query(activity_types: tuple[str, ...], period_field: str, period_value: str,
                   since: datetime) -> Any:
    """The user ids that have this period's activity row (any of ``activity_types``)."""
    return select(UserActivity.user_id).where(
        UserActivity.user_id.is_not(None),  # NOT IN with a NULL in it matches nothing
        UserActivity.activity_type.in_(activity_types),
        UserActivity.timestamp >= since,
        UserActivity.activity_data[period_field].as_string() == period_value,
    )


def recorded_user_ids(
    session: Session, activity_type: str, period_field: str, period_value: str, since: datetime,
    also: tuple[str, ...] = (),
) -> set[int]:
    """Users who already have this period's activity row (one query for everyone). ``also``:
    older names of the same row (history is never rewritten, so they stay valid)."""
    rows = session.scalars(
        recorded_query((activity_type, *also), period_field, period_value, since))
    return {int(uid) for uid in rows if uid is not None}


def queue_in_batches(
    ctx: ServiceContext,
    mails: Iterable[JobMail[P]],
    queue: MailQueue[P],
    *,
    activity_type: str,
    period_field: str,
    period_value: str,
    activity_since: datetime,
    activity_data: Callable[[JobMail[P]], dict[str, Any]],
    heartbeat: Callable[[], None],
    batch_size: int,
    also_recorded_as: tuple[str, ...] = (),
) -> BatchResult:
    with ctx.read() as session:
        done = recorded_user_ids(session, activity_type, period_field, period_value,
                                 activity_since, also_recorded_as)
    queued = repeated = 0
    for batch in chunks(mails, batch_size):
        store = queue(batch)
        now = ctx.clock.now()
        with ctx.write() as session:
            new_keys = store(session)
            # Normally exactly the new mails; also any recipient whose mail some other path
            # queued without the activity row.
            rows = [
                {"user_id": m.recipient.user_id, "activity_type": activity_type,
                 "activity_data": {period_field: period_value, **activity_data(m)},
                 "timestamp": now}
                for m in batch
                if m.idempotency_key in new_keys or m.recipient.user_id not in done
            ]
            if rows:
                session.execute(insert(UserActivity), rows)  # one executemany per batch
        done.update(m.recipient.user_id for m in batch)
        queued += len(new_keys)
        repeated += len(batch) - len(new_keys)
        heartbeat()
    if queued:
        ctx.changed("activity", "outbox")
    return BatchResult(queued=queued, repeated=repeated)
