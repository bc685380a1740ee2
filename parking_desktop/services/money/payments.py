"""Payments: the row every completed stay gets, in the check-out's own transaction, and the
negative rows of refunds and voids. Append-only (the database refuses UPDATE and DELETE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation
from parking_desktop.adapters.db.models_money import Payment, Receipt, Shift
from parking_desktop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.fee import money
from parking_desktop.domain.money import (
    ExceptionKind,
    PaymentKind,
    PaymentMethod,
    ReasonCode,
    expected_cash,
)
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.money.exceptions import (
    actor_name,
    no_driver_named,
    reason_code,
    reason_text,
    record_exception,
)
from parking_desktop.services.money.policy import MoneyPolicy
from parking_desktop.services.money.receipts import next_receipt, receipt_label
from parking_desktop.services.money.rules import (
    EXCEPTION_OF,
    NO_SHIFT,
    NO_SHIFT_CASH,
    change_due,
    charge,
)
from parking_desktop.services.money.views import PaymentRequest, PaymentView
from parking_desktop.services.parking.activity import record

TAKES_MONEY = (PaymentMethod.CASH, PaymentMethod.CARD)


@dataclass(frozen=True)
class Settlement:
    charged: Decimal  # what the stay cost in the end (reservations.cost, the revenue figures)
    payment: PaymentView


def payment_view(p: Payment, number: int, fee: Decimal | None = None) -> PaymentView:
    return PaymentView(
        id=p.id,
        reservation_id=p.reservation_id,
        lot_id=p.lot_id,
        kind=PaymentKind(p.kind),
        method=PaymentMethod(p.method),
        amount=p.amount,
        currency=p.currency,
        tendered=p.tendered,
        change=p.change,
        taken_by=p.taken_by_name,
        taken_at=p.taken_at,
        shift_id=p.shift_id,
        receipt_number=receipt_label(number),
        reason_code=p.reason_code,
        reason_text=p.reason_text,
        refers_to=p.refers_to,
        fee=fee if fee is not None and fee != p.amount else None,
    )


def open_shift_of(session: Session, user_id: int | None, *, lock: bool = False) -> Shift | None:
    """The actor's open shift. ``lock``: shared on PostgreSQL, so a close waits for payments
    in flight and counts them."""
    if user_id is None:
        return None
    query = select(Shift).where(Shift.attendant_id == user_id, Shift.closed_at.is_(None))
    if lock:
        query = query.with_for_update(read=True)
    return session.scalar(query)


def shift_cash(session: Session, shift_id: int) -> tuple[Decimal, Decimal]:
    """(cash payments, cash given back) of a shift; both >= 0."""
    is_payment = Payment.kind == PaymentKind.PAYMENT.value
    row = session.execute(
        select(
            func.coalesce(func.sum(case((is_payment, Payment.amount), else_=0)), 0),
            func.coalesce(func.sum(case((is_payment, 0), else_=-Payment.amount)), 0),
        ).where(Payment.shift_id == shift_id, Payment.method == PaymentMethod.CASH.value)
    ).one()
    return money(Decimal(str(row[0]))), money(Decimal(str(row[1])))


class PaymentLedger:
    def __init__(self, policy: MoneyPolicy) -> None:
        self.policy = policy

    # --- at check-out (called by ParkingService inside its transaction) ----------------------
    def settle_release(
        self,
        session: Session,
        actor: Actor,
        r: Reservation,
        lot: ParkingLot,
        fee: Decimal,
        now: datetime,
        request: Any,
        activity: str,
        extra: dict[str, Any],
    ) -> Settlement:
        explicit = isinstance(request, PaymentRequest)
        req = request if explicit else PaymentRequest()
        method = req.method or PaymentMethod.ACCOUNT
        shift = open_shift_of(session, actor.user_id, lock=True)
        administrative = False
        if shift is None:
            if actor.role is Role.DRIVER:
                if method is not PaymentMethod.ACCOUNT:
                    raise PermissionDeniedError(
                        "A driver's release is billed to their account; pay at the booth "
                        "for cash or card."
                    )
                if req.adjustment is not None:
                    raise PermissionDeniedError("Only staff can change a fee.")
            elif method in TAKES_MONEY:
                raise ConflictError(NO_SHIFT_CASH)
            elif explicit and actor.user_id is not None:
                raise ConflictError(NO_SHIFT)
            else:
                # The command line (or a screen that does not take payments yet): recorded,
                # and flagged for the managers.
                administrative = True
        amounts = charge(fee, req.adjustment, method)
        if amounts.charged == 0 and method is not PaymentMethod.WAIVED and amounts.fee > 0:
            method = PaymentMethod.WAIVED  # nothing was taken
        code, text = self._reason(req, method, activity, extra)
        text = no_driver_named(session, r.id, text)
        self._check_limit(actor, amounts.given_away, req)
        tendered = change = None
        if method is PaymentMethod.CASH:
            tendered, change = change_due(amounts.charged, req.tendered)
        receipt = next_receipt(session, now)
        payment = Payment(
            reservation_id=r.id,
            lot_id=lot.id,
            kind=PaymentKind.PAYMENT.value,
            method=method.value,
            amount=amounts.charged,
            currency=self.policy.currency,
            tendered=tendered,
            change=change,
            taken_by=actor.user_id,
            taken_by_name=actor_name(session, actor),
            taken_at=now,
            shift_id=shift.id if shift else None,
            receipt_id=receipt.id,
            reason_code=code.value if code else None,
            reason_text=text or None,
        )
        session.add(payment)
        session.flush()
        common: dict[str, Any] = {
            "currency": self.policy.currency,
            "now": now,
            "reservation_id": r.id,
            "payment_id": payment.id,
            "shift_id": payment.shift_id,
            "lot_id": lot.id,
            "approved_by": req.approved_by_id,
        }
        details = {
            "fee": str(amounts.fee),
            "charged": str(amounts.charged),
            "vehicle": r.vehicle_number,
            "method": method.value,
        }
        if req.adjustment is not None or method is PaymentMethod.WAIVED:
            kind = (
                EXCEPTION_OF[req.adjustment.kind]
                if req.adjustment is not None
                else ExceptionKind.FREE_EXIT
            )
            if req.adjustment is not None:
                details["adjustment"] = {
                    "kind": req.adjustment.kind.value,
                    "value": str(req.adjustment.value),
                }
            assert code is not None
            record_exception(
                session,
                actor,
                kind,
                code,
                text,
                amount=amounts.given_away,
                details=details,
                **common,
            )
        if activity == "force_released":
            record_exception(
                session,
                actor,
                ExceptionKind.FORCE_RELEASE,
                code or ReasonCode.OTHER,
                str(extra.get("reason") or text),
                amount=amounts.charged,
                details=details,
                **common,
            )
        if administrative:
            record_exception(
                session,
                actor,
                ExceptionKind.ADMIN_PAYMENT,
                ReasonCode.ADMINISTRATIVE,
                text or "Recorded outside a shift.",
                amount=amounts.charged,
                details=details,
                **common,
            )
        # The check-out's own activity row (written next by ParkingService) carries the
        # payment: one entry per check-out, as before payments existed.
        extra.update(
            payment_id=payment.id,
            method=method.value,
            currency=self.policy.currency,
            receipt=receipt_label(receipt.number),
            shift_id=payment.shift_id,
        )
        return Settlement(amounts.charged, payment_view(payment, receipt.number, amounts.fee))

    def _reason(
        self, req: PaymentRequest, method: PaymentMethod, activity: str, extra: dict[str, Any]
    ) -> tuple[ReasonCode | None, str]:
        adjustment = req.adjustment
        if adjustment is not None:
            return (
                reason_code(adjustment.reason_code),
                reason_text(adjustment.reason_text, required=True),
            )
        if method is PaymentMethod.WAIVED:
            return reason_code(req.reason_code), reason_text(req.reason_text, required=True)
        if req.reason_code or req.reason_text:
            return (
                reason_code(req.reason_code or ReasonCode.OTHER),
                reason_text(req.reason_text, required=False),
            )
        return None, ""

    def _check_limit(self, actor: Actor, given_away: Decimal, req: PaymentRequest) -> None:
        limit = self.policy.waiver_limit
        if actor.role is Role.ATTENDANT and given_away > limit and req.approved_by_id is None:
            raise PermissionDeniedError(
                f"Waiving {given_away} {self.policy.currency} is above the attendant limit of "
                f"{limit} {self.policy.currency}: a manager must sign in to approve it."
            )

    # --- corrections --------------------------------------------------------------------------
    def correct(
        self,
        session: Session,
        actor: Actor,
        payment_id: int,
        kind: PaymentKind,
        now: datetime,
        *,
        code: ReasonCode,
        text: str,
        amount: Decimal | None = None,
        method: PaymentMethod | None = None,
        approved_by: int | None = None,
    ) -> PaymentView:
        """A refund (part or all of what is left) or a void (all of it): a new negative row
        referring to the payment. The original is locked, never changed."""
        original = session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
        if original is None:
            raise NotFoundError(f"There is no payment with id {payment_id}.")
        if original.kind != PaymentKind.PAYMENT.value:
            raise ConflictError("Only a payment can be refunded or voided, not a correction.")
        corrected = session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.refers_to == original.id
            )
        )
        left = original.amount + Decimal(str(corrected))
        if left <= 0:
            raise ConflictError(f"Payment {original.id} has nothing left to refund or void.")
        if kind is PaymentKind.VOID or amount is None:
            amount = left
        if not amount.is_finite() or amount <= 0:
            raise ValidationError("A refund is a positive amount.")
        if amount > left:
            raise ConflictError(
                f"At most {left} {original.currency} of payment {original.id} "
                "can still be refunded."
            )
        method = method or PaymentMethod(original.method)
        if method is PaymentMethod.WAIVED:
            raise ValidationError("A refund is paid in cash, by card or to the account.")
        shift = open_shift_of(session, actor.user_id, lock=True)
        if method is PaymentMethod.CASH:
            if shift is None:
                raise ConflictError(
                    "Cash is given back from a drawer: open a shift first, or "
                    "refund to the card or the account."
                )
            cash_in, cash_out = shift_cash(session, shift.id)
            drawer = expected_cash(shift.opening_float, cash_in, cash_out)
            if amount > drawer:
                raise ConflictError(
                    f"The drawer should hold only {drawer} {shift.currency}: refund "
                    "to the card or the account instead."
                )
        text = no_driver_named(session, original.reservation_id, text)
        receipt = next_receipt(session, now)
        row = Payment(
            reservation_id=original.reservation_id,
            lot_id=original.lot_id,
            kind=kind.value,
            method=method.value,
            amount=-amount,
            currency=original.currency,
            taken_by=actor.user_id,
            taken_by_name=actor_name(session, actor),
            taken_at=now,
            shift_id=shift.id if shift else None,
            receipt_id=receipt.id,
            reason_code=code.value,
            reason_text=text,
            refers_to=original.id,
        )
        session.add(row)
        session.flush()
        record_exception(
            session,
            actor,
            ExceptionKind.REFUND if kind is PaymentKind.REFUND else ExceptionKind.VOID,
            code,
            text,
            currency=original.currency,
            now=now,
            amount=amount,
            reservation_id=original.reservation_id,
            payment_id=row.id,
            shift_id=row.shift_id,
            lot_id=original.lot_id,
            approved_by=approved_by,
            details={"refers_to": original.id, "method": method.value},
        )
        record(
            session,
            actor.user_id,
            "payment_voided" if kind is PaymentKind.VOID else "payment_refunded",
            {
                "payment_id": row.id,
                "refers_to": original.id,
                "amount": str(-amount),
                "currency": original.currency,
            },
            now,
        )
        return payment_view(row, receipt.number)


def payments_query() -> Any:
    return select(Payment, Receipt.number).join(Receipt, Receipt.id == Payment.receipt_id)


def lot_and_spot(session: Session, reservation_id: int) -> tuple[ParkingLot, ParkingSpot]:
    row = session.execute(
        select(ParkingLot, ParkingSpot)
        .join(ParkingSpot, ParkingSpot.lot_id == ParkingLot.id)
        .join(Reservation, Reservation.spot_id == ParkingSpot.id)
        .where(Reservation.id == reservation_id)
    ).first()
    if row is None:
        raise NotFoundError(f"There is no reservation with id {reservation_id}.")
    return row[0], row[1]
