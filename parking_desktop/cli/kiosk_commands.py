"""`kiosk status [--json]`: this machine's kiosk id, whether its running kiosk reaches the
database, its last heartbeat, its offline journal's size and its last sync. `sync [--json]`:
send this machine's offline journal now (the running kiosk does it by itself when it is back
online; this is for a kiosk that was closed with operations waiting, or to see the outcome).

Read from the data folder only (``kiosk-status.json``, written by the running kiosk), never
from the database: it must answer while the database is away, which is when it is asked."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from parking_desktop.cli.base import EXIT_OK, EXIT_REFUSED, AppFactory, CommandError, print_json


def register_under(kiosk_sub: Any) -> None:
    """Called by app_commands with the `kiosk` command's subparsers."""
    status = kiosk_sub.add_parser("status", help="this kiosk's connection state and journal")
    status.add_argument("--json", action="store_true", help="one JSON document")
    # Not a long-running command, although it is under `kiosk` (cli/main.py reads this).
    status.set_defaults(func=_status, one_shot=True)


def register_sync(sub: Any) -> None:
    """Called by app_commands with the top-level subparsers."""
    sync = sub.add_parser("sync", help="send this kiosk's offline journal to the database now")
    sync.add_argument("--json", action="store_true", help="one JSON document")
    sync.set_defaults(func=_sync)


def _sync(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.adapters.kiosk_journal import JOURNAL_FILE, JournalError
    from parking_desktop.config import load_settings
    from parking_desktop.services.kiosks.identity import read_kiosk_id
    from parking_desktop.services.kiosks.journal import OfflineDesk
    from parking_desktop.services.kiosks.picture import take_picture
    from parking_desktop.services.kiosks.replay import ReplayService
    from parking_desktop.services.kiosks.syncing import KioskSync

    settings = load_settings(data_dir=args.data_dir, database_url=args.db)
    kiosk_id = read_kiosk_id(settings.data_dir)
    if kiosk_id is None or not (settings.data_dir / JOURNAL_FILE).exists():
        message = f"No kiosk journal in {settings.data_dir}: nothing to send."
        if args.json:
            print_json({"sent": 0, "waiting": 0, "error": "", "note": message})
        else:
            print(message)
        return EXIT_OK
    app = app_factory()  # the database must answer (a one-line error otherwise)
    try:
        desk = OfflineDesk(settings.data_dir, kiosk_id, app.ctx.clock)
    except JournalError as exc:
        raise CommandError(str(exc)) from None
    try:
        sync = KioskSync(
            desk, ReplayService(app.ctx, app.parking.payments).apply, lambda: take_picture(app.ctx)
        )
        report = sync.sync_now()
    finally:
        desk.close()
    if args.json:
        print_json(report.as_json())
        return EXIT_OK if report.ok else EXIT_REFUSED
    for line in report.conflicts:
        print(f"needs a manager: {line}")
    if not report.ok:
        raise CommandError(report.line())
    print(f"{app.db.description}: {report.line()}.")
    return EXIT_OK


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "never"


def _status(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.config import load_settings
    from parking_desktop.services.kiosks.status import kiosk_status

    settings = load_settings(data_dir=args.data_dir, database_url=args.db)
    status = kiosk_status(settings.data_dir, datetime.now(UTC))
    if args.json:
        print_json(status.as_json())
        return EXIT_OK
    state = status.state
    if state == "offline" and status.offline_since is not None:
        state = f"offline since {_local(status.offline_since)}"
    lines = [
        ("Kiosk id", status.kiosk_id or "none yet (no kiosk has run with this data folder)"),
        ("State", state),
        ("Last heartbeat", _local(status.last_heartbeat)),
        ("Journal", f"{status.journal_size} operation(s) waiting to be sent"),
        (
            "Last sync",
            _local(status.last_sync)
            + (f" ({status.last_sync_result})" if status.last_sync_result else ""),
        ),
    ]
    if status.problem and status.state == "offline":
        lines.append(("Why", status.problem))
    for label, value in lines:
        print(f"{label + ':':<16}{value}")
    return EXIT_OK
