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
    lines: Iterable[object] | None,
    *,
    hours: Decimal | None = None,
    price_per_hour: Decimal | None = None,
    cost: Decimal | None = None,
) -> list[tuple[str, str]]:
    """(text, amount) rows to show. Without lines (a stay priced before tariffs): one row,
    "2.25 h at 2.50/h", with the whole fee."""
    rows = [(text, amount_text(amount)) for text, amount in map(line_parts, lines or ())]
    if rows or cost is None:
        return rows
    if hours is not None and price_per_hour is not None:
        return [(f"{hours.normalize():f} h at {money(price_per_hour)}/h", money(cost))]
    return [("fee", money(cost))]


def fee_text(rows: Iterable[tuple[str, str]]) -> str:
    """The rows as plain text, one per line (tool tips, e-mail, tests)."""
    return "\n".join(f"{text} … {amount}" for text, amount in rows)
