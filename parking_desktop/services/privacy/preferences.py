"""Drivers' mail preferences: the daily reminders and the monthly reports, each on or off.

A driver changes their own at the kiosk; a manager changes anyone's on the driver's page, on
the command line, or by pasting / importing unsubscribe requests (the program reads no
mailbox: the requests that reach MAIL_UNSUBSCRIBE_ADDRESS are handed to it). A change takes
effect at once: the jobs read the table when they select whom to mail. No row = both on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import User
from parking_desktop.adapters.db.models_privacy import MailPreference
from parking_desktop.domain.errors import NotFoundError, ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager, require_self_or_manager
from parking_desktop.services.parking.activity import record

SOURCES = ("kiosk", "desktop", "cli", "request")
# An address anywhere in a line: "a@b.c", "<a@b.c>", "mailto:a@b.c?subject=unsubscribe".
ADDRESS_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
MAX_REQUEST_TEXT = 5_000_000  # characters: a pasted or imported list, not a mailbox dump


@dataclass(frozen=True)
class MailPreferencesView:
    user_id: int
    username: str
    reminders: bool
    reports: bool
    updated_at: datetime | None = None  # None: never changed (both on)
    source: str | None = None


@dataclass(frozen=True)
class UnsubscribeResult:
    addresses: int  # distinct addresses found in the text
    unsubscribed: int  # drivers whose reminders and reports are now off
    already_off: int  # drivers who had both off already
    unknown: tuple[str, ...] = field(default_factory=tuple)  # no driver has that address

    def text(self) -> str:
        parts = [
            f"{self.unsubscribed} driver{'s' if self.unsubscribed != 1 else ''} "
            "unsubscribed from reminders and reports"
        ]
        if self.already_off:
            parts.append(f"{self.already_off} already were")
        if self.unknown:
            parts.append(
                f"{len(self.unknown)} address{'es' if len(self.unknown) != 1 else ''} "
                f"belong to no driver: {', '.join(self.unknown[:10])}"
                + (" …" if len(self.unknown) > 10 else "")
            )
        return "; ".join(parts) + "."


def addresses_in(text: str) -> list[str]:
    """The distinct e-mail addresses in ``text`` (lower case, first-seen order)."""
    seen: dict[str, None] = {}
    for match in ADDRESS_RE.finditer(text):
        seen.setdefault(match.group().lower().strip("."), None)
    return list(seen)


def opted_out(session: Session, kind: str) -> Any:
    """A SELECT of the user ids that turned ``kind`` ("reminders" or "reports") off: what the
    jobs leave out."""
    column = MailPreference.reminders if kind == "reminders" else MailPreference.reports
    return select(MailPreference.user_id).where(column.is_(False))


class MailPreferencesService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def get(self, actor: Actor, user_id: int) -> MailPreferencesView:
        require_self_or_manager(actor, user_id, "see mail preferences")
        with self.ctx.read() as session:
            user = self._driver(session, user_id)
            return self._view(user, session.get(MailPreference, user_id))

    def set(
        self,
        actor: Actor,
        user_id: int,
        *,
        reminders: bool | None = None,
        reports: bool | None = None,
        source: str = "desktop",
    ) -> MailPreferencesView:
        """Turn reminders and/or reports on or off (None: leave as it is)."""
        require_self_or_manager(actor, user_id, "change mail preferences")
        if source not in SOURCES:
            raise ValidationError(f"Unknown source of a preference change: {source}.")
        now = self.ctx.clock.now()
        with self.ctx.write("users", "activity") as session:
            user = self._driver(session, user_id)
            row = self._row(session, user_id, now, source)
            before = (row.reminders, row.reports)
            if reminders is not None:
                row.reminders = reminders
            if reports is not None:
                row.reports = reports
            if (row.reminders, row.reports) != before:
                row.updated_at, row.source = now, source
                record(
                    session,
                    actor.user_id,
                    "mail_preferences_changed",
                    {
                        "for_user_id": user_id,
                        "reminders": row.reminders,
                        "reports": row.reports,
                        "source": source,
                    },
                    now,
                )
            session.flush()
            return self._view(user, row)

    def apply_unsubscribe_requests(self, actor: Actor, text: str) -> UnsubscribeResult:
        """A manager pastes or imports unsubscribe requests (any text: the mails, a list of
        addresses, mailto: links); every driver with one of its addresses gets neither
        reminders nor reports any more. Addresses of nobody are listed back."""
        require_manager(actor, "apply unsubscribe requests")
        if len(text) > MAX_REQUEST_TEXT:
            raise ValidationError(
                "That is too much text for a list of unsubscribe requests "
                "(at most 5 million characters); split it."
            )
        found = addresses_in(text)
        if not found:
            raise ValidationError("No e-mail address was found in the requests.")
        now = self.ctx.clock.now()
        changed = already = 0
        with self.ctx.write("users", "activity") as session:
            users = {u.email: u for u in self._by_addresses(session, found)}
            for address in found:
                user = users.get(address)
                if user is None:
                    continue
                row = self._row(session, user.id, now, "request")
                if not row.reminders and not row.reports:
                    already += 1
                    continue
                row.reminders = row.reports = False
                row.updated_at, row.source = now, "request"
                changed += 1
            unknown = tuple(a for a in found if a not in users)
            # Counts only: the addresses themselves stay out of the log.
            record(
                session,
                actor.user_id,
                "unsubscribe_requests_applied",
                {
                    "addresses": len(found),
                    "unsubscribed": changed,
                    "already_off": already,
                    "unknown": len(unknown),
                },
                now,
            )
        return UnsubscribeResult(len(found), changed, already, unknown)

    # --- internals --------------------------------------------------------------------------
    @staticmethod
    def _by_addresses(session: Session, addresses: Iterable[str]) -> list[User]:
        wanted = list(addresses)
        found: list[User] = []
        for start in range(0, len(wanted), 500):  # bounded IN lists
            found += session.scalars(
                select(User).where(
                    User.role == Role.DRIVER.value,
                    func.lower(User.email).in_(wanted[start : start + 500]),
                )
            ).all()
        return found

    @staticmethod
    def _driver(session: Session, user_id: int) -> User:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"There is no user with id {user_id}.")
        if user.role != Role.DRIVER.value:
            raise ValidationError(
                "Mail preferences are for drivers: staff get no reminders or reports."
            )
        return user

    @staticmethod
    def _row(session: Session, user_id: int, now: datetime, source: str) -> MailPreference:
        row = session.get(MailPreference, user_id, with_for_update=True)
        if row is None:
            row = MailPreference(
                user_id=user_id, reminders=True, reports=True, updated_at=now, source=source
            )
            session.add(row)
        return row

    @staticmethod
    def _view(user: User, row: MailPreference | None) -> MailPreferencesView:
        if row is None:
            return MailPreferencesView(user.id, user.username, True, True)
        return MailPreferencesView(
            user.id, user.username, row.reminders, row.reports, row.updated_at, row.source
        )
