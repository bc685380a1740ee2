"""Amounts written for the site's locale with their currency, by Babel (CLDR data): the
symbol, its place, the separators and the number of decimals are the locale's, not ours."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_symbol


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """1234.5, EUR: "€1,234.50" in en_US, "1 234,50 €" in fr_FR; INR in hi_IN groups lakhs."""
    return str(format_currency(amount, currency, locale=locale))


def currency_symbol(currency: str, locale: str) -> str:
    return str(get_currency_symbol(currency, locale=locale))
