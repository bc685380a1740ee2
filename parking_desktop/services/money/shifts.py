"""Attendant shifts: opened with a cash float, every payment taken belongs to one, closed with
the cash counted against what the payments say the drawer should hold."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import User, UserActivity
from parking_desktop.adapters.db.models_money import MoneyException, Payment, Shift
from parking_desktop.adapters.mail.message import attachment
from parking_desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from parking_desktop.domain.fee import money
from parking_desktop.domain.money import (
    ExceptionKind,
    MethodTotal,
    PaymentKind,
    PaymentMethod,
    ReasonCode,
    ShiftReport,
    count_denominations,
    expected_cash,
)
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager, require_staff
from parking_desktop.services.mail.outbox import OutgoingMail
from parking_desktop.services.money.exceptions import (
    exception_line,
    exception_view,
    exceptions_query,
    reason_code,
    reason_text,
    record_exception,
)
from parking_desktop.services.money.payments import shift_cash
from parking_desktop.services.money.policy import MoneyPolicy
from parking_desktop.services.money.report_text import report_text
from parking_desktop.services.money.views import CashCount, ExceptionFilter, ShiftState, ShiftView
from parking_desktop.services.parking.activity import record

TOPICS = ("shifts", "payments", "activity")
ONE_OPEN = "uq_shifts_open_attendant"
MAX_FLOAT = Decimal(1_000_000)
# Queues a mail in the caller's transaction (the outbox, built on first use).
QueueMail = Callable[[Session, OutgoingMail], object]
RenderPdf = Callable[[ShiftReport], bytes]


def manager_addresses(session: Session) -> list[tuple[int, str]]:
    """(id, email) of the active managers who have an address: who money mail goes to."""
    rows = session.execute(
        select(User.id, User.email)
        .where(User.role == Role.MANAGER.value, User.is_active.is_(True), User.email.is_not(None))
        .order_by(User.id)
    ).all()
    return [(int(manager_id), str(address)) for manager_id, address in rows]


def _amount(raw: Decimal, what: str) -> Decimal:
    if not raw.is_finite() or raw < 0 or raw >= MAX_FLOAT:
        raise ValidationError(f"{what} must be an amount of at least 0.")
    return money(raw)


class ShiftService:
    def __init__(
        self,
        ctx: ServiceContext,
        policy: MoneyPolicy,
        *,
        queue_mail: QueueMail | None = None,
        render_pdf: RenderPdf | None = None,
    ) -> None:
        self.ctx = ctx
        self.policy = policy
        self.queue_mail = queue_mail
        self.render_pdf = render_pdf

    # --- open --------------------------------------------------------------------------------
    def open_shift(
        self,
        actor: Actor,
        opening_float: Decimal,
        *,
        host: str | None = None,
        attendant_id: int | None = None,
    ) -> ShiftView:
        """Open the actor's shift (or, for a manager or the command line, ``attendant_id``'s)
        at this machine with the cash float in the drawer."""
        require_staff(actor, "open a shift")
        who = actor.user_id if attendant_id is None else attendant_id
        if who != actor.user_id:
            require_manager(actor, "open a shift for someone else")
        if who is None:
            raise ValidationError("Say whose shift it is (an attendant's username).")
        float_ = _amount(opening_float, "The opening float")
        where = (host or socket.gethostname()).strip()[:255] or "unknown"
        now = self.ctx.clock.now()
        with self.ctx.write(
            *TOPICS,
            conflicts={ONE_OPEN: "That attendant already has an open shift: close it first."},
        ) as session:
            user = session.get(User, who)
            if user is None:
                raise NotFoundError(f"There is no user with id {who}.")
            if user.role == Role.DRIVER.value or not user.is_active:
                raise ValidationError(f"'{user.username}' is not an active staff account.")
            existing = session.scalar(
                select(Shift).where(Shift.attendant_id == who, Shift.closed_at.is_(None))
            )
            if existing is not None:
                since = existing.opened_at.astimezone(self.ctx.tz)
                raise ConflictError(
                    f"{user.username} already has an open shift ({existing.id}, since "
                    f"{since:%d %b %H:%M} at {existing.host}): close it first."
                )
            shift = Shift(
                attendant_id=who,
                host=where,
                currency=self.policy.currency,
                opening_float=float_,
                opened_at=now,
            )
            session.add(shift)
            session.flush()
            record(
                session,
                actor.user_id,
                "shift_opened",
                {
                    "shift_id": shift.id,
                    "attendant": user.username,
                    "host": where,
                    "float": str(float_),
                    "currency": self.policy.currency,
                },
                now,
            )
            return self._view(session, shift, now)

    def current_shift(self, actor: Actor, attendant_id: int | None = None) -> ShiftView | None:
        """The open shift of the actor (or of ``attendant_id``, for a manager)."""
        require_staff(actor, "see shifts")
        who = actor.user_id if attendant_id is None else attendant_id
        if who != actor.user_id:
            require_manager(actor, "see someone else's shift")
        with self.ctx.read() as session:
            shift = session.scalar(
                select(Shift).where(Shift.attendant_id == who, Shift.closed_at.is_(None))
            )
            return None if shift is None else self._view(session, shift, self.ctx.clock.now())

    # --- close -------------------------------------------------------------------------------
    def cash_count(self, actor: Actor, shift_id: int) -> CashCount:
        """What the drawer should hold now (the close screen shows it)."""
        with self.ctx.read() as session:
            shift = self._load(session, actor, shift_id)
            cash_in, cash_out = shift_cash(session, shift.id)
            return CashCount(
                shift_id=shift.id,
                opening_float=shift.opening_float,
                cash_payments=cash_in,
                cash_refunds=cash_out,
                expected=expected_cash(shift.opening_float, cash_in, cash_out),
                currency=shift.currency,
            )

    def close_shift(
        self,
        actor: Actor,
        shift_id: int,
        counted: Decimal | None = None,
        *,
        denominations: Mapping[Decimal, int] | None = None,
        reason: str = "",
        code: ReasonCode | str | None = None,
    ) -> ShiftView:
        """Close with the cash counted (a total, or a count per note and coin). A count that
        differs from the expected cash needs a reason; it is recorded as an exception. The
        Z-report is queued to the managers in the same transaction."""
        counted_total = self._counted(counted, denominations)
        why = reason_text(reason, required=False)
        now = self.ctx.clock.now()
        with self.ctx.write(*TOPICS, "outbox", "exceptions") as session:
            shift = self._load(session, actor, shift_id, lock=True)
            if shift.closed_at is not None:
                raise ConflictError(f"Shift {shift.id} is already closed.")
            cash_in, cash_out = shift_cash(session, shift.id)
            expected = expected_cash(shift.opening_float, cash_in, cash_out)
            difference = counted_total - expected
            if difference != 0 and not why:
                raise ValidationError(
                    f"The count differs from the expected cash by {difference} "
                    f"{shift.currency}: give a reason."
                )
            shift.closed_at = now
            shift.expected_cash = expected
            shift.counted_cash = counted_total
            shift.denominations = (
                {str(money(k)): int(v) for k, v in denominations.items()} if denominations else None
            )
            shift.difference_reason = why or None
            shift.closed_by = actor.user_id
            if difference != 0:
                record_exception(
                    session,
                    actor,
                    ExceptionKind.CASH_DIFFERENCE,
                    reason_code(code or ReasonCode.OTHER),
                    why,
                    currency=shift.currency,
                    now=now,
                    amount=difference,
                    shift_id=shift.id,
                    details={"expected": str(expected), "counted": str(counted_total)},
                )
            session.flush()
            record(
                session,
                actor.user_id,
                "shift_closed",
                {
                    "shift_id": shift.id,
                    "expected": str(expected),
                    "counted": str(counted_total),
                    "difference": str(difference),
                    "currency": shift.currency,
                },
                now,
            )
            report = self._report(session, shift, now)
            self._mail_report(session, report)
            return self._view(session, shift, now)

    @staticmethod
    def _counted(counted: Decimal | None, denominations: Mapping[Decimal, int] | None) -> Decimal:
        if denominations:
            try:
                total = count_denominations(dict(denominations))
            except ValueError as exc:
                raise ValidationError(f"The count by denomination is wrong: {exc}.") from None
            if counted is not None and money(counted) != money(total):
                raise ValidationError(
                    f"The notes and coins add up to {money(total)}, not {money(counted)}."
                )
            return _amount(total, "The counted cash")
        if counted is None:
            raise ValidationError("Enter the cash counted in the drawer.")
        return _amount(counted, "The counted cash")

    # --- review ------------------------------------------------------------------------------
    def review_shift(
        self, actor: Actor, shift_id: int, *, comment: str = "", approve: bool = False
    ) -> ShiftView:
        """A manager's comment on a closed shift, and approval (once)."""
        require_manager(actor, "review shifts")
        text = reason_text(comment, required=False)
        now = self.ctx.clock.now()
        with self.ctx.write("shifts", "activity") as session:
            shift = self._load(session, actor, shift_id, lock=True)
            if shift.closed_at is None:
                raise ConflictError(f"Shift {shift.id} is still open: it is reviewed once closed.")
            if shift.approved_at is not None and approve:
                raise ConflictError(f"Shift {shift.id} is already approved.")
            if text:
                shift.manager_comment = text
            if approve:
                shift.approved_by = actor.user_id
                shift.approved_at = now
            record(
                session,
                actor.user_id,
                "shift_approved" if approve else "shift_reviewed",
                {"shift_id": shift.id, "comment": text},
                now,
            )
            session.flush()
            return self._view(session, shift, now)

    # --- reading ------------------------------------------------------------------------------
    def shift_report(self, actor: Actor, shift_id: int) -> ShiftReport:
        with self.ctx.read() as session:
            shift = self._load(session, actor, shift_id)
            return self._report(session, shift, self.ctx.clock.now())

    def list_shifts(
        self,
        actor: Actor,
        *,
        state: ShiftState | None = None,
        attendant_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 200,
    ) -> list[ShiftView]:
        """Newest first. An attendant sees their own shifts only."""
        require_staff(actor, "see shifts")
        if not actor.is_manager:
            attendant_id = actor.user_id
        query = select(Shift).order_by(Shift.opened_at.desc(), Shift.id.desc())
        if attendant_id is not None:
            query = query.where(Shift.attendant_id == attendant_id)
        if state is ShiftState.OPEN:
            query = query.where(Shift.closed_at.is_(None))
        elif state is ShiftState.CLOSED:
            query = query.where(Shift.closed_at.is_not(None), Shift.approved_at.is_(None))
        elif state is ShiftState.APPROVED:
            query = query.where(Shift.approved_at.is_not(None))
        if start is not None:
            query = query.where(Shift.opened_at >= self.ctx.aware(start))
        if end is not None:
            query = query.where(Shift.opened_at < self.ctx.aware(end))
        now = self.ctx.clock.now()
        with self.ctx.read() as session:
            shifts = list(session.scalars(query.limit(max(1, min(limit, 5000)))))
            # Every name the rows show, in one query (not one per shift: a list of 500 shifts
            # kept a core busy long enough to stall the screen).
            names = self._names(session, [i for s in shifts
                                          for i in (s.attendant_id, s.approved_by) if i])
            return [self._view(session, s, now, names) for s in shifts]

    # --- internals ---------------------------------------------------------------------------
    def _load(self, session: Session, actor: Actor, shift_id: int, lock: bool = False) -> Shift:
        require_staff(actor, "see shifts")
        query = select(Shift).where(Shift.id == shift_id)
        shift = session.scalar(query.with_for_update() if lock else query)
        if shift is None:
            raise NotFoundError(f"There is no shift with id {shift_id}.")
        if not actor.is_manager and shift.attendant_id != actor.user_id:
            raise ConflictError("That is another attendant's shift.")
        return shift

    @staticmethod
    def _names(session: Session, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        return {int(i): str(n) for i, n in session.execute(
            select(User.id, User.username).where(User.id.in_(sorted(set(user_ids)))))}

    def _view(self, session: Session, shift: Shift, now: datetime,
              names: dict[int, str] | None = None) -> ShiftView:
        if names is None:
            names = self._names(session, [i for i in (shift.attendant_id, shift.approved_by)
                                          if i])
        end = shift.closed_at or now
        difference = (
            shift.counted_cash - shift.expected_cash
            if shift.counted_cash is not None and shift.expected_cash is not None
            else None
        )
        state = (
            ShiftState.OPEN
            if shift.closed_at is None
            else ShiftState.APPROVED
            if shift.approved_at is not None
            else ShiftState.CLOSED
        )
        return ShiftView(
            id=shift.id,
            attendant_id=shift.attendant_id,
            attendant=str(names.get(shift.attendant_id, "?")),
            host=shift.host,
            currency=shift.currency,
            opening_float=shift.opening_float,
            opened_at=shift.opened_at,
            closed_at=shift.closed_at,
            state=state,
            overlong=end - shift.opened_at > self.policy.shift_max,
            expected_cash=shift.expected_cash,
            counted_cash=shift.counted_cash,
            difference=difference,
            difference_reason=shift.difference_reason,
            manager_comment=shift.manager_comment,
            approved_by=names.get(shift.approved_by) if shift.approved_by else None,
            approved_at=shift.approved_at,
        )

    def _report(self, session: Session, shift: Shift, now: datetime) -> ShiftReport:
        view = self._view(session, shift, now)
        is_payment = Payment.kind == PaymentKind.PAYMENT.value
        by_method = [
            MethodTotal(
                method=PaymentMethod(method), count=int(count), amount=money(Decimal(str(amount)))
            )
            for method, count, amount in session.execute(
                select(
                    Payment.method,
                    func.sum(case((is_payment, 1), else_=0)),
                    func.coalesce(func.sum(Payment.amount), 0),
                )
                .where(Payment.shift_id == shift.id)
                .group_by(Payment.method)
                .order_by(Payment.method)
            )
        ]
        cash_in, cash_out = shift_cash(session, shift.id)
        expected = expected_cash(shift.opening_float, cash_in, cash_out)
        refund_count, refunds = session.execute(
            select(func.count(), func.coalesce(func.sum(-Payment.amount), 0)).where(
                Payment.shift_id == shift.id, ~is_payment
            )
        ).one()
        end = shift.closed_at or now
        parked = session.scalar(
            select(func.count())
            .select_from(UserActivity)
            .where(
                UserActivity.user_id == shift.attendant_id,
                UserActivity.activity_type == "parked",
                UserActivity.timestamp >= shift.opened_at,
                UserActivity.timestamp <= end,
            )
        )
        check_outs = sum(total.count for total in by_method)
        rows = session.execute(
            exceptions_query(ExceptionFilter(limit=5000)).where(MoneyException.shift_id == shift.id)
        ).all()
        tz = self.ctx.tz
        lines = tuple(
            replace(line, created_at=line.created_at.astimezone(tz))
            for line in (exception_line(exception_view(*row)) for row in rows[::-1])
        )
        counted_by = tuple(
            sorted((Decimal(k), int(v)) for k, v in (shift.denominations or {}).items())
        )
        return ShiftReport(
            shift_id=shift.id,
            site_name=self.policy.site_name,
            attendant=view.attendant,
            host=shift.host,
            opened_at=shift.opened_at.astimezone(tz),
            closed_at=shift.closed_at.astimezone(tz) if shift.closed_at else None,
            currency=shift.currency,
            locale=self.policy.locale,
            opening_float=shift.opening_float,
            by_method=tuple(by_method),
            cash_payments=cash_in,
            cash_refunds=cash_out,
            expected_cash=shift.expected_cash if shift.expected_cash is not None else expected,
            counted_cash=shift.counted_cash,
            difference=view.difference,
            difference_reason=shift.difference_reason,
            denominations=counted_by,
            check_ins=int(parked or 0),
            check_outs=check_outs,
            exceptions=lines,
            overlong=view.overlong,
            manager_comment=shift.manager_comment,
            approved_by=view.approved_by,
            approved_at=shift.approved_at.astimezone(tz) if shift.approved_at else None,
            refunds=money(Decimal(str(refunds))),
            refund_count=int(refund_count),
        )

    def _mail_report(self, session: Session, report: ShiftReport) -> None:
        if self.queue_mail is None:
            return
        text = report_text(report)
        if self.render_pdf is not None:
            files: tuple[dict[str, Any], ...] = (
                attachment(
                    f"z-report-{report.shift_id}.pdf", "application/pdf", self.render_pdf(report)
                ),
            )
        else:
            files = (
                attachment(f"z-report-{report.shift_id}.txt", "text/plain", text.encode("utf-8")),
            )
        day = f"{report.opened_at:%Y-%m-%d}"
        self._mail_managers(
            session,
            subject=f"Z-report: shift {report.shift_id}, {report.attendant}, {day}",
            text=text,
            kind="shift_report",
            key=f"z-report:{report.shift_id}",
            attachments=files,
        )

    def _mail_managers(
        self,
        session: Session,
        *,
        subject: str,
        text: str,
        kind: str,
        key: str,
        attachments: tuple[dict[str, Any], ...] = (),
    ) -> int:
        """Queue one mail per active manager with an address (keyed ``key:manager id``, so a
        second run queues nothing); returns how many were queued."""
        if self.queue_mail is None:
            return 0
        addresses = manager_addresses(session)
        for manager_id, address in addresses:
            self.queue_mail(
                session,
                OutgoingMail(
                    recipient=address,
                    subject=subject,
                    text=text,
                    html=None,
                    kind=kind,
                    idempotency_key=f"{key}:{manager_id}",
                    user_id=manager_id,
                    attachments=attachments,
                ),
            )
        return len(addresses)
