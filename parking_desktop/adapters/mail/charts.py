"""Charts for e-mail as plain HTML tables (no JavaScript, no SVG, no images to block).

These helpers only compute the bars; the ``_charts.html`` / ``_charts.txt`` template macros
draw them: table cells whose width or height is proportional to the value, which render in
common mail clients (including those that strip <style>)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    display: str  # the value as shown, e.g. "12.50"
    percent: int  # 0..100 of the largest value; at least 1 for a non-zero value


def bars(items: Sequence[tuple[str, Decimal | int | float]], fmt: str = "{:,.2f}") -> list[Bar]:
    values = [(label, Decimal(str(value))) for label, value in items]
    top = max((v for _, v in values), default=Decimal(0))
    out = []
    for label, value in values:
        if top <= 0 or value <= 0:
            percent = 0
        else:
            percent = max(1, int((value * 100 / top).to_integral_value()))
        out.append(Bar(label=label, value=value, display=fmt.format(value), percent=percent))
    return out


def text_bar(percent: int, width: int = 30) -> str:
    """The plain-text part's version of a bar: '#' characters."""
    filled = round(percent * width / 100)
    if percent > 0 and filled == 0:
        filled = 1
    return "#" * filled
