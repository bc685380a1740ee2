"""Attendant shifts from the command line: shift open | close | report | list | review.

Like the other commands they act as the site's administrator (the SYSTEM actor, named
"cli:USER@HOST" in the records): a shift is opened for an attendant given by username."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from parking_desktop.cli.base import (
    EXIT_OK,
    AppFactory,
    CommandError,
    path_value,
    print_json,
    print_table,
    text_value,
)
from parking_desktop.domain.roles import SYSTEM


def amount_value(raw: str) -> Decimal:
    """argparse type of an amount: a plain number, at least 0, two places at most."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(
            f"must be an amount like 150 or 12.50, not '{raw[:30]}'"
        ) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError(
            f"must be an amount of at least 0 with at most two decimals, not '{raw[:30]}'"
        )
    return value


def denomination_value(raw: str) -> tuple[Decimal, int]:
    """VALUE=COUNT, e.g. 20=3 (three 20 notes) or 0.50=4."""
    value, sep, count = raw.partition("=")
    try:
        pair = (amount_value(value), int(count))
    except (argparse.ArgumentTypeError, ValueError):
        pair = (Decimal(0), -1)
    if not sep or pair[0] <= 0 or pair[1] < 0:
        raise argparse.ArgumentTypeError(f"must be VALUE=COUNT like 20=3, not '{raw[:30]}'")
    return pair


def register(sub: Any) -> None:
    shift = sub.add_parser("shift", help="attendant shifts: open, close, report, list, review")
    actions = shift.add_subparsers(dest="shift_command", metavar="ACTION", required=True)

    opening = actions.add_parser("open", help="open an attendant's shift with its cash float")
    opening.add_argument("--attendant", required=True, type=text_value, metavar="USER")
    opening.add_argument(
        "--float",
        dest="opening_float",
        type=amount_value,
        default=Decimal(0),
        metavar="AMOUNT",
        help="cash in the drawer",
    )
    opening.add_argument("--host", type=text_value, help="the kiosk (default: this machine)")
    opening.add_argument("--json", action="store_true")
    opening.set_defaults(func=_open)

    closing = actions.add_parser("close", help="close a shift with the cash counted")
    closing.add_argument("--id", dest="shift_id", type=int, required=True)
    closing.add_argument("--counted", type=amount_value, metavar="AMOUNT")
    closing.add_argument(
        "--denomination",
        type=denomination_value,
        action="append",
        metavar="VALUE=COUNT",
        help="the count note by note (repeat)",
    )
    closing.add_argument(
        "--reason", type=text_value, help="why the count differs from the expected cash"
    )
    closing.add_argument("--json", action="store_true")
    closing.set_defaults(func=_close)

    report = actions.add_parser("report", help="a shift's Z-report (text, JSON or PDF)")
    report.add_argument("--id", dest="shift_id", type=int, required=True)
    report.add_argument(
        "--pdf", type=path_value, metavar="FILE", help="write the PDF Z-report to FILE"
    )
    report.add_argument("--json", action="store_true")
    report.set_defaults(func=_report)

    listing = actions.add_parser("list", help="shifts, newest first")
    listing.add_argument("--state", choices=["open", "closed", "approved"])
    listing.add_argument("--attendant", type=text_value, metavar="USER")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    review = actions.add_parser("review", help="a manager's comment, and approval")
    review.add_argument("--id", dest="shift_id", type=int, required=True)
    review.add_argument("--comment", type=text_value)
    review.add_argument("--approve", action="store_true")
    review.add_argument("--json", action="store_true")
    review.set_defaults(func=_review)


def _show(app: Any, view: Any, as_json: bool, what: str) -> int:
    if as_json:
        print_json(view)
        return EXIT_OK
    tz = app.settings.tz
    money = app.money.format
    line = (
        f"Shift {view.id} {what}: {view.attendant} at {view.host}, opened "
        f"{view.opened_at.astimezone(tz):%Y-%m-%d %H:%M} with {money(view.opening_float)}"
    )
    if view.closed_at is not None:
        line += (
            f"; closed {view.closed_at.astimezone(tz):%Y-%m-%d %H:%M}, expected "
            f"{money(view.expected_cash)}, counted {money(view.counted_cash)}, "
            f"difference {money(view.difference)}"
        )
    print(line + ".")
    return EXIT_OK


def _open(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    user = app.users.find_by_username(SYSTEM, args.attendant)
    view = app.money.open_shift(SYSTEM, args.opening_float, host=args.host, attendant_id=user.id)
    return _show(app, view, args.json, "opened")


def _close(args: argparse.Namespace, app_factory: AppFactory) -> int:
    if args.counted is None and not args.denomination:
        raise CommandError(
            "Give the cash counted: --counted AMOUNT or --denomination VALUE=COUNT (repeated)."
        )
    notes: dict[Decimal, int] = {}
    for value, count in args.denomination or []:
        notes[value] = notes.get(value, 0) + count
    app = app_factory()
    view = app.money.close_shift(
        SYSTEM, args.shift_id, args.counted, denominations=notes or None, reason=args.reason or ""
    )
    return _show(app, view, args.json, "closed")


def _report(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.services.money.report_text import report_json, report_text

    app = app_factory()
    report = app.money.shift_report(SYSTEM, args.shift_id)
    if args.pdf is not None:
        render = app.money.render_pdf
        if render is None:
            raise CommandError("This build has no PDF renderer; use --json or the text report.")
        _write_private(args.pdf, render(report))
        print(f"Z-report of shift {report.shift_id} written to {args.pdf}.")
        return EXIT_OK
    if args.json:
        print_json(report_json(report))
        return EXIT_OK
    print(report_text(report), end="")
    return EXIT_OK


def _write_private(path: Path, data: bytes) -> None:
    from parking_desktop.files import UnsafePathError, atomic_write

    try:
        with atomic_write(path) as handle:
            handle.write(data)
    except (UnsafePathError, OSError) as exc:
        raise CommandError(f"Cannot write {path}: {exc}") from None


def _list(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.services.money.views import ShiftState

    app = app_factory()
    attendant_id = app.users.find_by_username(SYSTEM, args.attendant).id if args.attendant else None
    shifts = app.money.list_shifts(
        SYSTEM, state=ShiftState(args.state) if args.state else None, attendant_id=attendant_id
    )
    if args.json:
        print_json(shifts)
        return EXIT_OK
    tz = app.settings.tz
    money = app.money.format
    print_table(
        ["Id", "Attendant", "Host", "Opened", "Closed", "State", "Float", "Difference"],
        [
            [
                s.id,
                s.attendant,
                s.host,
                f"{s.opened_at.astimezone(tz):%Y-%m-%d %H:%M}",
                f"{s.closed_at.astimezone(tz):%Y-%m-%d %H:%M}" if s.closed_at else "",
                s.state.value + (" (too long)" if s.overlong else ""),
                money(s.opening_float),
                money(s.difference) if s.difference is not None else "",
            ]
            for s in shifts
        ],
    )
    return EXIT_OK


def _review(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    view = app.money.review_shift(
        SYSTEM, args.shift_id, comment=args.comment or "", approve=args.approve
    )
    return _show(app, view, args.json, "approved" if args.approve else "reviewed")
