"""SMTP delivery with verified TLS, optional login and one connection reused per batch.

Errors come out as ``DeliveryError`` with ``transient`` saying whether a later retry can
help: connection trouble, timeouts, TLS/login problems and 4xx replies are transient (the
mail waits in the outbox); a 5xx reply to the message itself is permanent, and so is a
configuration that cannot work (a missing CA file, a login over an unencrypted connection).
Messages never contain the password.

The password never travels in clear: with MAIL_USERNAME set and neither STARTTLS nor SSL, the
transport refuses to log in, unless the server is on this machine's loopback interface and
MAIL_ALLOW_PLAINTEXT_LOGIN is on (a local relay)."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Protocol

from parking_desktop.adapters.mail.message import RawMail
from parking_desktop.config import Settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    use_tls: bool = False  # STARTTLS after connecting
    use_ssl: bool = False  # TLS from the first byte (usually port 465)
    username: str = ""
    sender: str = "parking@localhost"
    ca_file: str = ""  # an extra CA to trust (a relay with its own CA)
    timeout: float = DEFAULT_TIMEOUT
    # Log in without TLS, but only to a server on the loopback interface.
    allow_plaintext_login: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, timeout: float = DEFAULT_TIMEOUT) -> SmtpConfig:
        return cls(
            host=settings.mail_server, port=settings.mail_port, use_tls=settings.mail_use_tls,
            use_ssl=settings.mail_use_ssl, username=settings.mail_username,
            sender=settings.mail_default_sender, ca_file=settings.mail_ca_file, timeout=timeout,
            allow_plaintext_login=settings.mail_allow_plaintext_login,
        )

    def describe(self) -> str:
        security = "SSL" if self.use_ssl else "STARTTLS" if self.use_tls else "no TLS"
        login = f", user {self.username}" if self.username else ", no login"
        return f"{self.host}:{self.port} ({security}{login})"

    @property
    def plaintext_login(self) -> bool:
        """True when a login would cross an unencrypted connection."""
        return bool(self.username) and not (self.use_tls or self.use_ssl)


PLAINTEXT_REFUSED = (
    "Refused to send the SMTP password for {user} over an unencrypted connection to {host}: "
    "turn on STARTTLS or SSL (MAIL_USE_TLS / MAIL_USE_SSL){local}."
)


def plaintext_login_problem(config: SmtpConfig, peer: str | None = None) -> str | None:
    """Why logging in as configured would expose the password (None: it would not).

    ``peer`` is the address actually connected to; without it the host name is resolved."""
    if not config.plaintext_login:
        return None
    if config.allow_plaintext_login and (
            is_loopback(peer) if peer is not None else is_loopback_host(config.host)):
        return None
    local = ("; MAIL_ALLOW_PLAINTEXT_LOGIN only allows it to a server on this machine"
             if config.allow_plaintext_login else "")
    return PLAINTEXT_REFUSED.format(user=config.username, host=config.host, local=local)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    """Every address ``host`` resolves to is a loopback address."""
    if is_loopback(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(is_loopback(str(info[4][0])) for info in infos)


class DeliveryError(Exception):
    """A mail was not delivered. ``str()`` is a sentence for the outbox's "last error"."""

    def __init__(self, message: str, *, transient: bool, code: int | None = None,
                 connection: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code
        # True when the connection itself failed: the rest of a batch would fail the same way.
        self.connection = connection


class MailTransport(Protocol):
    def send(self, message: EmailMessage | RawMail) -> None: ...
    def close(self) -> None: ...


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """Verifies the certificate and host name; ``ca_file`` is trusted on top of the system's."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            # Waiting does not bring a file back: fail now with the reason, not retry for hours.
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise DeliveryError(f"The CA file {ca_file} (MAIL_CA_FILE) cannot be used: "
                                f"{reason}.", transient=False, connection=True) from None
    return context


def _reply(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(body.split())}".strip()


class SmtpTransport:
    """Opens the connection on the first ``send`` and keeps it for the next ones.

    ``password`` is called when logging in (never earlier, never stored here)."""

    def __init__(self, config: SmtpConfig, password: Callable[[], str | None]) -> None:
        self.config = config
        self._password = password
        self._smtp: smtplib.SMTP | None = None
        self.connections_opened = 0

    # --- connection -----------------------------------------------------------------------
    def open(self) -> None:
        if self._smtp is None:
            self._smtp = self._connect()

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        secret: str | None = None
        if cfg.plaintext_login and (refused := plaintext_login_problem(cfg)):
            # Refused before connecting (the host name is resolved, nothing is sent): the
            # server never sees even the user name. The connected address is checked again.
            raise DeliveryError(refused, transient=False, connection=True)
        try:
            context = tls_context(cfg.ca_file) if (cfg.use_tls or cfg.use_ssl) else None
            smtp: smtplib.SMTP
            if cfg.use_ssl:
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            try:
                smtp.ehlo()
                if cfg.use_tls:
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if cfg.username:
                    if problem := plaintext_login_problem(cfg, _peer(smtp)):
                        raise DeliveryError(problem, transient=False, connection=True)
                    secret = self._password()
                    if not secret:
                        raise DeliveryError(
                            f"No SMTP password is stored for {cfg.username}: set it in "
                            "Settings → Mail, with `smtp set-password`, or in MAIL_PASSWORD.",
                            transient=True, connection=True,
                        )
                    smtp.login(cfg.username, secret)
            except BaseException:
                _quietly_close(smtp)
                raise
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                "The mail server refused the user name or password ("
                + _scrub(_reply(exc.smtp_code, exc.smtp_error), secret) + ").",
                transient=True, code=exc.smtp_code, connection=True,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"The mail server {cfg.host} does not support this: {_scrub(str(exc), secret)}. "
                "Check MAIL_USE_TLS / MAIL_USE_SSL and the user name.",
                transient=True, connection=True,
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"The certificate of {cfg.host} could not be verified "
                f"({exc.verify_message or exc.reason}). Set MAIL_CA_FILE if the server uses its "
                "own certificate authority.",
                transient=True, connection=True,
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"The mail server {cfg.host} answered "
                + _scrub(_reply(exc.smtp_code, exc.smtp_error), secret) + ".",
                transient=True, code=exc.smtp_code, connection=True,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"Cannot reach the mail server {cfg.host}:{cfg.port}: "
                + _scrub(_os_reason(exc), secret) + ".",
                transient=True, connection=True,
            ) from None
        self.connections_opened += 1
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                _quietly_close(smtp)

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- sending --------------------------------------------------------------------------
    def send(self, message: EmailMessage | RawMail) -> None:
        self.open()
        try:
            self._send_once(message)
        except smtplib.SMTPServerDisconnected:
            # The server dropped an idle connection: reconnect once and try again.
            log.info("SMTP connection dropped; reconnecting to %s", self.config.host)
            self._drop()
            self.open()
            try:
                self._send_once(message)
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                raise DeliveryError(
                    f"The mail server {self.config.host} closed the connection "
                    f"({exc or 'no reason given'}).",
                    transient=True, connection=True,
                ) from None

    def _send_once(self, message: EmailMessage | RawMail) -> None:
        assert self._smtp is not None
        try:
            if isinstance(message, RawMail):  # already bytes: straight to the wire
                self._smtp.sendmail(self.config.sender, [message.recipient], message.data)
            else:
                self._smtp.send_message(message, from_addr=self.config.sender)
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            raise _reply_error(code, text, "refused the recipient") from None
        except smtplib.SMTPSenderRefused as exc:
            raise _reply_error(exc.smtp_code, exc.smtp_error, "refused the sender") from None
        except smtplib.SMTPResponseException as exc:
            raise _reply_error(exc.smtp_code, exc.smtp_error, "refused the message") from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(
                f"Sending to {self.config.host} failed: {_os_reason(exc)}.",
                transient=True, connection=True,
            ) from None

    def _drop(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None


def _reply_error(code: int, text: bytes | str, what: str) -> DeliveryError:
    transient = not 500 <= code <= 599
    return DeliveryError(f"The mail server {what}: {_reply(code, text)}", transient=transient,
                         code=code)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def _peer(smtp: smtplib.SMTP) -> str:
    sock = smtp.sock
    if sock is None:
        return ""
    try:
        return str(sock.getpeername()[0])
    except OSError:
        return ""


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def _quietly_close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()
