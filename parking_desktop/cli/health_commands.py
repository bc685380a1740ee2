"""`health [--json]`: exit 0 when the database is reachable, the schema current and the
folders writable; 1 otherwise."""

from __future__ import annotations

import argparse
from typing import Any

from parking_desktop.cli.base import EXIT_OK, EXIT_REFUSED, AppFactory, print_json, print_table
from parking_desktop.config import load_settings
from parking_desktop.services.health import check_health


def register(sub: Any) -> None:
    health = sub.add_parser("health", help="database reachable, schema current, folders "
                                           "writable; exit 0 when healthy")
    health.add_argument("--json", action="store_true")
    health.set_defaults(func=_health)


def _health(args: argparse.Namespace, app_factory: AppFactory) -> int:
    # Not through app_factory: that would create folders and migrate, hiding the problems.
    settings = load_settings(data_dir=args.data_dir, database_url=args.db)
    report = check_health(settings)
    if args.json:
        print_json({"healthy": report.healthy, "checks": report.checks})
    else:
        print_table(["Check", "", "Detail"],
                    [[c.name, "ok" if c.ok else "FAIL", c.detail] for c in report.checks])
        print("Healthy." if report.healthy else "NOT healthy.")
    return EXIT_OK if report.healthy else EXIT_REFUSED
