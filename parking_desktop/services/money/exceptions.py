"""The exceptions log: every free exit, discount, fee override, refund, void, force-release,
administrative payment and cash difference, with its reason, for the managers' review."""

from __future__ import annotations

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
from parking_desktop.domain.roles import Actor
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


def actor_name(session: Session, actor: Actor) -> str:
    """Who did it as the records say it: the username, or the command line's operator."""
    if actor.user_id is None:
        return str(session.info.get(OPERATOR_KEY) or actor.username)
    return actor.username


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
