"""A fee's lines as text, the same wherever a fee is shown (kiosk quote and receipt, the
desktop's reservation detail, the tariff calculator): "Mon 18:10–20:00, day rate, 8 × 15 min
at 3.50/h … 7.00", "daily maximum applied … −4.20", "grace period … 0.00".

A line comes from the rate engine (``PricedLine``: ``label``) or from a service's result
(``{"text", "amount"}`` or an object with ``text``/``amount``); a stay priced before tariffs
has no lines and shows one line made of its billed hours and price."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from parking_desktop.ui.common.formatting import money


def amount_text(amount: Decimal) -> str:
    """Money with a real minus sign for a reduction (the daily maximum): "−4.20"."""
    return f"−{money(-amount)}" if amount < 0 else money(amount)


def line_parts(line: object) -> tuple[str, Decimal]:
    """(text, amount) of one line, whichever form it comes in."""
    if isinstance(line, Mapping):
        return str(line["text"]), Decimal(line["amount"])
    text = getattr(line, "text", None)
    if text is None:
        text = getattr(line, "label", "")
    return str(text), Decimal(getattr(line, "amount", 0))


def fee_rows(
    lines: Iterable[object] | None, *, cost: Decimal | None = None, single: str = ""
) -> list[tuple[str, str]]:
    """(text, amount) rows to show. Without lines (a stay priced before tariffs) and with a
    ``cost``: one row, ``single`` (e.g. "2.25 h at 2.50/h") with the whole fee."""
    rows = [(text, amount_text(amount)) for text, amount in map(line_parts, lines or ())]
    if rows or cost is None:
        return rows
    return [(single or "fee", money(cost))]


def flat_line(hours: Decimal, price_per_hour: Decimal) -> str:
    """The one line of a stay priced by the flat rule: "1.9444 h at 1.17/h"."""
    shown = format(hours.normalize(), "f") if hours else "0"
    return f"{shown} h at {money(price_per_hour)}/h"


def fee_text(rows: Iterable[tuple[str, str]]) -> str:
    """The rows as plain text, one per line (tool tips, e-mail, tests)."""
    return "\n".join(f"{text} … {amount}" for text, amount in rows)
