"""What every service needs: the database, the clock, the site's time zone, and a way to tell
the rest of the program (cache, other screens) that data changed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.engine import Database, storage_problem, violated_constraint
from parking_desktop.domain.clock import Clock
from parking_desktop.domain.errors import ConflictError, DomainError, ValidationError

log = logging.getLogger(__name__)

OPERATOR_KEY = "operator"
# The site's currency (the CURRENCY setting) in every session's info: the tariff store gives it
# to a flat version it makes for a lot or a stay that has none.
CURRENCY_KEY = "currency"
# Topics published after a successful write: "lots", "spots", "reservations", "users", "activity".
ChangeListener = Callable[[frozenset[str]], None]


@dataclass
class ServiceContext:
    db: Database
    clock: Clock
    tz: ZoneInfo
    listeners: list[ChangeListener] = field(default_factory=list)
    # Who runs this program when nobody signs in (the command line: "cli:user@host"). Activity
    # recorded for the system actor names it, so the audit trail says who made a CLI change.
    operator: str | None = None
    # Told of writes made by other processes (PostgreSQL change notices), e.g. open screens.
    remote_listeners: list[ChangeListener] = field(default_factory=list)
    currency: str = "EUR"  # the site's (CURRENCY setting): new tariff versions are in it

    def changed_elsewhere(self, topics: frozenset[str]) -> None:
        """Another process wrote ``topics``; listeners must not raise (logged if they do)."""
        for listener in list(self.remote_listeners):
            try:
                listener(topics)
            except Exception:
                log.exception("remote change listener %r failed for %s", listener,
                              sorted(topics))

    def changed(self, *topics: str) -> None:
        """Tell every listener. The change is already committed, so a failing listener is
        logged, not raised: the caller must not report a saved booking as failed."""
        for listener in list(self.listeners):
            try:
                listener(frozenset(topics))
            except Exception:
                log.exception("change listener %r failed for %s", listener, sorted(topics))

    @contextmanager
    def write(
        self,
        *topics: str,
        conflict: str = "That change clashes with another one; try again.",
        conflicts: Mapping[str, str] | None = None,
    ) -> Iterator[Session]:
        """A write unit of work. A database constraint failure (another writer got there
        first) becomes a ConflictError: ``conflicts`` maps a constraint or unique index name to
        its message, ``conflict`` covers the rest. On success, ``topics`` are announced."""
        try:
            with self.db.write() as session:
                if self.operator:
                    session.info[OPERATOR_KEY] = self.operator
                session.info[CURRENCY_KEY] = self.currency
                yield session
        except DomainError:
            raise
        except IntegrityError as exc:
            name = violated_constraint(exc)
            raise ConflictError((conflicts or {}).get(name or "", conflict)) from None
        except OperationalError as exc:
            raise ConflictError(_operational_message(exc)) from None
        except DataError as exc:
            raise ValidationError(_data_message(exc)) from None
        if topics:
            self.changed(*topics)

    def aware(self, moment: datetime | None) -> datetime | None:
        """A date filter typed by a person: a naive datetime means the site's local time."""
        if moment is None or moment.tzinfo is not None:
            return moment
        return moment.replace(tzinfo=self.tz)

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self.db.read() as session:
                session.info[CURRENCY_KEY] = self.currency
                yield session
        except (OperationalError, DataError) as exc:
            raise read_failure(exc) from None


def read_failure(exc: Exception) -> Exception:
    """What a read reports for ``exc``: a database that is busy, unreachable or out of space
    as a DomainError, bad data as a ValidationError, anything else as itself."""
    if isinstance(exc, OperationalError):
        return DomainError(_operational_message(exc))
    if isinstance(exc, DataError):
        return ValidationError(_data_message(exc))
    return exc


BUSY_HINTS = ("locked", "busy", "deadlock", "could not serialize", "lock timeout",
              "could not obtain lock", "canceling statement due to")


def _operational_message(exc: OperationalError) -> str:
    text: Any = str(exc.orig) if exc.orig is not None else str(exc)
    # SQLITE_BUSY, and PostgreSQL's deadlock / serialization / lock-timeout aborts: the
    # database is fine, another writer was in the way.
    if any(hint in text.lower() for hint in BUSY_HINTS):
        return "The database is busy; try again in a moment."
    if (problem := storage_problem(exc)) is not None:  # disk full is not "cannot be reached"
        return problem
    return "The database cannot be reached right now; try again in a moment."


def _data_message(exc: DataError) -> str:
    """A value the database refused (a rule the validation should have caught first)."""
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return f"The database refused a value: {lines[0] if lines else 'invalid data'}."
