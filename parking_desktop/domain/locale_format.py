"""Amounts and times as people read them, for the site's locale and currency, through Babel
(CLDR data), never hand-made formatting: the one place the PDF documents and their mails format
money and moments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.core import UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency

DEFAULT_LOCALE = "en_GB"


def _locale(locale: str) -> str:
    # An unknown locale (a typo in a setting) falls back: a receipt is never lost over it.
    from babel import Locale

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        return DEFAULT_LOCALE
    return locale


def format_amount(amount: Decimal, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """``Decimal("1234.5"), "EUR", "de_DE"`` -> ``1.234,50 €``; a negative amount keeps its
    sign."""
    return str(format_currency(amount, currency, locale=_locale(locale)))


def format_moment(at: datetime, time_zone: str, locale: str = DEFAULT_LOCALE) -> str:
    """An aware time in the site's zone, e.g. ``6 Dec 2026, 18:25`` (en_GB)."""
    # Medium date, short time: seconds mean nothing on a receipt.
    local, chosen = at.astimezone(ZoneInfo(time_zone)), _locale(locale)
    day = format_date(local, "medium", locale=chosen)
    return f"{day}, {format_time(local, 'short', locale=chosen)}"
