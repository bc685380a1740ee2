"""The exceptions log: every free exit, discount, fee override, refund, void, force-release,
administrative payment and cash difference, with its reason, for the managers' review."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from parking_desktop.adapters.db.models import ParkingLot, Reservation, User
from parking_desktop.adapters.db.models_money import MoneyException
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.money import ExceptionKind, ExceptionLine, ReasonCode
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.context import OPERATOR_KEY
from parking_desktop.services.money.views import ExceptionFilter, ExceptionView

MAX_REASON = 500


def reason_code(raw: ReasonCode | str | None) -> ReasonCode:
    try:
        return ReasonCode(raw) if raw else _missing()
    except ValueError:
        choices = ", ".join(code.value for code in ReasonCode)
        raise ValidationError(f"Unknown reason '{raw}': choose one of {choices}.") from None


def _missing() -> ReasonCode:
    choices = ", ".join(code.value for code in ReasonCode)
    raise ValidationError(f"Choose a reason: {choices}.")


def reason_text(raw: str | None, *, required: bool) -> str:
    text = validation.no_control_characters((raw or "").strip(), "The reason")
    if required and not text:
        raise ValidationError("Say in a few words why (the reason's free text).")
    if len(text) > MAX_REASON:
        raise ValidationError(f"The reason is too long: at most {MAX_REASON} characters.")
    return text


# What money rows say about a driver who acted themselves (released their own stay at the
# kiosk). Payments are kept for ever and never changed, so they must not hold a driver's
# name: the role, with the user id in ``taken_by``/``actor_id`` (erasure pseudonymises the
# account behind it). Staff are named: they are not erased, and the reports are by attendant.
SELF_SERVICE = "driver, self-service"


def actor_name(session: Session, actor: Actor) -> str:
    """Who did it as the records say it: the username of staff, the command line's operator,
    or ``SELF_SERVICE`` for a driver."""
    if actor.user_id is None:
        return str(session.info.get(OPERATOR_KEY) or actor.username)
    if actor.role is Role.DRIVER:
        return SELF_SERVICE
    return actor.username


def no_driver_named(session: Session, reservation_id: int | None, text: str) -> str:
    """A payment's reason is kept for ever, so it must not name the stay's driver or vehicle
    (erasure and retention could never take them out again): refused, with the reason."""
    if not text or reservation_id is None:
        return text
    row = session.execute(
        select(Reservation.vehicle_number, User.username, User.full_name, User.email)
        .outerjoin(User, User.id == Reservation.user_id)
        .where(Reservation.id == reservation_id)
    ).first()
    if row is None:
        return text
    for value in row:
        if (
            value
            and len(value) >= 2
            and "*" not in value  # a masked plate names nobody
            and re.search(rf"(?<![\w.@-]){re.escape(value)}(?![\w@-])", text, re.IGNORECASE)
        ):
            raise ValidationError(
                "A payment's reason is kept for ever: do not name the driver or the vehicle "
                f"('{value}') in it."
            )
    return text


def record_exception(
    session: Session,
    actor: Actor,
    kind: ExceptionKind,
    code: ReasonCode,
    text: str,
    *,
    currency: str,
    now: datetime,
    amount: Decimal | None = None,
    reservation_id: int | None = None,
    payment_id: int | None = None,
    shift_id: int | None = None,
    lot_id: int | None = None,
    approved_by: int | None = None,
    details: dict[str, Any] | None = None,
) -> MoneyException:
    row = MoneyException(
        kind=kind.value,
        reason_code=code.value,
        reason_text=text,
        amount=amount,
        currency=currency,
        reservation_id=reservation_id,
        payment_id=payment_id,
        shift_id=shift_id,
        lot_id=lot_id,
        actor_id=actor.user_id,
        actor_name=actor_name(session, actor),
        approved_by=approved_by,
        created_at=now,
        details=details or {},
    )
    session.add(row)
    session.flush()
    return row


def exceptions_query(filters: ExceptionFilter) -> Select[Any]:
    approver = aliased(User)
    query = (
        select(MoneyException, ParkingLot.name, approver.username, Reservation.vehicle_number)
        .outerjoin(ParkingLot, ParkingLot.id == MoneyException.lot_id)
        .outerjoin(approver, approver.id == MoneyException.approved_by)
        .outerjoin(Reservation, Reservation.id == MoneyException.reservation_id)
        .order_by(MoneyException.created_at.desc(), MoneyException.id.desc())
        .limit(max(1, min(filters.limit, 5000)))
    )
    if filters.kind is not None:
        query = query.where(MoneyException.kind == filters.kind.value)
    if filters.attendant:
        query = query.where(MoneyException.actor_name == filters.attendant.strip())
    if filters.lot_id is not None:
        query = query.where(MoneyException.lot_id == filters.lot_id)
    if filters.start is not None:
        query = query.where(MoneyException.created_at >= filters.start)
    if filters.end is not None:
        query = query.where(MoneyException.created_at < filters.end)
    return query


def exception_view(
    row: MoneyException, lot: str | None, approver: str | None, vehicle: str | None
) -> ExceptionView:
    return ExceptionView(
        id=row.id,
        kind=ExceptionKind(row.kind),
        reason_code=ReasonCode(row.reason_code),
        reason_text=row.reason_text,
        amount=row.amount,
        currency=row.currency,
        reservation_id=row.reservation_id,
        payment_id=row.payment_id,
        shift_id=row.shift_id,
        lot_id=row.lot_id,
        lot_name=lot,
        actor=row.actor_name,
        approved_by=approver,
        created_at=row.created_at,
        vehicle_number=vehicle,
        details=dict(row.details or {}),
    )


def exception_line(view: ExceptionView) -> ExceptionLine:
    return ExceptionLine(
        kind=view.kind,
        reason_code=view.reason_code,
        reason_text=view.reason_text,
        amount=view.amount,
        actor=view.actor,
        approved_by=view.approved_by,
        created_at=view.created_at,
        vehicle_number=view.vehicle_number,
    )
