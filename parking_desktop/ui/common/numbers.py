"""Numbers as people type them: the locale's decimal separator is accepted ("2,90" on a French
desktop), and a comma followed by one or two digits is read as a decimal comma anywhere (a
Paris lot's price typed on an English desktop). Group separators and exponents are refused
by the rules the text then goes through (domain/validation.py)."""

from __future__ import annotations

import re

from PySide6.QtCore import QLocale

DECIMAL_COMMA_RE = re.compile(r"^\s*[+-]?\d*,\d{1,2}\s*$")


def decimal_text(text: str, locale: QLocale | None = None) -> str:
    """The typed text with its decimal separator written as '.', ready for Decimal()."""
    decimal_point = (locale or QLocale()).decimalPoint()
    stripped = text.strip()
    if decimal_point != "." and stripped.count(decimal_point) == 1 and "." not in stripped:
        return stripped.replace(decimal_point, ".")
    if DECIMAL_COMMA_RE.fullmatch(stripped):
        return stripped.replace(",", ".")
    return stripped
