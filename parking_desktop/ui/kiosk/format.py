"""Kiosk-only wording on top of ``ui.common.formatting`` (pure functions, no Qt)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal


def billed_hours(value: Decimal) -> str:
    """Billed hours exactly as the fee rule used them (up to 4 decimals), so that
    hours times price visibly gives the fee: ``Decimal('2.2500')`` -> ``'2.25 h'``."""
    text = f"{value.quantize(Decimal('0.0001')):f}".rstrip("0").rstrip(".")
    return f"{text} h"


def long_time(moment: datetime | None, tz: tzinfo) -> str:
    """``Mon 2 Mar 2026, 10:05`` in the site's time zone (for receipts, easy to read)."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def clock_time(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def idle_words(seconds: int) -> str:
    """``1 second``, ``45 seconds``, ``a minute``, ``5 minutes``, ``90 seconds``."""
    if seconds == 60:
        return "a minute"
    if seconds > 60 and seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} second{'' if seconds == 1 else 's'}"
