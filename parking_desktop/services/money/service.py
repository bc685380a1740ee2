"""``app.money``: what the kiosk, the desktop, the command line and the jobs call.

A manager's sign-in on the spot (``ManagerSignIn``) is checked here, through the accounts
service's argon2 check with its lock-out, BEFORE any write transaction opens (on SQLite a
write transaction holds the only write lock while the slow hash runs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import ParkingLot, Reservation, User
from parking_desktop.adapters.db.models_money import Payment, Receipt
from parking_desktop.domain.documents import ReceiptDocument
from parking_desktop.domain.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
)
from parking_desktop.domain.money import (
    PaymentKind,
    PaymentMethod,
    ReasonCode,
    ReceiptData,
    split_vat,
)
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager, require_self_or_staff, require_staff
from parking_desktop.services.money.documents import receipt_document
from parking_desktop.services.money.exceptions import (
    exception_view,
    exceptions_query,
    reason_code,
    reason_text,
)
from parking_desktop.services.money.formatting import format_money
from parking_desktop.services.money.payments import (
    PaymentLedger,
    lot_and_spot,
    payment_view,
    payments_query,
)
from parking_desktop.services.money.policy import MoneyPolicy
from parking_desktop.services.money.receipts import receipt_label
from parking_desktop.services.money.shifts import QueueMail, ShiftService
from parking_desktop.services.money.views import (
    DigestSummary,
    ExceptionFilter,
    ExceptionView,
    ManagerSignIn,
    PaymentRequest,
    PaymentView,
    TotalRow,
)
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.tariffs import store as tariffs
from parking_desktop.services.views import Receipt as ReceiptView

Authenticate = Callable[[str, str], tuple[Actor, Any]]
TOPICS = ("payments", "exceptions", "shifts", "activity")


class MoneyService(ShiftService):
    """Shifts (inherited), payments at check-out, refunds and voids, receipts, totals and the
    exceptions queue."""

    def __init__(
        self,
        ctx: ServiceContext,
        policy: MoneyPolicy,
        parking: ParkingService,
        ledger: PaymentLedger,
        authenticate: Authenticate,
        *,
        queue_mail: QueueMail | None = None,
        render_pdf: Callable[..., bytes] | None = None,
    ) -> None:
        super().__init__(ctx, policy, queue_mail=queue_mail, render_pdf=render_pdf)
        self.parking = parking
        self.ledger = ledger
        self.authenticate = authenticate

    # --- formatting ---------------------------------------------------------------------------
    def format(self, amount: Decimal, currency: str | None = None) -> str:
        """An amount as the site writes it (locale and currency)."""
        return format_money(amount, currency or self.policy.currency, self.policy.locale)

    @property
    def currency(self) -> str:
        return self.policy.currency

    # --- check-out ----------------------------------------------------------------------------
    def release(
        self, actor: Actor, reservation_id: int, request: PaymentRequest | None = None
    ) -> ReceiptView:
        """Release a parked car and record how it was paid (one transaction)."""
        return self.parking.release(
            actor, reservation_id, payment=self._approved(request or PaymentRequest())
        )

    def check_out(
        self, actor: Actor, vehicle: str, request: PaymentRequest | None = None
    ) -> ReceiptView:
        require_staff(actor, "check vehicles out")
        return self.parking.check_out(
            actor, vehicle, payment=self._approved(request or PaymentRequest())
        )

    def force_release(
        self, actor: Actor, spot_id: int, reason: str, request: PaymentRequest | None = None
    ) -> ReceiptView | None:
        return self.parking.force_release(
            actor, spot_id, reason, payment=self._approved(request or PaymentRequest())
        )

    def _approved(self, request: PaymentRequest) -> PaymentRequest:
        if request.manager is None:
            return request
        manager = self._manager(request.manager)
        return replace(
            request, manager=None, approved_by_id=manager.user_id, approved_by_name=manager.username
        )

    def _manager(self, credential: ManagerSignIn) -> Actor:
        try:
            manager, _ = self.authenticate(credential.login, credential.password)
        except AuthenticationError as exc:
            raise PermissionDeniedError(f"Manager approval refused: {exc}") from None
        if not manager.is_manager:
            raise PermissionDeniedError(
                f"{manager.username} is not a manager: a manager must approve this."
            )
        return manager

    # --- refunds and voids ----------------------------------------------------------------------
    def refund(
        self,
        actor: Actor,
        payment_id: int,
        code: ReasonCode | str,
        text: str,
        *,
        amount: Decimal | None = None,
        method: PaymentMethod | None = None,
        manager: ManagerSignIn | None = None,
    ) -> PaymentView:
        """Give back part or all of a payment (a new negative row). A manager does it, or an
        attendant with a manager's sign-in on the spot."""
        return self._correct(
            actor,
            payment_id,
            PaymentKind.REFUND,
            code,
            text,
            amount=amount,
            method=method,
            manager=manager,
        )

    def void(
        self,
        actor: Actor,
        payment_id: int,
        code: ReasonCode | str,
        text: str,
        *,
        manager: ManagerSignIn | None = None,
    ) -> PaymentView:
        """Cancel a payment keyed by mistake: a negative row for all that is left of it."""
        return self._correct(actor, payment_id, PaymentKind.VOID, code, text, manager=manager)

    def _correct(
        self,
        actor: Actor,
        payment_id: int,
        kind: PaymentKind,
        code: ReasonCode | str,
        text: str,
        *,
        amount: Decimal | None = None,
        method: PaymentMethod | None = None,
        manager: ManagerSignIn | None = None,
    ) -> PaymentView:
        require_staff(actor, "refund or void payments")
        approver = self._manager(manager) if manager is not None else None
        if approver is None:
            require_manager(
                actor,
                f"{'void' if kind is PaymentKind.VOID else 'refund'} a "
                "payment (or a manager signs in to approve it)",
            )
        why_code = reason_code(code)
        why = reason_text(text, required=True)
        with self.ctx.write(*TOPICS) as session:
            return self.ledger.correct(
                session,
                actor,
                payment_id,
                kind,
                self.ctx.clock.now(),
                code=why_code,
                text=why,
                amount=amount,
                method=method,
                approved_by=approver.user_id if approver else actor.user_id,
            )

    # --- reading --------------------------------------------------------------------------------
    def payments_of(self, actor: Actor, reservation_id: int) -> list[PaymentView]:
        """A stay's payment and its refunds or voids, oldest first."""
        with self.ctx.read() as session:
            owner = session.scalar(
                select(Reservation.user_id).where(Reservation.id == reservation_id)
            )
            require_self_or_staff(actor, owner, "see payments")
            rows = session.execute(
                payments_query()
                .where(Payment.reservation_id == reservation_id)
                .order_by(Payment.id)
            ).all()
            return [payment_view(p, n) for p, n in rows]

    def shift_payments(self, actor: Actor, shift_id: int) -> list[PaymentView]:
        with self.ctx.read() as session:
            self._load(session, actor, shift_id)
            rows = session.execute(
                payments_query().where(Payment.shift_id == shift_id).order_by(Payment.id)
            ).all()
            return [payment_view(p, n) for p, n in rows]

    def receipt(self, actor: Actor, payment_id: int) -> ReceiptData:
        """What the printed (PDF) receipt of a payment, refund or void says."""
        with self.ctx.read() as session:
            row = session.execute(
                select(Payment, Receipt.number, Reservation, ParkingLot)
                .join(Receipt, Receipt.id == Payment.receipt_id)
                .outerjoin(Reservation, Reservation.id == Payment.reservation_id)
                .join(ParkingLot, ParkingLot.id == Payment.lot_id)
                .where(Payment.id == payment_id)
            ).first()
            if row is None:
                raise NotFoundError(f"There is no payment with id {payment_id}.")
            p, number, r, lot = row
            require_self_or_staff(actor, r.user_id if r else None, "see this receipt")
            return self._receipt_data(session, p, number, r, lot)

    def receipt_document(self, actor: Actor, payment_id: int) -> ReceiptDocument:
        """The receipt as the PDF renderer's document (what the kiosk prints and e-mails)."""
        data = self.receipt(actor, payment_id)
        with self.ctx.read() as session:
            driver = session.execute(
                select(User.full_name, User.username)
                .join(Reservation, Reservation.user_id == User.id)
                .join(Payment, Payment.reservation_id == Reservation.id)
                .where(Payment.id == payment_id)
            ).first()
        name = (driver[0] or driver[1]) if driver is not None else ""
        return receipt_document(data, time_zone=str(self.ctx.tz), driver=name)

    def receipt_pdf(self, actor: Actor, payment_id: int) -> bytes:
        from parking_desktop.adapters.pdf import render_receipt_pdf  # fpdf2: on first use

        return render_receipt_pdf(self.receipt_document(actor, payment_id))

    def _receipt_data(
        self, session: Session, p: Payment, number: int, r: Reservation | None, lot: ParkingLot
    ) -> ReceiptData:
        tz = self.ctx.tz
        spot_number = ""
        hours = Decimal(0)
        lines: list[tuple[str, Decimal]] = []
        if r is not None and r.parked_at is not None and r.left_at is not None:
            _, spot = lot_and_spot(session, r.id)
            spot_number = spot.number
            # The fee as the tariff version the stay recorded explains it, line by line
            # (docs/tariffs.md); a stay from before tariffs: the flat rule, one line.
            _, version = tariffs.version_of(session, r)
            priced = tariffs.price(version, r.parked_at, r.left_at, tz)
            hours = tariffs.billed_hours(priced)
            if p.kind == PaymentKind.PAYMENT.value:
                lines += [(line.label, line.amount) for line in priced.lines]
                if p.amount != priced.total:
                    lines.append(
                        (
                            f"Adjustment: {p.reason_text or p.reason_code or ''}".strip(),
                            p.amount - priced.total,
                        )
                    )
        if p.kind != PaymentKind.PAYMENT.value:
            lines.append((f"{p.kind.capitalize()} of payment {p.refers_to}", p.amount))
        left = r.left_at if r is not None and r.left_at is not None else p.taken_at
        parked = r.parked_at if r is not None and r.parked_at is not None else p.taken_at
        return ReceiptData(
            receipt_number=receipt_label(number),
            site_name=self.policy.site_name,
            lot_name=lot.name,
            lot_address=lot.address,
            spot_number=spot_number,
            vehicle_number=r.vehicle_number if r is not None else "",
            parked_at=parked.astimezone(tz),
            left_at=left.astimezone(tz),
            hours=hours,
            price_per_hour=r.price_per_hour if r is not None else lot.price_per_hour,
            lines=tuple(lines),
            vat=split_vat(p.amount, self.policy.vat_rate),
            currency=p.currency,
            locale=self.policy.locale,
            method=PaymentMethod(p.method),
            tendered=p.tendered,
            change=p.change,
            taken_by=p.taken_by_name,
            taken_at=p.taken_at.astimezone(tz),
            kind=PaymentKind(p.kind),
            reason=p.reason_text or p.reason_code,
        )

    def totals(self, actor: Actor, start: datetime, end: datetime) -> list[TotalRow]:
        """Money taken per site-local day, lot, method and attendant in [start, end), from the
        payments (refunds and voids subtract on the day they were made)."""
        require_manager(actor, "see payment totals")
        start_at, end_at = self.ctx.aware(start), self.ctx.aware(end)
        sums: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, Decimal("0.00")])
        with self.ctx.read() as session:
            rows = session.execute(
                select(
                    Payment.taken_at,
                    Payment.lot_id,
                    ParkingLot.name,
                    Payment.method,
                    Payment.taken_by_name,
                    Payment.currency,
                    Payment.kind,
                    Payment.amount,
                )
                .join(ParkingLot, ParkingLot.id == Payment.lot_id)
                .where(Payment.taken_at >= start_at, Payment.taken_at < end_at)
            )
            for taken_at, lot_id, lot_name, method, who, currency, kind, amount in rows:
                key = (
                    taken_at.astimezone(self.ctx.tz).date(),
                    lot_id,
                    lot_name,
                    method,
                    who,
                    currency,
                )
                entry = sums[key]
                entry[0] += 1 if kind == PaymentKind.PAYMENT.value else 0
                entry[1] += amount
        return [
            TotalRow(
                day=k[0],
                lot_id=k[1],
                lot_name=k[2],
                method=PaymentMethod(k[3]),
                attendant=k[4],
                currency=k[5],
                count=v[0],
                amount=v[1],
            )
            for k, v in sorted(sums.items(), key=lambda item: item[0])
        ]

    def exceptions(
        self, actor: Actor, filters: ExceptionFilter | None = None
    ) -> list[ExceptionView]:
        """The exceptions queue, newest first (managers)."""
        require_manager(actor, "review exceptions")
        filters = filters or ExceptionFilter()
        filters = replace(
            filters, start=self.ctx.aware(filters.start), end=self.ctx.aware(filters.end)
        )
        with self.ctx.read() as session:
            return [exception_view(*row) for row in session.execute(exceptions_query(filters))]

    # --- the daily digest (a job) ------------------------------------------------------------
    def queue_exceptions_digest(
        self, day: date, *, heartbeat: Callable[[], None] | None = None
    ) -> DigestSummary:
        """Queue one mail per manager listing ``day``'s exceptions (site time); the
        idempotency key makes a second run of the same day queue nothing."""
        start = datetime.combine(day, time(0), self.ctx.tz)
        found = self.exceptions(
            SYSTEM, ExceptionFilter(start=start, end=start + timedelta(days=1), limit=5000)
        )
        if heartbeat is not None:
            heartbeat()
        lines = [self._digest_line(e) for e in reversed(found)] or ["No exceptions."]
        text = (
            f"{self.policy.site_name}: exceptions of {day:%A %d %B %Y} "
            f"({len(found)})\n\n" + "\n".join(lines) + "\n"
        )
        with self.ctx.write("outbox") as session:
            queued = self._mail_managers(
                session,
                subject=f"Exceptions of {day:%d %b %Y}: {len(found)}",
                text=text,
                kind="exceptions_digest",
                key=f"exceptions-digest:{day.isoformat()}",
            )
        return DigestSummary(day, len(found), queued)

    def _digest_line(self, e: ExceptionView) -> str:
        amount = "" if e.amount is None else " " + self.format(e.amount, e.currency)
        approved = f", approved by {e.approved_by}" if e.approved_by else ""
        where = f" {e.lot_name}" if e.lot_name else ""
        vehicle = f" {e.vehicle_number}" if e.vehicle_number else ""
        return (
            f"{e.created_at.astimezone(self.ctx.tz):%H:%M} {e.kind.value}{amount}{where}"
            f"{vehicle} - {e.reason_code.value}: {e.reason_text} ({e.actor}{approved})"
        )


def denominations_of(raw: Mapping[str, int]) -> dict[Decimal, int]:
    """{"20": 3, "0.50": 4} as typed to {Decimal("20"): 3, ...}."""
    return {Decimal(k): int(v) for k, v in raw.items()}
