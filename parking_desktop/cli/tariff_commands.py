"""Tariff commands: show a lot's tariff, set a new version from a JSON file, quote a stay,
simulate a draft on the lot's past stays (docs/tariffs.md has the file's schema).

Like the other commands they act as the SYSTEM actor (a manager); a new version names the
operating-system user in its audit entry. A bad file is refused in one line that says what
and where, and nothing is changed."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from parking_desktop.cli.base import (
    EXIT_OK,
    AppFactory,
    CommandError,
    count_value,
    path_value,
    print_json,
    print_table,
    text_value,
)
from parking_desktop.domain.roles import SYSTEM

if TYPE_CHECKING:
    from parking_desktop.domain.tariffs import PricedStay, TariffVersion
    from parking_desktop.services.tariffs.simulation import SimulationResult

MAX_FILE = 1_000_000  # bytes: a tariff is a few kB; anything this big is not one


def register(sub: Any) -> None:
    tariff = sub.add_parser(
        "tariff",
        help="a lot's tariff: show, set, quote, simulate",
        description="A lot's tariff (time bands, increments, grace, daily "
        "maximum). Times are the site's local time unless "
        "they carry an offset.",
    )
    actions = tariff.add_subparsers(dest="tariff_command", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="the tariff in force and every version")
    show.add_argument("--lot", required=True, metavar="NAME", type=text_value)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)

    set_ = actions.add_parser("set", help="save a new version from a JSON file")
    set_.add_argument("--lot", required=True, metavar="NAME", type=text_value)
    set_.add_argument("--file", required=True, metavar="FILE", type=path_value)
    set_.add_argument(
        "--effective-from",
        metavar="TIME",
        type=text_value,
        help="when it starts (default: the file's effective_from, else now)",
    )
    set_.set_defaults(func=_set)

    quote = actions.add_parser("quote", help="what a stay costs, line by line")
    quote.add_argument("--lot", required=True, metavar="NAME", type=text_value)
    quote.add_argument("--from", dest="start", required=True, metavar="TIME", type=text_value)
    quote.add_argument("--to", dest="end", required=True, metavar="TIME", type=text_value)
    quote.add_argument("--json", action="store_true")
    quote.set_defaults(func=_quote)

    simulate = actions.add_parser(
        "simulate", help="what a draft tariff would have earned on past stays"
    )
    simulate.add_argument("--lot", required=True, metavar="NAME", type=text_value)
    simulate.add_argument("--file", required=True, metavar="FILE", type=path_value)
    simulate.add_argument(
        "--days",
        type=count_value,
        default=30,
        metavar="N",
        help="completed stays of the last N days (default 30)",
    )
    simulate.add_argument("--json", action="store_true")
    simulate.set_defaults(func=_simulate)


# --- reading input ---------------------------------------------------------------------------
def read_tariff(
    path: Path, effective_from: datetime | None = None, currency: str = "EUR"
) -> TariffVersion:
    """The version a file describes, in the site's ``currency`` when it names none; any
    problem (a currency other than the site's too) is one CommandError line naming the place."""
    from parking_desktop.domain.tariffs import TariffError, check_site_currency, tariff_from_json

    try:
        if path.stat().st_size > MAX_FILE:
            raise CommandError(f"{path}: too big for a tariff (over {MAX_FILE:,} bytes)")
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if effective_from is not None and isinstance(data, dict):
        data = {**data, "effective_from": effective_from.isoformat()}
    try:
        version = tariff_from_json(data, currency=currency)
        check_site_currency(version, currency)
        return version
    except TariffError as exc:
        raise CommandError(f"{path}: {exc}") from None


def moment(raw: str, tz: ZoneInfo, option: str) -> datetime:
    """'2026-03-02 18:10', '2026-03-02T18:10:00+01:00': naive means the site's local time."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise CommandError(
            f"{option}: '{raw}' is not a date and time (YYYY-MM-DD HH:MM, optionally with an "
            "offset)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _lot_id(app: Any, name: str) -> tuple[int, str]:
    lot = app.lots.find_by_name(name)
    return lot.id, lot.name


# --- commands --------------------------------------------------------------------------------
def _show(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.domain.tariffs import tariff_to_json
    from parking_desktop.services.tariffs.summary import describe, summary

    app = app_factory()
    lot_id, name = _lot_id(app, args.lot)
    current = app.tariffs.current(lot_id)
    versions = app.tariffs.versions(lot_id)
    if args.json:
        print_json(
            {
                "lot": name,
                "lot_id": lot_id,
                "summary": summary(current),
                "current": tariff_to_json(current),
                "versions": [
                    {
                        "id": v.id,
                        "effective_from": v.effective_from,
                        "created_by": v.created_by,
                        "created_at": v.created_at,
                        "used": v.used,
                        "summary": summary(v.version),
                    }
                    for v in versions
                ],
            }
        )
        return EXIT_OK
    tz = app.settings.tz
    print(f"{name}: {describe(current, _money(app, current.currency))}")
    for band in current.bands:
        days = ", ".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d] for d in band.days)
        rate = app.money.format(band.price_per_hour, current.currency)
        print(f"  {days} {band.start:%H:%M}–{band.end:%H:%M}  {band.name}  {rate}/h")
    if versions:
        print()
        print_table(
            ["Version", "From", "By", "Used", "Tariff"],
            [
                [
                    v.id,
                    f"{v.effective_from.astimezone(tz):%Y-%m-%d %H:%M}",
                    v.created_by or "system",
                    "yes" if v.used else "no",
                    describe(v.version, _money(app, v.version.currency)),
                ]
                for v in versions
            ],
        )
    return EXIT_OK


def _set(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    tz = app.settings.tz
    start = (
        None if args.effective_from is None else moment(args.effective_from, tz, "--effective-from")
    )
    # A bad file is refused before any look-up.
    version = read_tariff(args.file, start, app.settings.currency)
    lot_id, name = _lot_id(app, args.lot)
    version_id = app.tariffs.save(lot_id, version, SYSTEM)
    stored = next(v for v in app.tariffs.versions(lot_id) if v.id == version_id)
    print(
        f"Saved tariff version {version_id} of {name}, in force from "
        f"{stored.effective_from.astimezone(tz):%Y-%m-%d %H:%M}."
    )
    return EXIT_OK


def _quote(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    tz = app.settings.tz
    start, end = moment(args.start, tz, "--from"), moment(args.end, tz, "--to")
    lot_id, name = _lot_id(app, args.lot)
    priced = app.tariffs.quote(lot_id, start, end)
    if args.json:
        print_json({"lot": name, "from": start, "to": end, **priced_json(priced)})
        return EXIT_OK
    print(
        f"{name}, {start.astimezone(tz):%a %Y-%m-%d %H:%M} to "
        f"{end.astimezone(tz):%a %Y-%m-%d %H:%M}:"
    )
    for line in priced.lines:
        print(f"  {line.label} … {app.money.format(line.amount, priced.currency)}")
    print(f"  total … {app.money.format(priced.total, priced.currency)}")
    return EXIT_OK


def _money(app: Any, currency: str) -> Callable[[Decimal], str]:
    """Amounts as the site writes them (money's formatter: locale and currency)."""
    return lambda amount: str(app.money.format(amount, currency))


def priced_json(priced: PricedStay) -> dict[str, Any]:
    return {
        "lines": [{"text": line.label, "amount": line.amount} for line in priced.lines],
        "total": priced.total,
        "currency": priced.currency,
    }


def _simulate(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    draft = read_tariff(args.file, currency=app.settings.currency)
    lot_id, _ = _lot_id(app, args.lot)
    result = app.tariffs.simulate(lot_id, draft, args.days)
    if args.json:
        print_json(simulation_json(result))
        return EXIT_OK
    tz = app.settings.tz
    print(
        f"Completed stays from {result.since.astimezone(tz):%Y-%m-%d %H:%M} to "
        f"{result.until.astimezone(tz):%Y-%m-%d %H:%M} ({result.days} days), "
        f"repriced with {args.file}:"
    )
    for lot in result.lots:
        percent = "—" if lot.change_percent is None else f"{lot.change_percent:+}%"
        print(
            f"  {lot.lot_name}: {lot.stays} stays, revenue {lot.revenue_now} → "
            f"{lot.revenue_draft} {result.currency} ({lot.change:+} {percent}); "
            f"{lot.more} would cost more, {lot.less} less, {lot.same} the same"
        )
        busy = [(h, c) for h, c in enumerate(lot.change_by_hour) if lot.stays_by_hour[h]]
        if busy:
            print("  change by hour of arrival: " + ", ".join(f"{h:02d}h {c:+}" for h, c in busy))
    return EXIT_OK


def simulation_json(result: SimulationResult) -> dict[str, Any]:
    return {
        "since": result.since,
        "until": result.until,
        "days": result.days,
        "currency": result.currency,
        "stays": result.stays,
        "revenue_now": result.revenue_now,
        "revenue_draft": result.revenue_draft,
        "change": result.change,
        "lots": [
            {
                "lot_id": lot.lot_id,
                "lot": lot.lot_name,
                "stays": lot.stays,
                "revenue_now": lot.revenue_now,
                "revenue_draft": lot.revenue_draft,
                "change": lot.change,
                "change_percent": lot.change_percent,
                "more": lot.more,
                "less": lot.less,
                "same": lot.same,
                "change_by_hour": list(lot.change_by_hour),
                "stays_by_hour": list(lot.stays_by_hour),
            }
            for lot in result.lots
        ],
    }
