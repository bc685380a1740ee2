"""The Z-report as plain text: the mail's body, the command line's output, and the
attachment when no PDF renderer is installed."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from parking_desktop.domain.money import ShiftReport
from parking_desktop.services.money.formatting import format_money


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def report_text(report: ShiftReport) -> str:
    def money(amount: Decimal | None) -> str:
        return "-" if amount is None else format_money(amount, report.currency, report.locale)

    lines = [
        f"{report.site_name} - Z-report, shift {report.shift_id}",
        f"Attendant: {report.attendant} at {report.host}",
        f"Opened: {_when(report.opened_at)}   Closed: {_when(report.closed_at)}"
        + ("   (open longer than allowed)" if report.overlong else ""),
        f"Check-ins: {report.check_ins}   Check-outs: {report.check_outs}",
        "",
        "Payments by method:",
    ]
    for total in report.by_method:
        lines.append(f"  {total.method.value:<8} {total.count:>4}  {money(total.amount)}")
    if not report.by_method:
        lines.append("  none")
    lines += [
        "",
        f"Opening float:  {money(report.opening_float)}",
        f"Cash payments:  {money(report.cash_payments)}",
        f"Cash refunds:   {money(report.cash_refunds)}",
        f"Expected cash:  {money(report.expected_cash)}",
        f"Counted cash:   {money(report.counted_cash)}",
        f"Difference:     {money(report.difference)}"
        + (f"  ({report.difference_reason})" if report.difference_reason else ""),
    ]
    if report.denominations:
        lines.append(
            "Counted by denomination: "
            + ", ".join(f"{count} x {money(value)}" for value, count in report.denominations)
        )
    lines += ["", f"Exceptions ({len(report.exceptions)}):"]
    for line in report.exceptions:
        who = line.actor + (f", approved by {line.approved_by}" if line.approved_by else "")
        lines.append(
            f"  {_when(line.created_at)} {line.kind.value} {money(line.amount)} "
            f"{line.vehicle_number or ''} - {line.reason_code.value}: "
            f"{line.reason_text} ({who})"
        )
    if report.manager_comment or report.approved_by:
        lines += [
            "",
            f"Manager: {report.manager_comment or ''}"
            + (
                f" - approved by {report.approved_by} {_when(report.approved_at)}"
                if report.approved_by
                else ""
            ),
        ]
    return "\n".join(lines) + "\n"


def report_json(report: ShiftReport) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(asdict(report))
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
