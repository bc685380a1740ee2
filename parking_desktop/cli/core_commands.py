"""Everyday commands: demo, user add, lots, park, release, stats, activity.

They act as the SYSTEM actor: whoever can run this program on the site's machine administers it
(the same trust as the database file itself). Every change they make names the operating-system
user and host in its activity entry ("cli:USER@HOST", see cli/main.py)."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from parking_desktop.cli import privacy_commands
from parking_desktop.cli.base import (
    EXIT_OK,
    AppFactory,
    CommandError,
    count_value,
    print_json,
    print_table,
    text_value,
)
from parking_desktop.domain import validation
from parking_desktop.domain.money import ReasonCode
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.services.demo.options import DemoOptions
from parking_desktop.services.parking.activity_types import KNOWN_TYPES

if TYPE_CHECKING:  # the demo builder loads when `demo` runs, not for every command
    from parking_desktop.services.demo.demo import DemoResult
    from parking_desktop.services.views import LotView

PASSWORD_ENV = "PARKING_PASSWORD"


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="fill the database with a deterministic demo data set",
                          description="Fill an empty database with demo data and print the "
                          "demo sign-ins. The password is PARKING_PASSWORD if set, else random.")
    demo.add_argument("--drivers", type=int, default=DemoOptions.drivers, metavar="N")
    demo.add_argument("--lots", type=int, default=DemoOptions.lots, metavar="N")
    demo.add_argument("--days", type=int, default=DemoOptions.days, metavar="N",
                      help="days of history up to now")
    demo.add_argument("--seed", type=int, default=DemoOptions.seed, metavar="N")
    demo.add_argument("--reset", action="store_true",
                      help="erase EVERY row of the database first")
    demo.set_defaults(func=_demo)

    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser("add", help="create an account (password from PARKING_PASSWORD "
                                          "or a prompt)")
    add.add_argument("--username", required=True, type=text_value)
    add.add_argument("--role", required=True, choices=["manager", "attendant", "driver"])
    add.add_argument("--email", type=text_value)
    add.add_argument("--full-name", type=text_value)
    add.set_defaults(func=_user_add)
    privacy_commands.register_user_actions(user_sub)

    lots = sub.add_parser("lots", help="lots with price, free and total spots")
    lots.add_argument("--json", action="store_true")
    lots.set_defaults(func=_lots)

    park = sub.add_parser("park", help="check a vehicle in; prints the spot")
    park.add_argument("--lot", required=True, metavar="NAME", type=text_value,
                      help="lot name or pin code")
    park.add_argument("--vehicle", required=True, metavar="PLATE", type=text_value)
    park.add_argument("--user", metavar="USERNAME", type=text_value,
                      help="the driver's account (a walk-in without it)")
    park.add_argument("--json", action="store_true")
    park.set_defaults(func=_park)

    release = sub.add_parser(
        "release", help="check a vehicle out; prints hours, fee and the payment",
        description="Check a vehicle out and record its payment. The command line works "
        "outside any attendant's shift: the payment is administrative (flagged in the "
        "Exceptions), so it goes to the driver's account or is waived with a reason; cash "
        "and card are taken at a kiosk, inside a shift.")
    release.add_argument("--vehicle", required=True, metavar="PLATE", type=text_value)
    release.add_argument("--method", choices=["cash", "card", "account", "waived"],
                         default="account", help="how it is paid (default: account)")
    release.add_argument("--reason", type=text_value, metavar="TEXT",
                         help="why (required with --method waived)")
    release.add_argument("--reason-code", choices=[code.value for code in ReasonCode],
                         default=None, metavar="CODE",
                         help="administrative (default), goodwill, equipment_fault, ...")
    release.add_argument("--json", action="store_true")
    release.set_defaults(func=_release)

    stats = sub.add_parser("stats", help="dashboard figures, or one driver's summary")
    stats.add_argument("--user", metavar="USERNAME", type=text_value)
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--timings", action="store_true",
                       help="per-operation service timings on this machine instead")
    stats.set_defaults(func=_stats)

    activity = sub.add_parser("activity", help="a user's activity, newest first")
    activity.add_argument("--user", required=True, metavar="USERNAME", type=text_value)
    activity.add_argument("--type", metavar="T", type=text_value,
                          help=f"one of: {', '.join(KNOWN_TYPES)}")
    activity.add_argument("--limit", type=count_value, default=50, metavar="N")
    activity.add_argument("--json", action="store_true")
    activity.set_defaults(func=_activity)


# --- demo --------------------------------------------------------------------------------------
def _demo(args: argparse.Namespace, app_factory: AppFactory) -> int:
    options = DemoOptions(drivers=args.drivers, lots=args.lots, days=args.days,
                          seed=args.seed).validated()
    password = os.environ.get(PASSWORD_ENV) or "demo-" + secrets.token_urlsafe(9)
    validation.password(password)
    from parking_desktop.services.demo.demo import DemoLoader

    app = app_factory()
    loader = DemoLoader(app.ctx, app.users.hasher, app.settings.currency)
    if args.reset:
        loader.erase_everything()
    print(f"Creating demo data in {app.db.description}: {options.drivers} drivers, "
          f"{options.lots} lots, {options.days} days (seed {options.seed})...", flush=True)
    _print_demo(loader.load(options, password))
    return EXIT_OK


def _print_demo(result: DemoResult) -> None:
    print(f"Done in {result.seconds:.1f} s: {result.lots} lots with {result.spots} spots, "
          f"{result.drivers} drivers, {result.reservations:,} reservations "
          f"({result.open_reservations} open right now), {result.activity_rows:,} activity rows, "
          f"revenue {result.revenue_total:,.2f}.")
    if result.shifts:
        print(f"Money: {result.shifts} shifts of the last two weeks (the one running now is "
              f"open), {result.payments:,} payments with their receipts.")
    print()
    print(f"Demo sign-ins (every demo account's password: {result.password})")
    print_table(["Username", "Role", "E-mail"],
                [[s.username, s.role, s.email or ""] for s in result.sign_ins])
    listed = sum(1 for s in result.sign_ins if s.role == "driver")
    if result.drivers > listed:
        print(f"... and {result.drivers - listed:,} more drivers with the same password.")


# --- users -------------------------------------------------------------------------------------
def _user_add(args: argparse.Namespace, app_factory: AppFactory) -> int:
    password = _read_password()
    app = app_factory()
    user = app.users.create(SYSTEM, username=args.username, password=password, role=args.role,
                            email=args.email, full_name=args.full_name or "")
    extra = f" <{user.email}>" if user.email else ""
    print(f"Created {user.role.value} '{user.username}'{extra} (id {user.id}).")
    return EXIT_OK


def _read_password() -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise CommandError(
            f"No password: set {PASSWORD_ENV} or run this in a terminal to type it."
        )
    first = getpass.getpass("Password: ")
    validation.password(first)
    if getpass.getpass("Repeat the password: ") != first:
        raise CommandError("The two passwords differ; nothing was created.")
    return first


# --- lots and parking -------------------------------------------------------------------------
def _lots(args: argparse.Namespace, app_factory: AppFactory) -> int:
    # The cached list, else two SELECTs over the plain DB-API (services/cache/peek.py):
    # neither loads SQLAlchemy or the models (most of this command's time). The App only for
    # what they leave to it (a new database, a schema to upgrade, ...).
    from parking_desktop.config import load_settings
    from parking_desktop.services.cache.peek import quick_lot_list

    settings = load_settings(data_dir=args.data_dir, database_url=args.db)
    lots = quick_lot_list(settings)
    if lots is None:
        lots = app_factory().lots.search()
    if args.json:
        print_json(lots_document(lots))
        return EXIT_OK
    if not lots:
        print("No parking lots yet.")
        return EXIT_OK
    print_table(
        ["Lot", "Address", "Pin", "Price/h", "Free", "Reserved", "Occupied", "Total"],
        [[lot.name, lot.address, lot.pin_code, lot.price_per_hour, lot.available, lot.reserved,
          lot.occupied, lot.number_of_spots] for lot in lots],
    )
    return EXIT_OK


def lots_document(lots: list[LotView]) -> list[dict[str, Any]]:
    """What `lots --json` prints for ``lots``."""
    return [
        {"id": lot.id, "name": lot.name, "address": lot.address, "pin_code": lot.pin_code,
         "price_per_hour": lot.price_per_hour, "free": lot.available,
         "total": lot.number_of_spots, "reserved": lot.reserved, "occupied": lot.occupied,
         "tariff": lot.tariff}
        for lot in lots
    ]


def _park(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    plate = validation.normalise_vehicle(args.vehicle)  # bad plate: refused before any lookup
    lot = app.lots.find_by_name(args.lot)
    driver_id = (None if args.user is None
                 else app.users.find_by_username(SYSTEM, args.user).id)
    booking = app.parking.check_in(SYSTEM, lot.id, plate, driver_id=driver_id)
    if args.json:
        print_json({"reservation_id": booking.id, "lot": booking.lot_name,
                    "spot": booking.spot_number, "vehicle": booking.vehicle_number,
                    "user": booking.username, "parked_at": booking.parked_at})
        return EXIT_OK
    tz = app.settings.tz
    who = f" for {booking.username}" if booking.username else ""
    print(f"Vehicle {booking.vehicle_number}{who} parked at {booking.lot_name}, spot "
          f"{booking.spot_number}, since {_local(booking.parked_at, tz)} "
          f"(reservation {booking.id}, {booking.price_per_hour}/h).")
    return EXIT_OK


def _release(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.domain.money import PaymentMethod
    from parking_desktop.services.money.views import PaymentRequest

    method = PaymentMethod(args.method)
    if method is PaymentMethod.WAIVED and not args.reason:
        raise CommandError("--method waived needs --reason (why it is free).")
    code = ReasonCode(args.reason_code) if args.reason_code else (
        ReasonCode.ADMINISTRATIVE if args.reason else None)
    app = app_factory()
    receipt = app.money.check_out(SYSTEM, args.vehicle, PaymentRequest(
        method=method, reason_code=code, reason_text=args.reason or ""))
    payment = receipt.payment
    assert payment is not None
    if args.json:
        print_json({"reservation_id": receipt.reservation_id, "lot": receipt.lot_name,
                    "spot": receipt.spot_number, "vehicle": receipt.vehicle_number,
                    "parked_at": receipt.parked_at, "left_at": receipt.left_at,
                    "hours": receipt.hours, "price_per_hour": receipt.price_per_hour,
                    "cost": receipt.cost, "currency": payment.currency,
                    "receipt_number": payment.receipt_number, "payment": payment,
                    # Why the fee is what it is (docs/tariffs.md): the tariff's lines and
                    # their total (the fee before any discount or waiver).
                    "lines": [{"text": line.text, "amount": line.amount}
                              for line in receipt.lines],
                    "total": sum((line.amount for line in receipt.lines), Decimal("0.00")),
                    "tariff_version_id": receipt.tariff_version_id})
        return EXIT_OK
    tz = app.settings.tz
    print(f"Vehicle {receipt.vehicle_number} left {receipt.lot_name}, spot {receipt.spot_number}: "
          f"{_local(receipt.parked_at, tz)} to {_local(receipt.left_at, tz)}, "
          f"{_hours(receipt.hours)} h at {receipt.price_per_hour}/h, fee "
          f"{app.money.format(receipt.cost)} ({payment.method.value}, receipt "
          f"{payment.receipt_number}; reservation {receipt.reservation_id}).")
    for line in receipt.lines:  # the tariff's explanation of the fee
        print(f"  {line.text} … {app.money.format(line.amount, payment.currency)}")
    return EXIT_OK


# --- statistics and activity ------------------------------------------------------------------
def _stats(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    if args.timings:
        from parking_desktop.cli.cache_commands import print_timings

        return print_timings(app, as_json=args.json)
    tz = app.settings.tz
    if args.user is not None:
        user = app.users.find_by_username(SYSTEM, args.user)
        summary = app.stats.driver_summary(SYSTEM, user.id)
        if args.json:
            print_json(summary)
            return EXIT_OK
        print(f"{summary.username}: {summary.bookings} bookings, {summary.total_spent} spent, "
              f"{summary.hours_parked} hours parked, most used lot: "
              f"{summary.most_used_lot or '-'}.")
        _print_reservations(summary.recent, tz)
        return EXIT_OK
    stats = app.stats.dashboard(SYSTEM)
    if args.json:
        print_json(stats)
        return EXIT_OK
    print_table(["Figure", "Value"], [
        ["Lots", stats.lots],
        ["Spots", f"{stats.spots} ({stats.available} available, {stats.reserved} reserved, "
                  f"{stats.occupied} occupied)"],
        ["Occupancy", f"{stats.occupancy_pct:.1f} %"],
        ["Active drivers", f"{stats.drivers:,}"],
        ["Reservations", f"{stats.reservations_total:,} ({stats.reservations_active} open)"],
        ["Revenue", f"{stats.revenue_total:,.2f} in total, {stats.revenue_month:,.2f} this month"],
    ])
    if stats.per_lot:
        print()
        print_table(["Lot", "Available", "Reserved", "Occupied"],
                    [[p.name, p.available, p.reserved, p.occupied] for p in stats.per_lot])
    if stats.recent:
        print()
        _print_reservations(stats.recent, tz)
    return EXIT_OK


def _print_reservations(items: list[Any], tz: Any) -> None:
    if not items:
        print("No bookings yet.")
        return
    print_table(
        ["Reserved", "Lot", "Spot", "Vehicle", "Driver", "Status", "Cost"],
        [[_local(r.reserved_at, tz), r.lot_name, r.spot_number, r.vehicle_number,
          r.username or "walk-in", r.status, "" if r.cost is None else r.cost] for r in items],
    )


def _activity(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    user = app.users.find_by_username(SYSTEM, args.user)
    page = app.activity.history(SYSTEM, user_id=user.id, activity_type=args.type,
                                limit=args.limit)
    if args.type and args.type not in KNOWN_TYPES and page.total == 0:
        raise CommandError(f"Activity type '{args.type}' is not known; choose one of "
                           f"{', '.join(KNOWN_TYPES)}.")
    if args.json:
        print_json({"user": user.username, "user_id": user.id, "type": args.type,
                    "total": page.total, "items": page.items})
        return EXIT_OK
    if not page.items:
        kind = f" of type {args.type}" if args.type else ""
        print(f"No activity{kind} for {user.username}.")
        return EXIT_OK
    tz = app.settings.tz
    print_table(["When", "Type", "Details"],
                [[_local(a.timestamp, tz), a.activity_type, _details(a.activity_data)]
                 for a in page.items])
    if page.total > len(page.items):
        print(f"(latest {len(page.items)} of {page.total:,}; use --limit to see more)")
    return EXIT_OK


# --- formatting --------------------------------------------------------------------------------
def _local(moment: datetime | None, tz: Any) -> str:
    return "" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _hours(hours: Decimal) -> str:
    return f"{hours:.2f}"


def _details(data: dict[str, Any]) -> str:
    shown = {k: v for k, v in data.items() if v not in (None, "", {}) and k != "for_user_id"}
    text = ", ".join(f"{k}={v}" for k, v in shown.items())
    return text if len(text) <= 110 else text[:107] + "..."
