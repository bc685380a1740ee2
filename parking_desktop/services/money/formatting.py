"""Amounts written for the site's locale with their currency, by Babel (CLDR data): the
symbol, its place, the separators and the number of decimals are the locale's, not ours."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision, get_currency_symbol


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """1234.5, EUR: "€1,234.50" in en_US, "1 234,50 €" in fr_FR; INR in en_IN groups lakhs.
    Rounded half-up to the currency's minor unit first (Babel itself rounds half-even, and a
    yen amount of 1234.50 is 1,235 on every receipt here)."""
    places = Decimal(1).scaleb(-get_currency_precision(currency))
    shown = amount.quantize(places, rounding=ROUND_HALF_UP)
    return str(format_currency(shown, currency, locale=locale))


def currency_symbol(currency: str, locale: str) -> str:
    return str(get_currency_symbol(currency, locale=locale))
