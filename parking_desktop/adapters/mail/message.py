"""MIME messages: multipart/alternative (text + HTML), inline images, attachments; CSS inlining."""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any


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
