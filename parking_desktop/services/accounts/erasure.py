"""Right to erasure: a manager erases a driver.

What happens, in one transaction (files and cache after it commits):

* the account becomes a pseudonym: username ``erased-<id>``, no e-mail, no name, a password
  hash no password can match, deactivated;
* their reservations keep lot, spot, times, price and cost (the dashboard and monthly figures
  stay right) and the link to the pseudonym, but lose the vehicle number (all stars) and note;
* their activity entries and every mail to or about them (queued or sent) are deleted; entries
  of other people (an attendant's check-in of their car) keep their meaning with the plate,
  name and address replaced;
* their exports (records and files) are deleted, and any other export file in the export
  folder that names them is deleted and its record marked expired;
* the cache is emptied and compacted, so no copy of a view of theirs is left on disk;
* other people's rows that name them (activity, job history, money exceptions, shift reasons
  and comments, mail to managers such as a Z-report) keep their meaning with the plate, name and
  address replaced by the pseudonym;
* payments are never changed (accounting records; a trigger refuses it): new ones never name a
  driver (``driver, self-service``; a reason naming the stay's driver is refused), and the count
  of older ones that still do is reported (``payments_kept``, docs/privacy.md);
* the erasure is recorded as a ``user_erased`` entry holding counts and the pseudonym only.

Refused, with the reason, while the driver has an open booking or an unpaid balance
(``unpaid_balance``: a completed stay with no payment)."""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import (
    ExportJob,
    JobRun,
    ParkingLot,
    ParkingSpot,
    Reservation,
    User,
    UserActivity,
)
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.adapters.db.models_money import MoneyException, Payment, Shift
from parking_desktop.adapters.db.models_privacy import MailPreference
from parking_desktop.domain.errors import ConflictError, NotFoundError
from parking_desktop.domain.fee import money
from parking_desktop.domain.money import PaymentKind
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.domain.states import OPEN_BOOKINGS, BookingStatus
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.money.formatting import format_money
from parking_desktop.services.money.policy import MoneyPolicy
from parking_desktop.services.parking.activity import record

PSEUDONYM_PREFIX = "erased-"
CHUNK = 1 << 20


@dataclass(frozen=True)
class ErasureResult:
    user_id: int
    pseudonym: str
    reservations: int
    activity_deleted: int
    activity_scrubbed: int
    mails_deleted: int
    exports_deleted: int
    files_deleted: int
    # Payments written before self-service payments stopped naming the driver (or with a
    # reason naming them): accounting records, never changed, so they still do.
    payments_kept: int = 0


def unpaid_balance(session: Session, user_id: int) -> Decimal:
    """What the driver still owes: the cost of their completed stays that have no payment row.

    Money has no settlement of ``account`` payments (billing to the account happens outside the
    program; the payment row is the stay's settlement as far as the program knows), so a stay
    is unpaid when its check-out recorded no payment at all. Stays that ended before the first
    payment on the site were closed by the program before payments existed (migration 0007
    recorded none for them, docs/money.md) and count as settled. Open bookings are refused by
    their own check before this one (docs/privacy.md)."""
    first = session.scalar(select(func.min(Payment.taken_at)))
    if first is None:
        return Decimal("0.00")
    paid = select(Payment.id).where(
        Payment.reservation_id == Reservation.id, Payment.kind == PaymentKind.PAYMENT.value
    )
    owed = session.scalar(
        select(func.coalesce(func.sum(Reservation.cost), 0)).where(
            Reservation.user_id == user_id,
            Reservation.status == BookingStatus.COMPLETED.value,
            Reservation.cost > 0,
            Reservation.left_at >= first,
            ~exists(paid),
        )
    )
    return money(Decimal(str(owed)))


