"""Privacy commands: a driver's data, their erasure, and the retention limits.

    main.py user prefs --username U [--reminders on|off] [--reports on|off]
    main.py user unsubscribe --from FILE               apply unsubscribe requests ('-': stdin)
    main.py user data --username U --out FILE.zip     the driver's data bundle (JSON + CSV)
    main.py user erase --username U                    erase a driver (pseudonym, no trace)
    main.py retention run [--json]                     apply the RETAIN_* limits now

They act as the SYSTEM actor, like the other administration commands (recorded with the
operator's name). ``user`` actions are registered on the ``user`` group of core_commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from parking_desktop.cli.base import EXIT_OK, AppFactory, CommandError, print_json, text_value
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.files import UnsafePathError, check_file_target


def register(sub: Any) -> None:
    retention = sub.add_parser("retention", help="apply the retention limits (RETAIN_*)")
    actions = retention.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run",
        help="mask old vehicle numbers, delete old activity, mail "
        "bodies and export records now, as the settings say",
    )
    run.add_argument("--json", action="store_true", help="print the counts as JSON")
    run.set_defaults(func=_retention_run)


def _on_off(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"must be on or off, not '{raw[:20]}'")
    return value == "on"


def register_user_actions(user_sub: Any) -> None:
    """The ``user`` group's privacy actions (the group itself is core_commands')."""
    prefs = user_sub.add_parser("prefs", help="a driver's mail preferences: show or change")
    prefs.add_argument("--username", required=True, type=text_value)
    prefs.add_argument("--reminders", type=_on_off, metavar="on|off")
    prefs.add_argument("--reports", type=_on_off, metavar="on|off")
    prefs.add_argument("--json", action="store_true")
    prefs.set_defaults(func=_user_prefs)
    unsubscribe = user_sub.add_parser(
        "unsubscribe",
        help="apply unsubscribe requests: every driver whose address is in the "
        "file gets no more reminders or reports",
    )
    unsubscribe.add_argument(
        "--from",
        dest="source",
        required=True,
        type=text_value,
        metavar="FILE",
        help="the requests (any text with the addresses; '-' reads standard input)",
    )
    unsubscribe.add_argument("--json", action="store_true")
    unsubscribe.set_defaults(func=_user_unsubscribe)
    data = user_sub.add_parser("data", help="a driver's data as a ZIP (JSON + CSV files)")
    data.add_argument("--username", required=True, type=text_value)
    data.add_argument("--out", required=True, type=Path, metavar="FILE.zip")
    data.set_defaults(func=_user_data)
    erase = user_sub.add_parser(
        "erase",
        help="erase a driver: the account becomes a pseudonym, their plates, activity and mail go",
    )
    erase.add_argument("--username", required=True, type=text_value)
    erase.add_argument("--json", action="store_true")
    erase.set_defaults(func=_user_erase)


def _user_prefs(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    user = app.users.find_by_username(SYSTEM, args.username)
    if args.reminders is None and args.reports is None:
        view = app.mail_preferences.get(SYSTEM, user.id)
    else:
        view = app.mail_preferences.set(
            SYSTEM, user.id, reminders=args.reminders, reports=args.reports, source="cli"
        )
    if args.json:
        print_json(
            {"username": view.username, "reminders": view.reminders, "reports": view.reports}
        )
    else:
        word = {True: "on", False: "off"}
        print(
            f"{view.username}: reminders {word[view.reminders]}, "
            f"monthly reports {word[view.reports]}."
        )
    return EXIT_OK


def _user_unsubscribe(args: argparse.Namespace, app_factory: AppFactory) -> int:
    import sys

    if args.source == "-":
        text = sys.stdin.read()
    else:
        path = Path(args.source).expanduser()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise CommandError(f"{path} cannot be read: {exc.strerror or exc}") from None
    app = app_factory()
    result = app.mail_preferences.apply_unsubscribe_requests(SYSTEM, text)
    if args.json:
        print_json(result)
    else:
        print(result.text())
    return EXIT_OK


def _retention_run(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.services.privacy.retention import RetentionPolicy, RetentionService

    app = app_factory()
    summary = RetentionService(app.ctx, RetentionPolicy.from_settings(app.settings)).run(SYSTEM)
    if args.json:
        print_json(summary.as_counts())
    else:
        print(summary.text())
    return EXIT_OK


def _user_data(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.services.exports.scope import ExportScope

    out: Path = args.out.expanduser()
    if not out.parent.is_dir():
        raise CommandError(f"the folder {out.parent} does not exist")
    try:
        check_file_target(out)
    except UnsafePathError as exc:
        raise CommandError(f"{exc} Give the name of a regular file (or a new one).") from None
    app = app_factory()
    user = app.users.find_by_username(SYSTEM, args.username)
    job_id = app.exports.request(SYSTEM, ExportScope.data(user.id), start=False)
    view = app.exports.run_to(SYSTEM, job_id, out)
    if view.status != "completed":
        raise CommandError(view.error_message or f"the export ended as {view.status}")
    print(f"Wrote the data of {user.username} ({view.row_count} rows) to {out}.")
    return EXIT_OK


def _user_erase(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    user = app.users.find_by_username(SYSTEM, args.username)
    result = app.erasure.erase(SYSTEM, user.id)
    if args.json:
        print_json(result)
    else:
        print(
            f"Erased {args.username}: now {result.pseudonym}; {result.reservations} "
            f"reservations kept without plate, {result.activity_deleted} activity entries "
            f"and {result.mails_deleted} mails deleted, {result.files_deleted} export files "
            "removed."
        )
        if result.payments_kept:
            print(
                f"{result.payments_kept} payments recorded before drivers' own payments stopped "
                "naming them still do: accounting records, kept unchanged (docs/privacy.md)."
            )
    return EXIT_OK
