"""What an export covers, who may ask for it, and how it becomes a filter for the writer.

Scopes: one driver's history, one lot, everything, or an attendant's shift; each can be limited
to a range of dates (site time zone, both ends included) and anonymised.

Roles (enforced here, not by hiding buttons): a manager may export anything; a driver only
their own history; an attendant only their own shift.

A **shift** is the last 12 hours before the request (a rolling window, so a night shift that
crosses midnight is covered): the reservations the attendant checked in during that time
(``created_by``) and those they checked out or force-released (their activity entries).

The eleven columns of an export have no driver column. One driver's history needs none; every
other scope spans many drivers, so it gets a trailing "Driver" column, after the eleven
listed ones. Anonymising replaces that column's names by stable pseudonyms and masks the
vehicle numbers (in every scope)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, User
from parking_desktop.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.exports.filters import ExportFilter, local_date_range

KINDS = ("driver", "lot", "all", "shift", "data")
SHIFT_HOURS = 12


@dataclass(frozen=True)
class ExportScope:
    kind: str = "all"
    user_id: int | None = None  # kind "driver"
    lot_id: int | None = None  # kind "lot"
    date_from: date | None = None  # reserved on or after this local day
    date_to: date | None = None  # reserved on or before this local day
    anonymize: bool = False
    email: bool = False  # e-mail the requester when ready (the kiosk's "E-mail me my history")

    @classmethod
    def driver(cls, user_id: int, **kw: Any) -> ExportScope:
        return cls(kind="driver", user_id=user_id, **kw)

    @classmethod
    def data(cls, user_id: int, **kw: Any) -> ExportScope:
        """A driver's data bundle (right of access): a ZIP, not a CSV (services/exports/bundle)."""
        return cls(kind="data", user_id=user_id, **kw)

    @classmethod
    def lot(cls, lot_id: int, **kw: Any) -> ExportScope:
        return cls(kind="lot", lot_id=lot_id, **kw)

    @classmethod
    def everything(cls, **kw: Any) -> ExportScope:
        return cls(kind="all", **kw)

    @classmethod
    def shift(cls, **kw: Any) -> ExportScope:
        return cls(kind="shift", **kw)

    @property
    def driver_column(self) -> bool:
        return self.kind not in ("driver", "data")

    @property
    def is_bundle(self) -> bool:
        return self.kind == "data"


