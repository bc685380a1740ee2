"""E-mail and manager notifications.

Every mail is rendered from ``templates/`` and ENQUEUED in the outbox; the dispatcher delivers
it (scheduler, ``mail flush``, or at once for a test mail). The sending operations
(``send_daily_reminder``, ``send_monthly_report``, ``send_export_ready``, ``send_system_alert``)
are called by jobs acting as the system; each takes an optional ``session`` so a job can queue
its mails in the same transaction as the rest of its work. Screens call the actor-first methods
(mail settings, test mail, test chat message), which are manager-only."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import User
from parking_desktop.adapters.mail.charts import bars
from parking_desktop.adapters.mail.message import attachment
from parking_desktop.adapters.mail.templates import MailRenderer
from parking_desktop.adapters.mail.transport import SmtpConfig
from parking_desktop.adapters.notifiers.base import NotifyResult
from parking_desktop.adapters.notifiers.google_chat import GoogleChatNotifier, check_webhook_url
from parking_desktop.adapters.notifiers.sms import TwilioSmsNotifier
from parking_desktop.adapters.secrets import KeyringStatus, SecretStore, SecretStoreError
from parking_desktop.config import (
    Settings,
    mail_ca_file_problem,
    mail_sender_problem,
    read_settings_file,
    shown_value,
    write_settings_file,
)
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.mail.outbox import (
    CHAT_KIND,
    CHAT_RECIPIENT,
    Enqueued,
    OutboxService,
    OutboxView,
    OutgoingMail,
)
from parking_desktop.services.parking.activity import record
from parking_desktop.services.views import UserView

log = logging.getLogger(__name__)

SITE_NAME = "Parking Desktop"
ATTACH_LIMIT_BYTES = 5 * 1024 * 1024  # export files up to this size travel with the mail

# The settings the Mail screen edits, under their environment names.
MAIL_FIELDS = (
    "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME",
    "MAIL_DEFAULT_SENDER", "MAIL_CA_FILE", "GOOGLE_CHAT_WEBHOOK_URL",
)
_ATTR = {
    "MAIL_SERVER": "mail_server", "MAIL_PORT": "mail_port", "MAIL_USE_TLS": "mail_use_tls",
    "MAIL_USE_SSL": "mail_use_ssl", "MAIL_USERNAME": "mail_username",
    "MAIL_DEFAULT_SENDER": "mail_default_sender", "MAIL_CA_FILE": "mail_ca_file",
    "GOOGLE_CHAT_WEBHOOK_URL": "google_chat_webhook_url",
}


# --- what the jobs hand us ------------------------------------------------------------------
@dataclass(frozen=True)
class BookingLine:
    lot_name: str
    spot_number: str
    vehicle_number: str
    parked_at: datetime | None
    left_at: datetime | None
    hours: Decimal
    cost: Decimal | None


@dataclass(frozen=True)
class MonthlyReportData:
    """A monthly report as the template reads it (the jobs' MonthlyReport has the same shape)."""

    month: date  # any day of the reported month; or an object whose .key is 'YYYY-MM'
    bookings: int
    total_spent: Decimal
    hours_parked: Decimal
    most_used_lot: str | None = None
    last_bookings: Sequence[BookingLine] = ()  # newest first, usually five
    daily_spending: Sequence[tuple[date, Decimal]] = ()  # days with no spending may be left out
    spending_by_lot: Sequence[tuple[str, Decimal]] = ()  # largest first


class BookingLineLike(Protocol):
    @property
    def lot_name(self) -> str: ...
    @property
    def spot_number(self) -> str: ...
    @property
    def vehicle_number(self) -> str: ...
    @property
    def parked_at(self) -> datetime | None: ...
    @property
    def hours(self) -> Decimal: ...
    @property
    def cost(self) -> Decimal | None: ...


class MonthlyReportLike(Protocol):
    @property
    def month(self) -> object: ...
    @property
    def bookings(self) -> int: ...
    @property
    def total_spent(self) -> Decimal: ...
    @property
    def hours_parked(self) -> Decimal: ...
    @property
    def most_used_lot(self) -> str | None: ...
    @property
    def last_bookings(self) -> Sequence[BookingLineLike]: ...
    @property
    def daily_spending(self) -> Sequence[tuple[date, Decimal]]: ...
    @property
    def spending_by_lot(self) -> Sequence[tuple[str, Decimal]]: ...


class MailUser(Protocol):
    """A recipient: a UserView (``id``) or a job's recipient record (``user_id``)."""

    @property
    def username(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def full_name(self) -> str: ...


class ExportJobInfo(Protocol):
    """What the export-ready mail needs of an export job (exports' ExportJobView has it)."""

    @property
    def job_id(self) -> str: ...
    @property
    def row_count(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def file_path(self) -> str | None: ...


# --- live mail settings ---------------------------------------------------------------------
class MailSettingsBox:
    """The mail settings in force. The Mail screen changes them without a restart; the
    transport factory and sender read them at send time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def smtp_config(self) -> SmtpConfig:
        return SmtpConfig.from_settings(self.settings)

    @property
    def sender(self) -> str:
        return self.settings.mail_default_sender


@dataclass(frozen=True)
class MailSettingsView:
    values: dict[str, str]  # MAIL_* and GOOGLE_CHAT_WEBHOOK_URL as shown/edited
    from_environment: tuple[str, ...]  # names whose environment value wins over the file
    password: str  # 'keyring', 'environment' or 'none' — never the password itself
    keyring: KeyringStatus
    settings_file: str
    notes: tuple[str, ...] = field(default=())


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
        self.chat = chat or GoogleChatNotifier(lambda: box.settings.google_chat_webhook_url)
        # Disabled (records only) until TWILIO_ACCOUNT_SID/_AUTH_TOKEN/_FROM_NUMBER are set.
        self.sms = sms or TwilioSmsNotifier()
        self.site_name = site_name
        self._environ = environ
        outbox.chat = self.chat.send  # the outbox posts queued Chat notices

    # --- the mails -----------------------------------------------------------------------
    # Each send_* renders and queues one mail; build_* only renders (for jobs that queue many
    # at once with ``outbox.enqueue_many``). ``key`` replaces the default idempotency key.
    def build_daily_reminder(self, user: MailUser, parking_lots_count: int, *,
                             key: str | None = None) -> OutgoingMail:
        """The default key allows one reminder per driver per day (site time zone)."""
        uid = _user_id(user)
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
        month = _month_start(report_data.month)
        label = month.strftime("%B %Y")
        by_day = _days_of_month(month, report_data.daily_spending)
        active = report_data.bookings > 0
        body = self.renderer.render(
            "monthly_report", **self._base(user), report=report_data, month_label=label,
            by_day=bars([(str(d.day), v) for d, v in by_day]) if active else [],
            by_week=bars(_weeks(by_day)) if active else [],
            by_lot=bars(list(report_data.spending_by_lot)) if active else [],
        )
        return self._mail(user, "monthly_report",
                          key or f"monthly:{_user_id(user)}:{month:%Y-%m}",
                          f"Your parking report for {label}", body.text, body.html)

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
                    files = (attachment(filename, "text/csv", path.read_bytes()),)
            except OSError as exc:
                log.warning("Export file %s cannot be attached: %s", path, exc)
        body = self.renderer.render("export_ready", **self._base(user), job=job,
                                    filename=filename, attached=bool(files))
        mail = self._mail(user, "export_ready", f"export_ready:{job.job_id}",
                          "Your parking history export is ready", body.text, body.html,
                          attachments=files)
        return self.outbox.enqueue(mail, session=session)

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
        try:
            return self.chat.send(text)
        except Exception as exc:  # a notifier bug must not fail the job that called it
            log.exception("Google Chat notifier failed")
            return NotifyResult(False, f"Google Chat notifier failed: {type(exc).__name__}.")

    # --- the Settings → Mail screen -------------------------------------------------------
    def keyring_status(self) -> KeyringStatus:
        return self.secrets.status()

    def mail_settings(self, actor: Actor) -> MailSettingsView:
        require_manager(actor, "see the mail settings")
        return self._settings_view()

    def save_mail_settings(self, actor: Actor, values: Mapping[str, str]) -> MailSettingsView:
        """Validate and save the server fields to the settings file (never a password)."""
        require_manager(actor, "change the mail settings")
        clean = _validate(values)
        settings = self.box.settings
        before = self._current_values()
        if {**before, **clean}["MAIL_USE_TLS"] == "true" == {**before, **clean}["MAIL_USE_SSL"]:
            raise ValidationError("Choose STARTTLS or SSL, not both.")
        stored = read_settings_file(settings.settings_file)
        stored.update(clean)
        write_settings_file(settings.settings_file, stored)
        env = self._env()
        overrides = {
            _ATTR[name]: _typed(name, value) for name, value in clean.items()
            if not env.get(name)  # the environment still wins over the file
        }
        self.box.settings = settings.with_overrides(**overrides)
        changed = {k: {"before": before[k], "after": v} for k, v in clean.items()
                   if before.get(k) != v and k != "GOOGLE_CHAT_WEBHOOK_URL"}
        hook = clean.get("GOOGLE_CHAT_WEBHOOK_URL")
        if hook is not None and hook != before["GOOGLE_CHAT_WEBHOOK_URL"]:
            changed["GOOGLE_CHAT_WEBHOOK_URL"] = {"before": "(hidden)", "after": "(changed)"}
        if changed:
            with self.ctx.write("activity", "settings") as session:
                record(session, actor.user_id, "settings_changed",
                       {"section": "mail", "changes": changed}, self.ctx.clock.now())
        return self._settings_view()

    def set_smtp_password(self, actor: Actor, password: str) -> MailSettingsView:
        """Store the SMTP password in the keyring; the screen only ever shows "stored"."""
        require_manager(actor, "change the mail password")
        try:
            self.secrets.set_smtp_password(self.box.settings.mail_username, password)
        except SecretStoreError as exc:
            raise ValidationError(str(exc)) from None
        with self.ctx.write("activity") as session:
            record(session, actor.user_id, "settings_changed",
                   {"section": "mail", "changes": {"MAIL_PASSWORD": "stored in the keyring"}},
                   self.ctx.clock.now())
        return self._settings_view()

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

    def field_problems(self, values: Mapping[str, str]) -> dict[str, str]:
        """What is wrong with each field of the Mail screen (empty: nothing), for showing
        next to the fields; reads the file system, so call it off the GUI thread."""
        problems = {}
        for name, check in (("MAIL_DEFAULT_SENDER", mail_sender_problem),
                            ("MAIL_CA_FILE", mail_ca_file_problem)):
            if name in values and (problem := check(str(values[name]).strip())):
                problems[name] = problem
        return problems

    def send_test_chat(self, actor: Actor) -> NotifyResult:
        require_manager(actor, "send a test message")
        return self.notify_chat(f"Test message from {self.site_name}, sent by {actor.username}.")

    # --- helpers --------------------------------------------------------------------------
    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _base(self, user: MailUser) -> dict[str, Any]:
        return {"site_name": self.site_name, "name": user.full_name or user.username,
                "subject": ""}

    def _mail(self, user: MailUser, kind: str, key: str, subject: str, text: str,
              html: str, *, attachments: tuple[dict[str, Any], ...] = ()) -> OutgoingMail:
        if not user.email:
            raise ValidationError(f"{user.username} has no e-mail address.")
        return OutgoingMail(recipient=user.email, subject=subject, text=text, html=html,
                            kind=kind, idempotency_key=key, user_id=_user_id(user),
                            attachments=attachments)

    def _managers(self, session: Session | None) -> list[UserView]:
        query = (select(User).where(User.role == Role.MANAGER.value, User.is_active.is_(True),
                                    User.email.is_not(None)).order_by(User.id))
        if session is not None:
            return [_user_view(u) for u in session.scalars(query)]
        with self.ctx.read() as own:
            return [_user_view(u) for u in own.scalars(query)]

    def _current_values(self) -> dict[str, str]:
        s = self.box.settings
        out = {}
        for name in MAIL_FIELDS:
            value = getattr(s, _ATTR[name])
            out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    def _settings_view(self) -> MailSettingsView:
        env = self._env()
        username = self.box.settings.mail_username
        status = self.secrets.status()
        notes = []
        from_env = tuple(name for name in MAIL_FIELDS if env.get(name))
        if from_env:
            notes.append("Set in the environment, which wins over this screen: "
                         + ", ".join(from_env) + ".")
        if not status.secure:
            notes.append(status.message)
        return MailSettingsView(
            values=self._current_values(), from_environment=from_env,
            password=self.secrets.password_source(username) if username else "none",
            keyring=status, settings_file=str(self.box.settings.settings_file),
            notes=tuple(notes),
        )


def _user_view(user: User) -> UserView:
    return UserView(
        id=user.id, username=user.username, email=user.email, full_name=user.full_name,
        role=Role(user.role), is_active=user.is_active, last_login=user.last_login,
        last_booking=user.last_booking, created_at=user.created_at,
    )


def _user_id(user: MailUser) -> int:
    value = getattr(user, "user_id", None)
    if value is None:
        value = getattr(user, "id", None)
    if value is None:
        raise ValidationError(f"{user.username} is not a saved user.")
    return int(value)


def _month_start(month: object) -> date:
    if isinstance(month, datetime):
        return month.date().replace(day=1)
    if isinstance(month, date):
        return month.replace(day=1)
    key = str(getattr(month, "key", month))  # e.g. the jobs' Month, 'YYYY-MM'
    try:
        return date(int(key[:4]), int(key[5:7]), 1)
    except ValueError:
        raise ValidationError(f"'{key}' is not a month.") from None


def _days_of_month(month: date, spending: Sequence[tuple[date, Decimal]]
                   ) -> list[tuple[date, Decimal]]:
    """Every day of the month with its spending (zero where none), for the chart."""
    totals: dict[date, Decimal] = {}
    for day, value in spending:
        totals[day] = totals.get(day, Decimal(0)) + Decimal(value)
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    days = [first + timedelta(days=i) for i in range((following - first).days)]
    return [(d, totals.get(d, Decimal(0))) for d in days]


def _weeks(days: list[tuple[date, Decimal]]) -> list[tuple[str, Decimal]]:
    weeks: list[tuple[str, Decimal]] = []
    for start in range(0, len(days), 7):
        chunk = days[start:start + 7]
        label = f"{chunk[0][0]:%d}-{chunk[-1][0]:%d %b}"
        weeks.append((label, sum((v for _, v in chunk), Decimal(0))))
    return weeks


# --- validation of the Mail screen's fields ---------------------------------------------------
def recipient_address(raw: str) -> str:
    """A recipient typed by a person (the test mail): one plain address, or a one-line error
    that repeats at most the start of it, control characters escaped."""
    address = raw.strip()
    local, at, domain = address.rpartition("@")
    if (not at or not local or not domain or len(address) > 254
            or any(c.isspace() or not c.isprintable() or c in ",;<>" for c in address)):
        raise ValidationError(f"'{shown_value(raw)}' is not an e-mail address.")
    return address


def _typed(name: str, value: str) -> object:
    if name == "MAIL_PORT":
        return int(value)
    if name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
        return value == "true"
    return value


def _validate(values: Mapping[str, str]) -> dict[str, str]:
    unknown = set(values) - set(MAIL_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown mail setting: {', '.join(sorted(unknown))}.")
    clean: dict[str, str] = {}
    for name in MAIL_FIELDS:
        if name not in values:
            continue
        raw = str(values[name]).strip()
        if name == "MAIL_SERVER":
            if not raw or any(c.isspace() for c in raw) or len(raw) > 253:
                raise ValidationError("The mail server must be a host name, e.g. smtp.example.com.")
        elif name == "MAIL_PORT":
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise ValidationError("The mail server port must be a number from 1 to 65535.")
            raw = str(int(raw))
        elif name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off", ""):
                raise ValidationError(f"{name} must be true or false.")
            raw = "true" if raw.lower() in ("true", "1", "yes", "on") else "false"
        elif name == "MAIL_USERNAME":
            if any(c in raw for c in "\r\n"):
                raise ValidationError("The SMTP user name cannot contain line breaks.")
        elif name == "MAIL_DEFAULT_SENDER":
            if problem := mail_sender_problem(raw):
                raise ValidationError(problem)
        elif name == "MAIL_CA_FILE":
            if problem := mail_ca_file_problem(raw):
                raise ValidationError(problem)
        elif name == "GOOGLE_CHAT_WEBHOOK_URL" and raw:
            problem = check_webhook_url(raw)
            if problem:
                raise ValidationError(problem)
        clean[name] = raw
    return clean


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

    outbox = OutboxService(ctx, transport, lambda: box.sender)
    env = os.environ if environ is None else environ
    sms = TwilioSmsNotifier(env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", ""),
                            env.get("TWILIO_FROM_NUMBER", ""))
    return EmailService(ctx, outbox, box, store, sms=sms, environ=environ)