@dataclass(frozen=True)
class _Needles:
    """The personal values to look for (plates, username, name, e-mail address), replaced by
    the pseudonym wherever they stand as a whole word in a text ("History of dora")."""

    values: frozenset[str]
    pseudonym: str

    def likes(self) -> list[str]:
        return sorted(v.lower() for v in self.values)

    @property
    def pattern(self) -> re.Pattern[str]:
        words = "|".join(re.escape(v) for v in sorted(self.values, key=len, reverse=True))
        return re.compile(rf"(?<![\w.@-])(?:{words})(?![\w@-])", re.IGNORECASE)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, str):
            return self.pattern.sub(self.pseudonym, value)
        return value


class ErasureService:
    def __init__(
        self,
        ctx: ServiceContext,
        export_folder: Path,
        forget_cached: Callable[[], None] | None = None,
        policy: MoneyPolicy | None = None,
    ) -> None:
        self.ctx = ctx
        self.policy = policy or MoneyPolicy()
        self.export_folder = export_folder
        self._forget_cached = forget_cached or (lambda: None)

    def erase(self, actor: Actor, user_id: int) -> ErasureResult:
        require_manager(actor, "erase a driver")
        now = self.ctx.clock.now()
        files: list[Path] = []
        with self.ctx.write("users", "reservations", "activity", "exports") as session:
            user = session.scalar(select(User).where(User.id == user_id).with_for_update())
            if user is None:
                raise NotFoundError(f"There is no user with id {user_id}.")
            if user.role != Role.DRIVER.value:
                raise ConflictError(
                    "Only a driver's account can be erased; staff accounts are deactivated instead."
                )
            pseudonym = f"{PSEUDONYM_PREFIX}{user.id}"
            if user.username == pseudonym and user.email is None:
                raise ConflictError(f"This account was already erased ({pseudonym}).")
            self._refuse_while_owed(session, user)
            plates = set(
                session.scalars(
                    select(Reservation.vehicle_number).where(Reservation.user_id == user.id)
                ).all()
            )
            needles = _Needles(
                frozenset(
                    v
                    for v in (*plates, user.username, user.full_name or "", user.email or "")
                    if len(v) >= 2
                ),
                pseudonym,
            )
            reservations = self._strip_reservations(session, user.id)
            activity_deleted = _rowcount(
                session.execute(
                    delete(UserActivity)
                    .where(UserActivity.user_id == user.id)
                    .execution_options(synchronize_session=False)
                )
            )
            mail_match = [EmailOutbox.user_id == user.id]
            if user.email:
                mail_match.append(EmailOutbox.recipient == user.email)
            mails_deleted = _rowcount(
                session.execute(
                    delete(EmailOutbox)
                    .where(or_(*mail_match))
                    .execution_options(synchronize_session=False)
                )
            )
            exports_deleted, files = self._drop_exports(session, user.id)
            scrubbed = self._scrub_others(session, needles)
            payments_kept = _payments_naming(session, needles)
            user.username = pseudonym
            user.email = None
            user.full_name = ""
            user.password_hash = "!erased:" + secrets.token_hex(16)  # matches no password
            user.is_active = False
            user.last_login = None
            user.last_booking = None
            user.failed_logins = 0
            user.locked_until = None
            self._drop_preferences(session, user.id)
            result = ErasureResult(
                user.id,
                pseudonym,
                reservations,
                activity_deleted,
                scrubbed,
                mails_deleted,
                exports_deleted,
                0,
                payments_kept,
            )
            record(
                session,
                actor.user_id,
                "user_erased",
                {
                    "user_id": user.id,
                    "pseudonym": pseudonym,
                    "reservations": reservations,
                    "activity_deleted": activity_deleted,
                    "activity_scrubbed": scrubbed,
                    "mails_deleted": mails_deleted,
                    "exports_deleted": exports_deleted,
                    "payments_kept": payments_kept,
                },
                now,
            )
        removed = self._delete_files(files)
        removed += self._delete_files_naming(needles)
        self._forget_cached()
        return ErasureResult(**{**result.__dict__, "files_deleted": removed})

    # --- steps ------------------------------------------------------------------------------
    def _refuse_while_owed(self, session: Session, user: User) -> None:
        open_booking = session.execute(
            select(Reservation.id, ParkingLot.name)
            .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
            .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
            .where(
                Reservation.user_id == user.id,
                Reservation.status.in_([s.value for s in OPEN_BOOKINGS]),
            )
        ).first()
        if open_booking is not None:
            raise ConflictError(
                f"{user.username} has an open booking (#{open_booking[0]} at {open_booking[1]}); "
                "it must be released or cancelled before the account can be erased."
            )
        owed = unpaid_balance(session, user.id)
        if owed > 0:
            due = format_money(owed, self.policy.currency, self.policy.locale)
            raise ConflictError(
                f"{user.username} has an unpaid balance of {due} (a completed stay with no "
                "payment recorded); it must be settled before the account can be erased."
            )

    @staticmethod
    def _strip_reservations(session: Session, user_id: int) -> int:
        rows = session.execute(
            select(Reservation.id, Reservation.vehicle_number).where(Reservation.user_id == user_id)
        ).all()
        if rows:
            session.execute(
                update(Reservation).execution_options(synchronize_session=False),
                [
                    {"id": rid, "vehicle_number": "*" * len(plate), "note": None}
                    for rid, plate in rows
                ],
            )
        return len(rows)

    def _drop_exports(self, session: Session, user_id: int) -> tuple[int, list[Path]]:
        """Their exports: asked for by them, or of their history (a manager's export of one
        driver, their data bundle)."""
        jobs = session.execute(
            select(ExportJob.id, ExportJob.requested_by, ExportJob.file_path, ExportJob.scope)
        ).all()
        theirs = [
            (jid, path)
            for jid, requester, path, scope in jobs
            if requester == user_id or (scope or {}).get("user_id") == user_id
        ]
        if theirs:
            session.execute(
                delete(ExportJob)
                .where(ExportJob.id.in_([j for j, _ in theirs]))
                .execution_options(synchronize_session=False)
            )
        return len(theirs), [Path(p) for _, p in theirs if p]

    @staticmethod
    def _scrub_others(session: Session, needles: _Needles) -> int:
        """Other rows that name them: activity of other people, job history."""
        changed = 0
        documents: tuple[tuple[Any, Any], ...] = (
            (UserActivity, UserActivity.activity_data),
            (JobRun, JobRun.counts),
            (ExportJob, ExportJob.scope),
            (MoneyException, MoneyException.details),
        )
        for model, column in documents:
            text = cast(column, String)
            rows = session.execute(
                select(model.id, column).where(
                    or_(*(func.lower(text).contains(n) for n in needles.likes()))
                )
            ).all()
            for row_id, data in rows:
                clean = needles.scrub(data)
                if clean != data:
                    session.execute(
                        update(model).where(model.id == row_id).values({column.key: clean})
                    )
                    changed += 1
        texts: tuple[tuple[Any, Any], ...] = (
            (JobRun, JobRun.error),
            (ExportJob, ExportJob.error_message),
            (MoneyException, MoneyException.reason_text),
            (MoneyException, MoneyException.actor_name),
            (Shift, Shift.difference_reason),
            (Shift, Shift.manager_comment),
        )
        for model, column in texts:
            rows = session.execute(
                select(model.id, column).where(
                    or_(*(func.lower(column).contains(n) for n in needles.likes()))
                )
            ).all()
            for row_id, value in rows:
                clean = needles.scrub(value)
                if clean != value:
                    session.execute(
                        update(model).where(model.id == row_id).values({column.key: clean})
                    )
                    changed += 1
        return changed + _scrub_mail_of_others(session, needles)

    @staticmethod
    def _drop_preferences(session: Session, user_id: int) -> None:
        """Mail preferences go with the account: an erased one gets no mail anyway."""
        session.execute(
            delete(MailPreference)
            .where(MailPreference.user_id == user_id)
            .execution_options(synchronize_session=False)
        )

    def _delete_files(self, files: Iterable[Path]) -> int:
        removed = 0
        for path in files:
            if self._inside(path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed

    def _delete_files_naming(self, needles: _Needles) -> int:
        """Any other export file (a manager's export of a lot, of everything) that names them
        is deleted; its record says expired, as if its time had come."""
        if not self.export_folder.is_dir():
            return 0
        wanted = [n.encode("utf-8") for n in needles.values]
        hits = [
            p
            for p in self.export_folder.iterdir()
            if p.is_file() and not p.is_symlink() and _contains_any(p, wanted)
        ]
        if not hits:
            return 0
        with self.ctx.write("exports") as session:
            session.execute(
                update(ExportJob)
                .where(ExportJob.file_path.in_([str(p) for p in hits]))
                .values(status="expired", file_path=None)
                .execution_options(synchronize_session=False)
            )
        return self._delete_files(hits)

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve().parent == self.export_folder.resolve()
        except OSError:
            return False


def _payments_naming(session: Session, needles: _Needles) -> int:
    """Payments still naming them: only rows written before drivers' own payments were
    recorded as ``driver, self-service`` (new reasons naming a driver are refused)."""
    hits = [
        func.lower(column).contains(n)
        for n in needles.likes()
        for column in (Payment.taken_by_name, Payment.reason_text)
    ]
    return int(session.scalar(select(func.count(Payment.id)).where(or_(*hits))) or 0)


def _scrub_mail_of_others(session: Session, needles: _Needles) -> int:
    """Mail to other people that names them (a Z-report or an exceptions digest listing their
    plate, sent to managers): subject and bodies scrubbed, text attachments too; an attachment
    that cannot be rewritten (the Z-report's PDF, compressed) is dropped from a mail whose text
    named them, since it says the same thing. Their own mail was deleted before this."""
    hits = [
        func.lower(column).contains(n)
        for n in needles.likes()
        for column in (
            EmailOutbox.subject,
            EmailOutbox.body_text,
            EmailOutbox.body_html,
            EmailOutbox.last_error,
            cast(EmailOutbox.attachments, String),
        )
    ]
    changed = 0
    rows = list(session.scalars(select(EmailOutbox).where(or_(*hits)))) if hits else []
    for mail in rows:
        texts = (mail.subject, mail.body_text, mail.body_html, mail.last_error)
        named = any(t is not None and needles.scrub(t) != t for t in texts)
        attachments = []
        for item in mail.attachments or []:
            kept = _scrub_attachment(item, needles, drop_binary=named)
            if kept is not None:
                attachments.append(kept)
        mail.subject = needles.scrub(mail.subject)
        mail.body_text = needles.scrub(mail.body_text)
        mail.body_html = needles.scrub(mail.body_html)
        mail.last_error = needles.scrub(mail.last_error)
        mail.attachments = attachments
        changed += 1
    session.flush()
    return changed


def _scrub_attachment(
    item: dict[str, Any], needles: _Needles, *, drop_binary: bool
) -> dict[str, Any] | None:
    try:
        data = base64.b64decode(str(item.get("data", "")))
    except ValueError:
        return None
    if str(item.get("content_type", "")).startswith("text/"):
        text = data.decode("utf-8", errors="replace")
        clean = needles.scrub(text)
        if clean == text:
            return item
        return {**item, "data": base64.b64encode(clean.encode("utf-8")).decode("ascii")}
    lowered = data.lower()
    if drop_binary or any(v.lower().encode("utf-8") in lowered for v in needles.values):
        return None
    return item


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _contains_any(path: Path, needles: list[bytes]) -> bool:
    """Whether the file holds one of ``needles``, read a chunk at a time (files can be large);
    chunks overlap so a value split across two is still found."""
    if not needles:
        return False
    keep = max(len(n) for n in needles)
    tail = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                window = tail + chunk
                if any(n in window for n in needles):
                    return True
                tail = window[-keep:]
    except OSError:
        return False
    return False
