"""E-mailing a receipt: the PDF travels as an attachment through the outbox (transactional mail,
retried while the server is away), to the driver's account address or to an address typed at
the kiosk for a walk-in."""

from __future__ import annotations

from sqlalchemy import select

from parking_desktop.adapters.db.models import User
from parking_desktop.adapters.pdf import render_receipt_pdf
from parking_desktop.domain.documents import ReceiptDocument
from parking_desktop.domain.errors import NotFoundError, ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.guards import require_self_or_staff
from parking_desktop.services.mail.email import EmailService
from parking_desktop.services.mail.outbox import Enqueued
from parking_desktop.services.parking.activity import record


def email_receipt(
    email: EmailService,
    actor: Actor,
    receipt: ReceiptDocument,
    *,
    user_id: int | None = None,
    address: str = "",
    deliver_now: bool = True,
) -> Enqueued:
    """Queue ``receipt`` as a PDF to driver ``user_id`` (their account's address unless
    ``address`` is given) or to ``address`` alone (a walk-in). Staff, or the driver for their
    own receipt. ``deliver_now``: try the server at once, since the driver is waiting; a failure
    leaves the mail queued for the dispatcher's retries, never lost."""
    require_self_or_staff(actor, user_id, "e-mail this receipt")
    ctx = email.ctx
    name = "customer"
    with ctx.read() as session:
        if user_id is not None:
            user = session.scalars(select(User).where(User.id == user_id)).one_or_none()
            if user is None:
                raise NotFoundError(f"There is no user {user_id}.")
            address = address.strip() or (user.email or "")
            name = user.full_name or user.username
    if not address.strip():
        raise ValidationError("There is no e-mail address to send the receipt to; type one.")
    pdf = render_receipt_pdf(receipt)  # before the transaction: it is the slow part
    with ctx.write("outbox", "activity") as session:
        queued = email.send_receipt(address, name, receipt, pdf, user=user_id, session=session)
        if queued.created:
            record(
                session,
                actor.user_id,
                "receipt_emailed",
                {
                    "receipt_number": receipt.receipt_number,
                    "for_user_id": user_id,
                    "mail_id": queued.id,
                },
                ctx.clock.now(),
            )
    if deliver_now and queued.created:
        email.outbox.deliver_now(queued.id)
    return queued
