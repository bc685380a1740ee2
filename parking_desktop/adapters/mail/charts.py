"""Charts for e-mail as plain HTML tables (no JavaScript, no SVG, no images to block).

These helpers compute the bars. The ``_charts.html`` template macros draw them in HTML: table
cells whose width or height is proportional to the value, which render in common mail clients
(including those that strip <style>). ``text_chart`` draws them for the plain-text part."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple


class Bar(NamedTuple):  # a tuple: made ~40 times per monthly report, cheaply
    label: str
    value: Decimal
    display: str  # the value as shown, e.g. "12.50"
    percent: int  # 0..100 of the largest value; at least 1 for a non-zero value
    # (The HTML chart macros draw label, display and percent only: templates.FragmentCache.)


def bars(items: Sequence[tuple[str, Decimal | int | float]], fmt: str = "{:,.2f}") -> list[Bar]:
    # A report has a bar per day of the month, for every driver: no needless Decimal round
    # trips, and the money format (amounts repeat) worked out once per amount.
    values = [(label, value if type(value) is Decimal else Decimal(str(value)))
              for label, value in items]
    top = max((v for _, v in values), default=_ZERO)
    shown = _money_shown if fmt == _MONEY else fmt.format
    if top <= _ZERO:
        return [Bar(label, value, shown(value), 0) for label, value in values]
    return [Bar(label, value, shown(value),
                max(1, int((value * _HUNDRED / top).to_integral_value())) if value > _ZERO else 0)
            for label, value in values]


_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_MONEY = "{:,.2f}"


@functools.lru_cache(maxsize=4096)
def _money_shown(value: Decimal) -> str:
    # Keyed on the value: equal amounts (2.5 and 2.50) show the same with two decimals.
    return _MONEY.format(value)


def text_chart(items: Sequence[Bar]) -> str:
    """The plain-text part's bar chart: a line per bar (label, '#' bar, value), the labels
    padded to the longest. Plain text needs no template: built here in one go."""
    width = max((len(bar.label) for bar in items), default=0)
    return "".join(f"{bar.label.ljust(width)}  {text_bar(bar.percent).ljust(30)}  {bar.display}\n"
                   for bar in items)


@functools.lru_cache(maxsize=128)
def text_bar(percent: int, width: int = 30) -> str:
    """The plain-text part's version of a bar: '#' characters."""
    filled = round(percent * width / 100)
    if percent > 0 and filled == 0:
        filled = 1
    return "#" * filled
