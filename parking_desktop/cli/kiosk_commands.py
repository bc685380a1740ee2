"""`kiosk status [--json]`: this machine's kiosk id, whether its running kiosk reaches the
database, its last heartbeat and its offline journal's size.

Read from the data folder only (``kiosk-status.json``, written by the running kiosk), never
from the database: it must answer while the database is away, which is when it is asked."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from parking_desktop.cli.base import EXIT_OK, AppFactory, print_json


def register_under(kiosk_sub: Any) -> None:
    """Called by app_commands with the `kiosk` command's subparsers."""
    status = kiosk_sub.add_parser("status", help="this kiosk's connection state and journal")
    status.add_argument("--json", action="store_true", help="one JSON document")
    # Not a long-running command, although it is under `kiosk` (cli/main.py reads this).
    status.set_defaults(func=_status, one_shot=True)


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
    ]
    if status.problem and status.state == "offline":
        lines.append(("Why", status.problem))
    for label, value in lines:
        print(f"{label + ':':<16}{value}")
    return EXIT_OK