@dataclass(frozen=True)
class ResolvedScope:
    """A checked scope plus what the job needs to run it later (stored as the job's JSON)."""

    scope: ExportScope
    label: str
    staff_id: int | None = None
    shift_since: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        s = self.scope
        return {
            "kind": s.kind, "user_id": s.user_id, "lot_id": s.lot_id,
            "date_from": s.date_from.isoformat() if s.date_from else None,
            "date_to": s.date_to.isoformat() if s.date_to else None,
            "anonymize": s.anonymize, "email": s.email, "label": self.label,
            "staff_id": self.staff_id,
            "shift_since": self.shift_since.isoformat() if self.shift_since else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResolvedScope:
        def day(value: Any) -> date | None:
            return date.fromisoformat(value) if value else None

        scope = ExportScope(
            kind=str(data.get("kind", "all")), user_id=data.get("user_id"),
            lot_id=data.get("lot_id"), date_from=day(data.get("date_from")),
            date_to=day(data.get("date_to")), anonymize=bool(data.get("anonymize")),
            email=bool(data.get("email")),
        )
        since = data.get("shift_since")
        return cls(scope=scope, label=str(data.get("label", "")),
                   staff_id=data.get("staff_id"),
                   shift_since=datetime.fromisoformat(since) if since else None)

    def export_filter(self, tz: ZoneInfo) -> ExportFilter:
        s = self.scope
        since, until = local_date_range(s.date_from, s.date_to, tz)
        return ExportFilter(
            user_id=s.user_id if s.kind == "driver" else None,
            lot_id=s.lot_id if s.kind == "lot" else None,
            since=since, until=until,
            staff_id=self.staff_id if s.kind == "shift" else None,
            staff_since=self.shift_since if s.kind == "shift" else None,
        )


def authorise(actor: Actor, scope: ExportScope) -> ExportScope:
    """The scope this actor may export, or PermissionDeniedError. A driver asking for "their
    history" without naming themselves gets their own."""
    if scope.kind not in KINDS:
        raise ValidationError(f"'{scope.kind}' is not a kind of export "
                              f"(choose one of {', '.join(KINDS)}).")
    if actor.role is Role.DRIVER:
        if scope.kind not in ("driver", "data") or scope.user_id not in (None, actor.user_id):
            raise PermissionDeniedError("A driver can only export their own parking history.")
        return ExportScope(**{**scope.__dict__, "user_id": actor.user_id})
    if actor.role is Role.ATTENDANT:
        if scope.kind != "shift":
            raise PermissionDeniedError(
                "An attendant can only export the check-ins and check-outs of their own shift "
                f"(the last {SHIFT_HOURS} hours)."
            )
        return scope
    return scope


def resolve(session: Session, actor: Actor, scope: ExportScope, now: datetime,
            tz: ZoneInfo) -> ResolvedScope:
    """Check the scope against the database and describe it in words."""
    scope = authorise(actor, scope)
    if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
        raise ValidationError("The start date must be on or before the end date.")
    parts: list[str]
    staff_id = None
    since = None
    if scope.kind == "driver":
        if scope.user_id is None:
            raise ValidationError("Choose the driver whose history to export.")
        user = session.get(User, scope.user_id)
        if user is None:
            raise NotFoundError(f"There is no user with id {scope.user_id}.")
        parts = [f"History of {user.username}"]
    elif scope.kind == "data":
        user = session.get(User, scope.user_id) if scope.user_id is not None else None
        if user is None:
            raise NotFoundError(f"There is no user with id {scope.user_id}.")
        parts = [f"Personal data of {user.username}"]
    elif scope.kind == "lot":
        if scope.lot_id is None:
            raise ValidationError("Choose the lot to export.")
        lot = session.get(ParkingLot, scope.lot_id)
        if lot is None:
            raise NotFoundError(f"There is no parking lot with id {scope.lot_id}.")
        parts = [f"Lot {lot.name}" + (" (archived)" if lot.archived_at else "")]
    elif scope.kind == "shift":
        if actor.user_id is None:
            raise ValidationError("A shift export needs a signed-in staff member.")
        staff_id = actor.user_id
        since = now - timedelta(hours=SHIFT_HOURS)
        start = since.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        parts = [f"Shift of {actor.username} since {start}"]
    else:
        parts = ["All reservations"]
    if scope.date_from or scope.date_to:
        parts.append(_dates(scope.date_from, scope.date_to))
    if scope.anonymize:
        parts.append("anonymised")
    return ResolvedScope(scope=scope, label=", ".join(parts), staff_id=staff_id,
                         shift_since=since)


def _dates(day_from: date | None, day_to: date | None) -> str:
    if day_from and day_to:
        return f"{day_from.isoformat()} to {day_to.isoformat()}"
    if day_from:
        return f"from {day_from.isoformat()}"
    assert day_to is not None
    return f"until {day_to.isoformat()}"


def parse_day(text: str, what: str = "date") -> date | None:
    """A YYYY-MM-DD date typed by a user (empty means none)."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        raise ValidationError(f"The {what} '{cleaned}' is not a date like 2026-03-31.") from None


class FieldError(ValidationError):
    """A refusal about one field of the export form; ``field`` names it (ExportForm's
    attribute), so a screen can mark that field and put the cursor there."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ExportForm:
    """An export request as a person typed it; ``scope_from_form`` decides what it means."""

    kind: str = "all"
    lot_id: int | None = None  # kind "lot": chosen from a list
    driver: str = ""  # kind "driver": the driver's username, as typed
    date_from: str = ""  # YYYY-MM-DD, blank for no limit
    date_to: str = ""
    anonymize: bool = False


def scope_from_form(session: Session, actor: Actor, form: ExportForm) -> ExportScope:
    """The scope a filled-in form asks for, or a FieldError naming the field that is wrong.
    The kind is checked against the actor's role first, so nobody learns which usernames
    exist by asking for an export they may not have."""
    kind = form.kind
    authorise(actor, ExportScope(kind=kind, user_id=actor.user_id if kind in ("driver", "data")
                                 else None))
    date_from = _field_day(form.date_from, "start date", "date_from")
    date_to = _field_day(form.date_to, "end date", "date_to")
    if date_from and date_to and date_from > date_to:
        raise FieldError("date_to", "The start date must be on or before the end date.")
    # A data bundle answers a request for one's own data: never anonymised.
    scope = ExportScope(kind=kind, date_from=date_from, date_to=date_to,
                        anonymize=form.anonymize and kind != "data")
    if kind == "lot":
        if form.lot_id is None:
            raise FieldError("lot_id", "Choose the lot to export.")
        return ExportScope(**{**scope.__dict__, "lot_id": form.lot_id})
    if kind in ("driver", "data"):
        name = form.driver.strip()
        if not name and actor.role is Role.DRIVER:
            return ExportScope(**{**scope.__dict__, "user_id": actor.user_id})
        if not name:
            what = "history" if kind == "driver" else "data"
            raise FieldError("driver", f"Enter the username of the driver whose {what} to "
                                       "export.")
        user_id = session.scalar(select(User.id).where(User.username == name))
        if user_id is None:
            raise FieldError("driver", f"There is no user '{name}'.")
        return ExportScope(**{**scope.__dict__, "user_id": user_id})
    return scope


def _field_day(text: str, what: str, field: str) -> date | None:
    try:
        return parse_day(text, what)
    except ValidationError as exc:
        raise FieldError(field, str(exc)) from None
