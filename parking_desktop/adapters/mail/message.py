"""MIME messages: multipart/alternative (text + HTML), inline images, attachments; CSS inlining.

Most mails (text + HTML, ASCII addresses, no attachment) are written straight to bytes by
``build_raw``: a few header lines, two bodies encoded by C code (quoted-printable), no
``EmailMessage`` tree and no generator pass. That is what the outbox sends thousands of. The
rest go through ``build_message`` (the email package), which handles every other case."""

from __future__ import annotations

import base64
import binascii
import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

# Header lines longer than this are folded (and non-ASCII ones encoded) by the email package.
_FOLD_AT = 78
# RFC 5322's hard limit on a line; 7bit bodies may use it (the email package stops at 78 and
# then encodes the whole part, which costs more than sending it).
_LINE_LIMIT = 998
_SMTP = email_policy.SMTP  # CRLF line ends, as on the wire


@dataclass(frozen=True)
class RawMail:
    """A message already written as bytes (CRLF line ends) and its one recipient."""

    recipient: str
    data: bytes


@functools.cache
def _inliner() -> Any:
    """Made on first use: css-inline loads when a mail is built, not at every start."""
    import css_inline

    # Remote stylesheets are never fetched: a mail is built from what we ship.
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


def inline_css(html: str) -> str:
    """Move <style> rules into style="" attributes (many mail clients drop <style>)."""
    return str(_inliner().inline(html))


def new_message_id(sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain.strip("> "))


def one_line(text: str, limit: int = 300) -> str:
    """Header-safe text: no line breaks (header injection), bounded length."""
    return " ".join(text.split())[:limit]


def attachment(filename: str, content_type: str, data: bytes,
               content_id: str | None = None) -> dict[str, Any]:
    """The JSON-able form the outbox stores."""
    item: dict[str, Any] = {"filename": filename, "content_type": content_type,
                            "data": base64.b64encode(data).decode("ascii")}
    if content_id:
        item["content_id"] = content_id
    return item


def list_unsubscribe_headers(address: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers for mail a recipient may stop: a mailto: link (we run no web
    server, so one-click is the mail client's own "unsubscribe" sending that mail)."""
    if not address:
        return {}
    return {"List-Unsubscribe": f"<mailto:{address}?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
    attachments: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = one_line(value, 900)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    inline = [a for a in attachments if a.get("content_id")]
    files = [a for a in attachments if not a.get("content_id")]
    if inline and html is not None:
        parts = msg.get_payload()
        assert isinstance(parts, list)
        html_part = parts[1]
        assert isinstance(html_part, EmailMessage)
        for item in inline:
            maintype, _, subtype = str(item["content_type"]).partition("/")
            html_part.add_related(base64.b64decode(item["data"]), maintype, subtype,
                                  cid=f"<{item['content_id']}>", filename=item["filename"])
    for item in files:
        maintype, _, subtype = str(item["content_type"]).partition("/")
        msg.add_attachment(base64.b64decode(item["data"]), maintype=maintype,
                           subtype=subtype or "octet-stream", filename=item["filename"])
    return msg


def _header(name: str, value: str) -> bytes:
    line = f"{name}: {value}"
    if value.isascii() and len(line) <= _FOLD_AT:
        return line.encode("ascii") + b"\r\n"
    return str(_SMTP.fold(name, value)).encode("ascii")  # RFC 2047 words, folded


def _body(content: str, subtype: str) -> bytes:
    """One text part: 7bit when it is ASCII within the line limit, else quoted-printable UTF-8
    (slower to encode: non-ASCII mails only). The
    text ends with a line end, as ``EmailMessage.set_content`` makes it."""
    raw = content.encode("utf-8")
    lines = raw.splitlines()  # bytes: only CR, LF and CRLF end a line, as in the email package
    head = f"Content-Type: text/{subtype}; charset=\"utf-8\"\r\n".encode("ascii")
    if raw.isascii() and max(map(len, lines), default=0) <= _LINE_LIMIT:
        return (head + b"Content-Transfer-Encoding: 7bit\r\n\r\n"
                + b"\r\n".join(lines) + b"\r\n")
    encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    return (head + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            + encoded.replace(b"\n", b"\r\n"))


def can_build_raw(*, sender: str, recipient: str, html: str | None,
                  attachments: Sequence[Mapping[str, Any]] = ()) -> bool:
    """The common case ``build_raw`` writes itself; anything else takes ``build_message``
    (international addresses need SMTPUTF8, attachments need the MIME tree)."""
    return html is not None and not attachments and sender.isascii() and recipient.isascii()


def build_raw(*, sender_header: bytes, recipient: str, subject: str, text: str, html: str,
              message_id: str, date_header: bytes,
              headers: Mapping[str, str] | None = None) -> RawMail:
    """The bytes ``build_message`` would describe for a text + HTML mail without
    attachments. ``sender_header`` and ``date_header`` come from ``_header`` once per pass
    (the From line) and once per second (the Date line), not once per mail."""
    plain, rich = _body(text, "plain"), _body(html, "html")
    boundary = f"=_{uuid.uuid4().hex}".encode("ascii")
    while boundary in plain or boundary in rich:  # practically never; a delimiter must not occur
        boundary = f"=_{uuid.uuid4().hex}".encode("ascii")
    data = b"".join((
        sender_header, _header("To", recipient), _header("Subject", one_line(subject)),
        date_header, _header("Message-ID", message_id),
        *(_header(name, one_line(value, 900)) for name, value in (headers or {}).items()),
        b"MIME-Version: 1.0\r\n",
        b'Content-Type: multipart/alternative; boundary="', boundary, b'"\r\n\r\n',
        # The line end before a delimiter belongs to the delimiter (RFC 2046), hence the
        # extra one after each part: the part keeps its own last line end.
        b"--", boundary, b"\r\n", plain,
        b"\r\n--", boundary, b"\r\n", rich,
        b"\r\n--", boundary, b"--\r\n",
    ))
    return RawMail(recipient=recipient, data=data)


def from_header(sender: str) -> bytes:
    return _header("From", sender)


def date_header(date: datetime) -> bytes:
    return _header("Date", format_datetime(date))
