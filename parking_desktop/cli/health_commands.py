"""`health [--deep] [--json]`: exit 0 when the database is reachable, current and intact and
the folders writable; 1 otherwise. Warnings (WARN) do not change the exit code."""

from __future__ import annotations

import argparse
from typing import Any

from parking_desktop.cli.base import EXIT_OK, EXIT_REFUSED, AppFactory, print_json, print_table
from parking_desktop.config import load_settings


def register(sub: Any) -> None:
    health = sub.add_parser("health", help="database reachable, schema current, folders "
                                           "writable; exit 0 when healthy")
    health.add_argument("--deep", action="store_true",
                        help="SQLite: full integrity_check instead of quick_check (slower)")
    health.add_argument("--json", action="store_true")
    health.set_defaults(func=_health)


def _health(args: argparse.Namespace, app_factory: AppFactory) -> int:
    # Not through app_factory: that would create folders and migrate, hiding the problems.
    from parking_desktop.services.health import check_health

    settings = load_settings(data_dir=args.data_dir, database_url=args.db)
    report = check_health(settings, deep=args.deep)
    if args.json:
        print_json({"healthy": report.healthy, "warnings": report.warnings,
                    "checks": report.checks})
    else:
        print_table(["Check", "", "Detail"],
                    [[c.name, "FAIL" if not c.ok else "WARN" if c.warning else "ok", c.detail]
                     for c in report.checks])
        noted = f" ({report.warnings} warning{'s' if report.warnings > 1 else ''})" \
            if report.warnings else ""
        print(("Healthy" if report.healthy else "NOT healthy") + noted + ".")
    return EXIT_OK if report.healthy else EXIT_REFUSED
