"""The mail service the rest of the program calls (``app.email``).

Every mail is rendered from ``templates/`` and ENQUEUED in the outbox; the dispatcher delivers
it (scheduler, ``mail flush``, or at once for a test mail). The sending operations
(``send_daily_reminder``, ``send_monthly_report``, ``send_export_ready``, ``send_system_alert``)
are called by jobs acting as the system; each takes an optional ``session`` so a job can queue
its mails in the same transaction as the rest of its work. Screens call the actor-first methods
(mail settings, test mail, test chat message), which are manager-only; the settings live in
``settings.py``, Chat and SMS in ``notify.py``, what callers hand over in ``messages.py``."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import User
from parking_desktop.adapters.mail.message import attachment
from parking_desktop.adapters.mail.templates import MailRenderer
from parking_desktop.adapters.notifiers.base import NotifyResult
from parking_desktop.adapters.notifiers.google_chat import GoogleChatNotifier
from parking_desktop.adapters.notifiers.sms import TwilioSmsNotifier
from parking_desktop.adapters.secrets import KeyringStatus, SecretStore
from parking_desktop.config import Settings
from parking_desktop.domain.documents import ReceiptDocument, method_label
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.locale_format import format_amount, format_moment
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.mail.messages import (
    ExportJobInfo,
    MailUser,
    MonthlyReportLike,
    recipient_address,
    user_id,
)
from parking_desktop.services.mail.monthly_mail import build_monthly_mail
from parking_desktop.services.mail.notify import Notifiers, sms_notifier
from parking_desktop.services.mail.outbox import (
    CHAT_KIND,
    CHAT_RECIPIENT,
    Enqueued,
    OutboxService,
    OutboxView,
    OutgoingMail,
)
from parking_desktop.services.mail.settings import MailSettings, MailSettingsBox, MailSettingsView
from parking_desktop.services.views import ReservationView, UserView

log = logging.getLogger(__name__)

SITE_NAME = "Parking Desktop"
ATTACH_LIMIT_BYTES = 5 * 1024 * 1024  # export files up to this size travel with the mail


@dataclass(frozen=True)
class TestMailResult:
    ok: bool
    message: str
    mail: OutboxView


class EmailService:
    def __init__(
        self,
        ctx: ServiceContext,
        outbox: OutboxService,
        box: MailSettingsBox,
        secrets: SecretStore,
        *,
        renderer: MailRenderer | None = None,
        chat: GoogleChatNotifier | None = None,
        sms: TwilioSmsNotifier | None = None,
        site_name: str = SITE_NAME,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.outbox = outbox
        self.box = box
        self.secrets = secrets
        self.renderer = renderer or MailRenderer(ctx.tz)
        self.settings = MailSettings(ctx, box, secrets, environ)
        self.notifiers = Notifiers(lambda: box.settings.google_chat_webhook_url,
                                   site_name=site_name, chat=chat, sms=sms)
        self.chat = self.notifiers.chat
        self.sms = self.notifiers.sms
        self.site_name = site_name
        outbox.chat = self.chat.send  # the outbox posts queued Chat notices

    # --- the mails -----------------------------------------------------------------------
    # Each send_* renders and queues one mail; build_* only renders (for jobs that queue many
    # at once with ``outbox.enqueue_many``). ``key`` replaces the default idempotency key.
    def build_daily_reminder(self, user: MailUser, parking_lots_count: int, *,
                             key: str | None = None) -> OutgoingMail:
        """The default key allows one reminder per driver per day (site time zone)."""
        uid = user_id(user)
        today = self.ctx.clock.now().astimezone(self.ctx.tz).date()
        body = self.renderer.render("daily_reminder", **self._base(user),
                                    parking_lots_count=parking_lots_count)
        return self._mail(user, "daily_reminder", key or f"reminder:{uid}:{today.isoformat()}",
                          "Free parking spots are waiting for you", body.text, body.html)

    def send_daily_reminder(self, user: MailUser, parking_lots_count: int, *,
                            key: str | None = None, session: Session | None = None) -> Enqueued:
        return self.outbox.enqueue(
            self.build_daily_reminder(user, parking_lots_count, key=key), session=session)

    def build_monthly_report(self, user: MailUser, report_data: MonthlyReportLike, *,
                             key: str | None = None) -> OutgoingMail:
        return build_monthly_mail(self.renderer, self.site_fields(), user, report_data, key)

    def send_monthly_report(self, user: MailUser, report_data: MonthlyReportLike, *,
                            key: str | None = None, session: Session | None = None) -> Enqueued:
        return self.outbox.enqueue(
            self.build_monthly_report(user, report_data, key=key), session=session)

    def send_export_ready(self, user: MailUser, job: ExportJobInfo, *,
                          session: Session | None = None) -> Enqueued:
        """Tells the requester their export is ready; attaches the file when it is small."""
        files: tuple[dict[str, Any], ...] = ()
        filename = Path(job.file_path).name if job.file_path else f"export-{job.job_id}.csv"
        if job.file_path:
            path = Path(job.file_path)
            try:
                if path.stat().st_size <= ATTACH_LIMIT_BYTES:
                    kind = "application/zip" if path.suffix == ".zip" else "text/csv"
                    files = (attachment(filename, kind, path.read_bytes()),)
            except OSError as exc:
                log.warning("Export file %s cannot be attached: %s", path, exc)
        body = self.renderer.render("export_ready", **self._base(user), job=job,
                                    filename=filename, attached=bool(files))
        mail = self._mail(user, "export_ready", f"export_ready:{job.job_id}",
                          "Your parking history export is ready", body.text, body.html,
                          attachments=files)
        return self.outbox.enqueue(mail, session=session)

    def send_no_show(self, user: MailUser, booking: ReservationView, hold_minutes: int, *,
                     session: Session | None = None) -> Enqueued:
        """Tells a driver their booking was cancelled because the car never parked (the
        no-show job, in its cancelling transaction): once per booking."""
        body = self.renderer.render("no_show", **self._base(user), booking=booking,
                                    hold_minutes=hold_minutes)
        mail = self._mail(user, "no_show", f"no_show:{booking.id}",
                          f"Booking cancelled: {booking.vehicle_number} at {booking.lot_name}",
                          body.text, body.html)
        return self.outbox.enqueue(mail, session=session)

    def send_receipt(self, address: str, name: str, receipt: ReceiptDocument, pdf: bytes, *,
                     user: int | None = None, session: Session | None = None) -> Enqueued:
        """A receipt as a PDF attachment (transactional: queued and then delivered like every
        mail). Once per receipt number and address, however often "E-mail" is pressed."""
        when = receipt.time_zone, receipt.locale
        body = self.renderer.render(
            "receipt", site_name=self.site_name, subject="", name=name, receipt=receipt,
            arrived=format_moment(receipt.arrived_at, *when),
            left=format_moment(receipt.left_at, *when),
            total=format_amount(receipt.gross, receipt.currency, receipt.locale),
            method=method_label(receipt.payment_method),
        )
        filename = f"receipt-{_file_safe(receipt.receipt_number)}.pdf"
        return self.outbox.enqueue(OutgoingMail(
            recipient=recipient_address(address),
            subject=f"Your parking receipt {receipt.receipt_number}", text=body.text,
            html=body.html, kind="receipt",
            idempotency_key=f"receipt:{receipt.receipt_number}:{address.strip().lower()}"[:200],
            user_id=user, attachments=(attachment(filename, "application/pdf", pdf),),
        ), session=session)

    def send_system_alert(
        self,
        title: str,
        message: str,
        *,
        details: Sequence[tuple[str, str]] = (),
        key: str | None = None,
        chat: bool = True,
        session: Session | None = None,
    ) -> list[Enqueued]:
        """Mail every active manager with an address, and post to Google Chat. ``key`` makes
        it once-only (default: the same title and message once per day)."""
        now = self.ctx.clock.now()
        if key is None:
            digest = hashlib.sha256(f"{title}\n{message}".encode()).hexdigest()[:16]
            key = f"{digest}:{now.astimezone(self.ctx.tz).date()}"
        managers = self._managers(session)
        queued = []
        for manager in managers:
            body = self.renderer.render(
                "system_alert", site_name=self.site_name, subject=title, title=title,
                message=message, details=list(details), raised_at=now,
            )
            mail = self._mail(manager, "system_alert", f"alert:{key}:{manager.id}",
                              f"[{self.site_name}] {title}", body.text, body.html)
            queued.append(self.outbox.enqueue(mail, session=session))
        if chat and (any(q.created for q in queued) or not managers):  # once, like the mails
            self.notify_chat(f"*{title}*\n{message}")
        return queued

    def queue_chat(self, session: Session | None, text: str, key: str) -> None:
        """Queue a notice for the managers' Chat space in the caller's transaction; the
        outbox posts it (and retries while Chat is away). Nothing when Chat is not set up."""
        if not self.chat.configured:
            return
        self.outbox.enqueue(OutgoingMail(
            recipient=CHAT_RECIPIENT, subject=text.splitlines()[0][:200], text=text, html=None,
            kind=CHAT_KIND, idempotency_key=key), session=session)

    def notify_chat(self, text: str) -> NotifyResult:
        """Job summaries and alerts to the managers' Chat space. Never raises."""
        return self.notifiers.notify_chat(text)

    # --- the Settings → Mail screen (settings.py) ------------------------------------------
    def keyring_status(self) -> KeyringStatus:
        return self.secrets.status()

    def mail_settings(self, actor: Actor) -> MailSettingsView:
        return self.settings.view(actor)

    def save_mail_settings(self, actor: Actor, values: Mapping[str, str]) -> MailSettingsView:
        """Validate and save the server fields to the settings file (never a password)."""
        return self.settings.save(actor, values)

    def set_smtp_password(self, actor: Actor, password: str) -> MailSettingsView:
        return self.settings.set_smtp_password(actor, password)

    def field_problems(self, values: Mapping[str, str]) -> dict[str, str]:
        return self.settings.field_problems(values)

    def send_test_chat(self, actor: Actor) -> NotifyResult:
        return self.notifiers.send_test_chat(actor)

    # What each button of the Mail screen does, as one call with what is on screen. A save
    # reports every problem of the fields at once (``problems``: those the screen already
    # found) and saves nothing while there is one; a test first saves what is on screen, so
    # it tests that.
    def save_mail_settings_checked(
        self, actor: Actor, values: Mapping[str, str], problems: Mapping[str, str] | None = None,
    ) -> MailSettingsView | dict[str, str]:
        """The saved settings, or every field's problem (nothing saved)."""
        found = {**(problems or {}), **self.field_problems(values)}
        return found or self.save_mail_settings(actor, values)

    def save_and_store_password(self, actor: Actor, values: Mapping[str, str],
                                password: str) -> MailSettingsView:
        """The password belongs to the user name on screen: that is saved first."""
        self.save_mail_settings(actor, values)
        return self.set_smtp_password(actor, password)

    def save_and_send_test(
        self, actor: Actor, values: Mapping[str, str], to: str,
        problems: Mapping[str, str] | None = None,
    ) -> TestMailResult | dict[str, str]:
        """What the server said to a test mail sent with the settings on screen, or every
        field's problem (nothing saved, nothing sent)."""
        saved = self.save_mail_settings_checked(actor, values, problems)
        if isinstance(saved, dict):
            return saved
        return self.send_test(actor, to)

    def save_and_send_test_chat(self, actor: Actor, webhook_url: str) -> NotifyResult:
        """A test message to the Chat address on screen (saved first)."""
        self.save_mail_settings(actor, {"GOOGLE_CHAT_WEBHOOK_URL": webhook_url})
        return self.send_test_chat(actor)

    def send_test(self, actor: Actor, to: str) -> TestMailResult:
        """Queue a test mail and deliver it at once; the result says what the server said."""
        require_manager(actor, "send a test e-mail")
        address = recipient_address(to)
        config = self.box.smtp_config()
        body = self.renderer.render(
            "test_message", site_name=self.site_name, subject="Test message",
            sent_at=self.ctx.clock.now(), requested_by=actor.username, server=config.describe(),
        )
        queued = self.outbox.enqueue(OutgoingMail(
            recipient=address, subject=f"{self.site_name} test message", text=body.text,
            html=body.html, kind="test", idempotency_key=f"test:{uuid.uuid4()}",
            user_id=actor.user_id,
        ))
        mail = self.outbox.deliver_now(queued.id)
        if mail.status == "sent":
            return TestMailResult(True, f"Sent to {address} through {config.describe()}.", mail)
        waiting = " It stays in the outbox and will be retried." if mail.status == "pending" else ""
        return TestMailResult(False, f"Not sent: {mail.last_error}{waiting}", mail)

    # --- helpers --------------------------------------------------------------------------
    def _base(self, user: MailUser) -> dict[str, Any]:
        return {**self.site_fields(), "name": user.full_name or user.username}

    def site_fields(self) -> dict[str, Any]:
        """What every mail's template gets besides its own data (plain values: a report
        worker process gets them too)."""
        return {"site_name": self.site_name, "subject": "",
                "unsubscribe_address": self.box.settings.mail_unsubscribe_address}

    def sender(self) -> str:
        """The From address (message ids are made from it)."""
        return self.box.sender

    def _mail(self, user: MailUser, kind: str, key: str, subject: str, text: str,
              html: str, *, attachments: tuple[dict[str, Any], ...] = ()) -> OutgoingMail:
        if not user.email:
            raise ValidationError(f"{user.username} has no e-mail address.")
        return OutgoingMail(recipient=user.email, subject=subject, text=text, html=html,
                            kind=kind, idempotency_key=key, user_id=user_id(user),
                            attachments=attachments)

    def _managers(self, session: Session | None) -> list[UserView]:
        query = (select(User).where(User.role == Role.MANAGER.value, User.is_active.is_(True),
                                    User.email.is_not(None)).order_by(User.id))
        if session is not None:
            return [_user_view(u) for u in session.scalars(query)]
        with self.ctx.read() as own:
            return [_user_view(u) for u in own.scalars(query)]


def _file_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:60] or "receipt"


def _user_view(user: User) -> UserView:
    return UserView(
        id=user.id, username=user.username, email=user.email, full_name=user.full_name,
        role=Role(user.role), is_active=user.is_active, last_login=user.last_login,
        last_booking=user.last_booking, created_at=user.created_at,
    )


def build_email_service(
    ctx: ServiceContext,
    settings: Settings,
    *,
    secrets: SecretStore | None = None,
    environ: Mapping[str, str] | None = None,
) -> EmailService:
    """The mail stack for ``build_app``: live settings, keyring, SMTP transport, outbox."""
    from parking_desktop.adapters.mail.transport import SmtpTransport

    box = MailSettingsBox(settings)
    store = secrets or SecretStore(environ=environ)

    def transport() -> SmtpTransport:
        config = box.smtp_config()
        return SmtpTransport(config, lambda: store.smtp_password(config.username))

    outbox = OutboxService(ctx, transport, lambda: box.sender,
                           unsubscribe=lambda: box.settings.mail_unsubscribe_address)
    return EmailService(ctx, outbox, box, store, sms=sms_notifier(settings), environ=environ)
